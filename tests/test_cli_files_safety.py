"""What the command writes is never lost at the edges (issue 26, defects 1, 5, 9, 17, 18):
devices and FIFOs are written into as streams, never replaced; an explicit --out never moves,
even when another run takes it meanwhile; a full disk leaves nothing half-written; a numbered
run's files carry its folder's name; `graph` and `sweep` write under runs/ and say where."""

from __future__ import annotations

import errno
import os
import resource
import signal
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import assert_error, command, command_env, error_line, one_error, read_json, run
from cli_helpers import installed as run_installed

from micrograd import plots
from micrograd.cli import train as train_command
from micrograd.files import write_atomic
from micrograd.sweep import Store

Capsys = pytest.CaptureFixture[str]
SMALL = ["--samples", "60", "--epochs", "15"]
# Slow enough (about 2 s of training) to be stopped while it trains.
SLOW = ["--samples", "100", "--epochs", "40", "--mode", "per-sample", "--no-plots"]
GRID = ["--grid", "lr=0.1,1", "epochs=5", "samples=40", "--seeds", "1", "--workers", "1"]


def installed(
    args: list[str], cwd: Path, *, limit: int | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`micrograd ARGS` run in `cwd`; with `limit`, no file it writes may grow past `limit`
    bytes (a write beyond fails with EFBIG, as a full disk fails one with ENOSPC)."""

    def cap_file_size() -> None:
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a kill
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**command_env(), "PYTHONDONTWRITEBYTECODE": "1"}
    return run_installed(args, cwd, timeout=timeout, env=env, preexec_fn=cap_file_size)


class FifoReader:
    """A reader of the named pipe `path` (made here) in a thread, as `cat PATH` would be."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as f:
            self.data = f.read()

    def text(self, timeout: float = 60) -> str:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"nothing was written into the pipe {self.path}"
        return self.data.decode("utf-8")


@pytest.fixture(autouse=True)
def devices_survive() -> Iterator[None]:
    """A command that replaced /dev/null or /dev/full by a file (as root, before this was
    fixed) would break every other program on the machine: put the device back, then fail."""
    kept = {name: os.stat(name) for name in ("/dev/null", "/dev/full")}
    yield
    for name, before in kept.items():
        now = os.lstat(name)
        if stat.S_ISCHR(now.st_mode) and now.st_rdev == before.st_rdev:
            continue
        os.unlink(name)
        os.mknod(name, stat.S_IFCHR | 0o666, before.st_rdev)
        os.chmod(name, 0o666)
        pytest.fail(f"{name} was replaced by a file (put back as the device it was)")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    assert run(["train", *SMALL, "--no-plots", "--quiet", "--out", str(folder / "run")]) == 0
    return folder / "run" / "model.json"


def predict_one(model: Path, output: str) -> list[str]:
    return ["predict", "--model", str(model), "--input", "0.5,0.2", "--output", output]


# -- 1. devices and FIFOs are streams, never replaced -----------------------------------------


def test_predict_into_dev_full_says_the_disk_is_full_and_keeps_the_device(
    tmp_path: Path, model: Path
) -> None:
    done = installed(predict_one(model, "/dev/full"), tmp_path)
    line = one_error(done, "/dev/full", "No space left on device")
    assert "wrote" not in done.stdout, line
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # still the device, not a file
    assert list(tmp_path.iterdir()) == []


def test_predict_into_dev_null_is_a_stream(tmp_path: Path, model: Path) -> None:
    done = installed(predict_one(model, "/dev/null"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote 1 prediction to /dev/null" in done.stdout
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_predict_into_dev_stdout_leaves_stdout_holding_only_the_predictions(
    tmp_path: Path, model: Path
) -> None:
    """Regression: "wrote 1 prediction to /dev/stdout" followed the CSV on stdout."""
    done = installed(predict_one(model, "/dev/stdout"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "x1,x2,output,class"
    assert len(done.stdout.splitlines()) == 2  # the header and the one prediction
    assert "wrote 1 prediction to /dev/stdout" in done.stderr


def test_predict_into_a_fifo_streams_the_csv(tmp_path: Path, model: Path) -> None:
    pipe = FifoReader(tmp_path / "pipe")
    done = installed(predict_one(model, "pipe"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert pipe.text().splitlines()[0] == "x1,x2,output,class"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary file left


def test_graph_into_a_fifo_streams_the_svg(tmp_path: Path) -> None:
    pipe = FifoReader(tmp_path / "g.svg")
    done = installed(["graph", "a*b", "a=2", "b=3", "--out", "g", "--engine", "builtin"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert pipe.text().rstrip().endswith("</svg>")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "g.svg").st_mode)
    assert (tmp_path / "g.dot").is_file() and (tmp_path / "g.html").is_file()


def test_graph_never_removes_a_fifo_where_no_png_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "g.png")
    assert run(["graph", "a*b", "a=2", "b=3", "--out", "g", "--engine", "builtin", "--quiet"]) == 0
    assert stat.S_ISFIFO(os.lstat(tmp_path / "g.png").st_mode)


def test_sweep_writes_under_runs_and_show_streams_into_fifos(tmp_path: Path) -> None:
    # 18: no --db: the database and its pictures go under runs/, like a run, and it says so
    done = installed(["sweep", *GRID], tmp_path)
    assert done.returncode == 0, done.stderr
    db = Path("runs") / "sweep.db"
    assert (
        f"storing in {db}" in done.stdout
        and f"wrote {Path('runs') / 'sweep-plots'}/" in done.stdout
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    assert {"sweep.db", "sweep-plots"} <= {p.name for p in (tmp_path / "runs").iterdir()}
    # 1: the exports go into FIFOs as streams
    csv_pipe, json_pipe = FifoReader(tmp_path / "c"), FifoReader(tmp_path / "j")
    shown = installed(
        ["sweep", "show", str(db), "--csv", "c", "--json", "j", "--no-plots"], tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    assert csv_pipe.text().startswith("rank,")
    assert '"settings"' in json_pipe.text()
    assert all(stat.S_ISFIFO(os.lstat(tmp_path / n).st_mode) for n in ("c", "j"))


def test_write_atomic_streams_into_devices_and_fifos_and_through_links(tmp_path: Path) -> None:
    pipe = FifoReader(tmp_path / "pipe")
    write_atomic(tmp_path / "pipe", b"through the pipe\n")
    assert pipe.text() == "through the pipe\n"
    with pytest.raises(OSError, match="No space left on device") as full:
        write_atomic(Path("/dev/full"), b"x" * 100)
    assert full.value.errno == errno.ENOSPC and full.value.filename == "/dev/full"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    # A link is written where it leads, not replaced by a file of its own.
    (tmp_path / "kept").write_text("old")
    (tmp_path / "link").symlink_to("kept")
    write_atomic(tmp_path / "link", b"new")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "kept").read_text() == "new"
    # A regular file is still replaced whole, leaving no temporary file.
    write_atomic(tmp_path / "plain", b"1")
    write_atomic(tmp_path / "plain", b"2")
    assert (tmp_path / "plain").read_bytes() == b"2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "link", "pipe", "plain"]


# -- 5. an explicit --out never moves ----------------------------------------------------------


def test_the_loser_of_a_race_for_an_explicit_out_is_refused_not_renamed(tmp_path: Path) -> None:
    first = subprocess.Popen(
        [command(), "train", *SLOW, "--seed", "1", "--out", "x"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(),
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline().startswith("training")  # past the check of --out x
        first.send_signal(signal.SIGSTOP)  # paused while it trains
        second = installed(["train", *SMALL, "--seed", "2", "--out", "x", "--quiet"], tmp_path)
        assert second.returncode == 0, second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 2, (out, err)
    error_line(err, "--out x already holds files", "--force")
    assert read_json(tmp_path / "x" / "run.json")["config"]["seed"] == 2  # the winner's run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]  # no x-2, no staging folder


def test_an_explicit_out_taken_while_training_is_refused_in_process(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = train_command.train
    target = tmp_path / "x"

    def another_run_lands_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        target.mkdir()
        (target / "model.json").write_text("{}")
        return result

    monkeypatch.setattr(train_command, "train", another_run_lands_meanwhile)
    assert_error(
        ["train", *SMALL, "--out", str(target), "--quiet"], capsys, f"--out {target} already"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]
    assert (target / "model.json").read_text() == "{}"


# -- 17. a numbered run is named after its folder ------------------------------------------------


def test_a_numbered_run_carries_its_folders_name(tmp_path: Path) -> None:
    for _ in range(2):
        done = installed(["train", *SMALL, "--no-plots", "--quiet"], tmp_path)
        assert done.returncode == 0, done.stderr
    runs = tmp_path / "runs"
    assert read_json(runs / "moons-relu-seed0" / "run.json")["name"] == "moons-relu-seed0"
    assert read_json(runs / "moons-relu-seed0-2" / "run.json")["name"] == "moons-relu-seed0-2"


def test_a_numbered_run_taken_while_written_is_rewritten_under_the_next_name(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    titles: list[str] = []
    real_curves = plots.plot_curves
    real_write = train_command._save_run
    other = tmp_path / "runs" / "moons-relu-seed0"

    def curves(*args: Any, **kwargs: Any) -> Path:
        titles.append(kwargs["title"])
        return real_curves(*args, **kwargs)

    def another_run_lands_meanwhile(*args: Any) -> dict[str, Any]:
        if not other.exists():
            other.mkdir()
            (other / "model.json").write_text("{}")
        return real_write(*args)

    monkeypatch.setattr(plots, "plot_curves", curves)
    monkeypatch.setattr(train_command, "_save_run", another_run_lands_meanwhile)
    assert run(["train", *SMALL]) == 0
    out = capsys.readouterr().out
    placed = tmp_path / "runs" / "moons-relu-seed0-2"
    assert read_json(placed / "run.json")["name"] == "moons-relu-seed0-2"
    assert titles[-1].startswith("moons-relu-seed0-2: ")
    assert "moons-relu-seed0-2" in out
    assert (other / "model.json").read_text() == "{}"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "moons-relu-seed0",
        "moons-relu-seed0-2",
    ]


# -- 9. a full disk leaves nothing half-written --------------------------------------------------


def test_a_sweep_on_a_full_disk_leaves_no_database_and_can_be_retried(tmp_path: Path) -> None:
    argv = ["sweep", *GRID, "--db", "s.db", "--no-plots"]
    done = installed(argv, tmp_path, limit=4096)
    line = one_error(done, "s.db")
    assert "Traceback" not in done.stderr, line
    assert list(tmp_path.iterdir()) == []  # no empty database blocking the retry
    again = installed(argv, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "2 of 2 runs stored in s.db" in again.stdout


def test_workshop_start_on_a_full_disk_leaves_nothing_and_can_be_retried(tmp_path: Path) -> None:
    done = installed(["workshop", "start", "ws"], tmp_path, limit=4096)
    one_error(done, "ws")
    assert list(tmp_path.iterdir()) == []  # not even an empty value.py
    again = installed(["workshop", "start", "ws"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == [
        "WORKSHOP.md",
        "mlp.py",
        "value.py",
    ]


def dead_pid() -> int:
    """The id of a process that has finished (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_what_a_killed_writer_left_is_removed_when_its_target_is_next_written(
    tmp_path: Path,
) -> None:
    """A SIGKILL while a sweep database (or any file) was written leaves its hidden temporary
    file, named after the dead process: the next write of that target removes it, never one
    that a running process is writing."""
    dead, alive = dead_pid(), os.getpid()
    left = [f".s.db.{dead}-0123456789ab.tmp{suffix}" for suffix in ("", "-wal", "-shm")]
    busy = f".s.db.{alive}-0123456789ab.tmp"
    for name in [*left, busy]:
        (tmp_path / name).write_bytes(b"half a database")
    done = installed(["sweep", *GRID, "--db", "s.db", "--no-plots", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([busy, "s.db"])
    workshop = tmp_path / "ws"
    workshop.mkdir()
    (workshop / f".value.py.{dead}-0123456789ab.tmp").write_text("half a value.py")
    done = installed(["workshop", "start", "ws"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in workshop.iterdir()) == ["WORKSHOP.md", "mlp.py", "value.py"]


def test_a_full_disk_mid_sweep_is_one_line_and_the_stored_runs_resume(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.db"
    real = Store._add
    added: list[str] = []

    def full_after_one(self: Store, record: Any) -> bool:
        if added:
            raise sqlite3.OperationalError("database or disk is full")
        added.append(record.key)
        return real(self, record)

    monkeypatch.setattr(Store, "_add", full_after_one)
    assert_error(["sweep", *GRID, "--db", str(db), "--no-plots"], capsys, str(db), "disk is full")
    monkeypatch.setattr(Store, "_add", real)
    assert run(["sweep", "--resume", str(db), "--no-plots", "--workers", "1"]) == 0
    assert "2 of 2 runs stored" in capsys.readouterr().out


def test_workshop_start_that_fails_midway_removes_what_it_wrote(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from micrograd.workshop import starter

    real = starter.write_new

    def full_at_the_second(path: Path, data: bytes) -> None:
        if path.name == "mlp.py":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(starter, "write_new", full_at_the_second)
    folder = tmp_path / "ws"
    assert_error(["workshop", "start", str(folder)], capsys, "mlp.py", "No space left")
    assert list(tmp_path.iterdir()) == []
    folder.mkdir()  # a folder that was there stays, empty again
    assert_error(["workshop", "start", str(folder)], capsys, "No space left")
    assert list(folder.iterdir()) == []
