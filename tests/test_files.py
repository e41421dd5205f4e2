"""Files are written whole or not at all, and an error names the user's path, never a temporary
file (`micrograd.files`)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from micrograd.files import replacing, write_atomic


def test_write_atomic_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_full_disk_keeps_the_old_file_and_names_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.txt"
    write_atomic(path, b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as caught:
        write_atomic(path, b"new")
    monkeypatch.undo()
    assert caught.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_an_error_about_the_temporary_file_names_the_target(tmp_path: Path) -> None:
    path = tmp_path / "picture.png"
    with pytest.raises(PermissionError) as caught, replacing(path) as tmp:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp))
    assert caught.value.filename == str(path)
    assert ".tmp" not in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_an_unwritable_folder_names_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def refuse(file: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT:  # as in a folder without write permission (even for root)
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError) as caught:
        write_atomic(tmp_path / "a.txt", b"x")
    assert caught.value.filename == str(tmp_path / "a.txt")


def test_an_exception_in_the_block_removes_the_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"

    def fail(tmp: Path) -> Any:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), replacing(path) as tmp:
        fail(tmp)
    assert os.listdir(tmp_path) == []


def test_the_version_is_written_once() -> None:
    from importlib.metadata import version

    import micrograd

    root = Path(__file__).resolve().parent.parent
    assert version("micrograd") == micrograd.__version__
    assert micrograd.__version__ not in (root / "pyproject.toml").read_text(encoding="utf-8")
