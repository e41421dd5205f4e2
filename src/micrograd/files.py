"""Writing a file whole or not at all: a temporary file beside the target, renamed over it.

A reader, a crash or a full disk never leaves half a file under the target's name, and an error
names the target, never the temporary file. Standard library only, so every module may use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["replacing", "write_atomic"]


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
    """`error` about `tmp` retold about `path`, the name the user gave."""
    if error.filename is None or Path(error.filename) != tmp or error.errno is None:
        return error
    return OSError(error.errno, error.strerror, str(path))  # the subclass follows errno


def _create_beside(path: Path) -> Path:
    """A new empty file with a fresh name in `path`'s folder, created exclusively."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
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
    permissions); when it raises, the temporary file is removed and `path` is untouched."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            f"cannot write {path.name}: the folder {str(folder)!r} does not exist",
            str(path),
        )
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
