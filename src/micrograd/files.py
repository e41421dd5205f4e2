"""Writing a file whole or not at all: a temporary file beside the target, renamed over it.

A reader, a crash or a full disk never leaves half a file under the target's name, and an error
names the target, never the temporary file. Only a regular file (or a missing one) is replaced:
a device, a FIFO, a socket or a link (/dev/null, /dev/stdout, a named pipe) is written into as a
stream, never swapped for a file under its name. A temporary file carries its process's id, so
one left by a killed process is removed the next time its target is written (`temporary_beside`).
Standard library only, so every module may use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "link_new",
    "process_alive",
    "replacing",
    "temporary_beside",
    "write_atomic",
    "write_new",
]


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):  # make a rename itself durable
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _naming(error: OSError, tmp: Path, path: Path) -> OSError:
    """`error` about `tmp` (or about no file: a failed write or flush) retold about `path`,
    the name the user gave."""
    if error.errno is None or (error.filename is not None and Path(error.filename) != tmp):
        return error
    return OSError(error.errno, error.strerror, str(path))  # the subclass follows errno


def _is_stream(path: Path) -> bool:
    """Whether `path` exists and is not a regular file or a folder: a device, a FIFO, a socket,
    or a link (/dev/stdout, a link to a model kept elsewhere), which is written into where it
    leads, never replaced by a file under its name."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (on POSIX; elsewhere every process counts as running)."""
    if os.name != "posix":  # os.kill(pid, 0) is a liveness test only on POSIX
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


def temporary_beside(path: Path) -> Path:
    """A fresh temporary name beside `path`, `.NAME.PID-RANDOM.tmp`; first removes those that
    processes no longer running left there (a SIGKILL mid-write), with SQLite's companions."""
    stale = re.compile(
        rf"^\.{re.escape(path.name)}\.(\d+)-[0-9a-f]{{12}}\.tmp(?:-wal|-shm|-journal)?$"
    )
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            found = stale.match(entry.name)
            if found is not None and not process_alive(int(found.group(1))):
                with contextlib.suppress(OSError):
                    if entry.is_file() and not entry.is_symlink():
                        entry.unlink()
    return path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"


def _existing_folder(path: Path) -> Path:
    """`path`'s folder, or a FileNotFoundError naming it when it does not exist."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            f"cannot write {path.name}: the folder {str(folder)!r} does not exist",
            str(path),
        )
    return folder


def _create_beside(path: Path) -> Path:
    """A new empty file with a fresh name in `path`'s folder, created exclusively."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = temporary_beside(path)
        try:
            os.close(os.open(tmp, flags, 0o666))  # the umask applies, as for any new file
            return tmp
        except FileExistsError:
            continue
        except OSError as e:
            raise _naming(e, tmp, path) from None


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A fresh temporary path beside `path` to write to. When the block ends normally the file
    there is flushed to disk and renamed over `path` in one step (keeping an existing file's
    permissions); when it raises, the temporary file is removed and `path` is untouched.

    A `path` that is a device, a FIFO, a socket or a link is yielded itself, to be written into as a
    stream (nothing to rename, nothing to undo); an error writing it names `path`."""
    if _is_stream(path):
        try:
            yield path
        except OSError as e:
            raise _naming(e, path, path) from None
        return
    folder = _existing_folder(path)
    tmp = _create_beside(path)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _naming(e, tmp, path) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (see `replacing`)."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def link_new(tmp: Path, path: Path) -> None:
    """Give the finished file `tmp` the name `path` too, raising FileExistsError rather than
    replace a file that is there (one another process made meanwhile). `tmp` stays: remove it."""
    try:
        os.link(tmp, path)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise _naming(e, tmp, path) from None
        # A file system without hard links: a rename after a look, the next best thing.
        if path.exists() or path.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(tmp, path)


def write_new(path: Path, data: bytes) -> None:
    """Create `path` holding `data`, whole or not at all, never replacing a file: raises
    FileExistsError when `path` exists, and leaves nothing when the write fails (a full disk)."""
    _existing_folder(path)
    tmp = _create_beside(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        link_new(tmp, path)
    except OSError as e:
        raise _naming(e, tmp, path) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _fsync_folder(path.parent)
