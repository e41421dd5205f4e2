"""One playground session per browser tab: its data, model, optimizer and training thread.

A `Session` is driven by the page's messages (`configure`, `play`, `pause`, `step`, `reset`,
`graph`) and answers through `post`, a thread-safe callable the server gives it. Training runs
in a worker thread, one `fit` call per epoch (so pausing, stepping and changing the
learning rate between epochs need nothing from the loop but its callbacks); a lock keeps the
model still while a frame, a graph or a model file is read from it.

The model's form follows the setup's `mode`: a `BatchedMLP` (arrays, whole batches) for
"batched", an `MLP` (scalar Values, one sample at a time) for "per-sample". Switching the mode
converts the model weight for weight, so training goes on where it was.

What it posts (JSON objects with a `type`):
- `ready`: the data points, the plane drawn, the task, the layer sizes (after each setup);
- `frame`: the epoch, the metric rows since the last frame, the output and neuron pictures and
  the weights (at most `FRAME_RATE` a second while playing; rows are never skipped);
- `state`: playing or not, and why it stopped (last epoch, divergence);
- `graph`: the clicked point's computation graph (SVG from `viz`) with its loss;
- `error`: a message for the page.
"""

from __future__ import annotations

import copy
import math
import random
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..batched import BatchedMLP, Model, batched, per_sample
from ..data import DataError, Dataset, dataset_metadata, load_dataset, train_val_test_split
from ..engine import Value
from ..loop import DEFAULT_LOSS, TASK_LOSSES, Callback, TrainingDiverged, fit, targets_for
from ..losses import LOSSES
from ..nn import MLP
from ..optim import OPTIMIZERS, LRScheduler, Optimizer, make_scheduler
from ..serialization import save
from ..viz import GraphTooLargeError, draw_dot, trace_model
from . import frames
from .messages import MessageError, Setup

__all__ = ["FRAME_RATE", "Session", "SetupError"]

FRAME_RATE = 30.0
_DATA_FIELDS = ("dataset", "csv", "noise", "samples", "test", "seed")
_MODEL_FIELDS = ("layers", "activation")
_TRAIN_FIELDS = (
    "loss",
    "optimizer",
    "lr",
    "schedule",
    "epochs",
    "regularization",
    "reg_rate",
    "batch_size",
    "mode",
)

Post = Callable[[dict[str, Any]], None]


class SetupError(MessageError):
    """A setup that validates field by field but cannot be built (a loss for another task)."""


class _Rows(Callback):
    """Keeps the row of the epoch `fit` just ran."""

    def __init__(self) -> None:
        self.row: dict[str, float] = {}

    def on_epoch_end(self, log: dict[str, float]) -> None:
        self.row = log


def _in_mode(model: Model, mode: str) -> Model:
    """The model in the form `mode` trains: itself, or a converted copy (the same weights)."""
    return batched(model) if mode == "batched" else per_sample(model)


def _metric_row(epoch: int, log: dict[str, float]) -> dict[str, float | None]:
    """fit's row renamed for the page: its validation set is the playground's test set."""
    row: dict[str, float | None] = {"epoch": epoch}
    for key, value in log.items():
        if key in ("epoch", "seconds"):
            continue
        row[key.replace("val_", "test_")] = frames.round_float(value)
    return row


class Session:
    """A tab's playground: configure it, then play, pause, step, reset, ask for graphs."""

    # Set by the first `configure` (every other method needs a setup first).
    _data: tuple[Dataset, Dataset, Dataset]
    _full: Dataset
    _train: Dataset
    _test: Dataset
    _plane: frames.Plane
    _target_range: tuple[float, float]
    _model: Model
    _loss: str
    _optimizer: Optimizer
    _scheduler: LRScheduler

    def __init__(self, post: Post, csv_lookup: Callable[[str], Dataset | None]) -> None:
        self.id = secrets.token_urlsafe(12)
        self._post = post
        self._csv_lookup = csv_lookup
        self._lock = threading.RLock()
        self._setup: Setup | None = None
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._epoch = 0
        self._rng = random.Random(0)
        self.closed = False

    # -- building ---------------------------------------------------------------------------

    def configure(self, setup: Setup) -> None:
        """Apply a setup: rebuild what changed (data, model, or only the optimizer) and post
        `ready` and a frame. Raises `SetupError` (the session keeps its old setup) if the data
        or the loss cannot be built."""
        old = self._setup
        changed = (
            set(Setup.model_fields)
            if old is None
            else {k for k in Setup.model_fields if getattr(old, k) != getattr(setup, k)}
        )
        if not changed and old is not None:
            return
        data = self._load_data(setup) if changed & set(_DATA_FIELDS) else self._data
        task, name = data[0].task, data[0].name
        loss = setup.loss if setup.loss != "auto" else DEFAULT_LOSS[task]
        if loss not in TASK_LOSSES[task]:
            raise SetupError(
                f"loss: {loss} does not fit {name}, a {task} task; choose "
                f"{' or '.join(TASK_LOSSES[task])}, or auto"
            )
        was_playing = self.playing
        self._halt()
        with self._lock:
            self._data = data
            self._full, self._train, self._test = data
            self._plane = frames.Plane.around(self._full.X, self._full.y)
            ys = self._full.y.astype(np.float64)
            self._target_range = (float(ys.min()), float(ys.max()))
            fresh = bool(changed & {*_DATA_FIELDS, *_MODEL_FIELDS})
            self._setup, self._loss = setup, loss
            if fresh:
                self._build_model(setup)
            elif "mode" in changed:
                self._model = _in_mode(self._model, setup.mode)
            if fresh or changed & set(_TRAIN_FIELDS):
                self._build_optimizer()
            self._post(self._ready(fresh))
            self._post(self._frame([]))
        if was_playing:
            self.play()

    def _load_data(self, setup: Setup) -> tuple[Dataset, Dataset, Dataset]:
        """(whole set, train split, test split) for a setup, or `SetupError`."""
        if setup.dataset == "csv":
            if setup.csv is None:
                raise SetupError("dataset: csv needs an uploaded file: choose one to upload")
            found = self._csv_lookup(setup.csv)
            if found is None:
                raise SetupError(
                    f"csv: the uploaded file {setup.csv} is not on this server (it may have "
                    "restarted): upload the file again"
                )
            ds = found
        else:
            try:
                ds = load_dataset(setup.dataset, setup.samples, setup.noise, setup.seed)
            except DataError as e:
                raise SetupError(f"dataset: {e}") from None
        try:
            train, _, test = train_val_test_split(ds, val=0.0, test=setup.test, seed=setup.seed)
        except DataError as e:
            raise SetupError(f"test: {e}") from None
        return ds, train, test

    def _build_model(self, setup: Setup) -> None:
        ds = self._full
        nout = ds.n_classes if ds.task == "multiclass" else 1
        form = BatchedMLP if setup.mode == "batched" else MLP
        self._model = form(
            ds.n_features,
            [*setup.layers, nout],
            activation=setup.activation,
            rng=random.Random(setup.seed),
        )
        self._epoch = 0
        self._rng = random.Random(setup.seed)

    def _build_optimizer(self) -> None:
        s = self._settings
        params = self._model.parameters()
        name = "sgd" if s.optimizer == "momentum" else s.optimizer
        kwargs: dict[str, Any] = {"lr": s.lr}
        if s.optimizer == "momentum":
            kwargs["momentum"] = 0.9
        self._optimizer = OPTIMIZERS[name](params, **kwargs)
        self._scheduler = make_scheduler(s.schedule, self._optimizer, s.epochs)
        # A new optimizer mid-run picks the schedule up where the run is.
        for _ in range(min(self._epoch, s.epochs)):
            self._scheduler.step()

    @property
    def _settings(self) -> Setup:
        if self._setup is None:
            raise MessageError("send a setup first: the session has no data or model yet")
        return self._setup

    # -- training ---------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._worker is not None and self._worker.is_alive() and not self._stop.is_set()

    def play(self) -> None:
        s = self._settings
        if self.playing:
            return
        self._halt()
        if self._posted_last_epoch(s):
            return
        self._stop = threading.Event()
        self._worker = threading.Thread(
            target=self._run, args=(self._stop,), daemon=True, name=f"playground-{self.id[:6]}"
        )
        self._post(self._state(None, playing=True))
        self._worker.start()

    def _posted_last_epoch(self, s: Setup) -> bool:
        """Post why there is nothing to train when the run is at its last epoch; say if it was."""
        if self._epoch < s.epochs:
            return False
        self._post(
            self._state(
                f"epoch {self._epoch} is the last one ('epochs' is "
                f"{s.epochs}): raise epochs or reset to train on"
            )
        )
        return True

    def pause(self) -> None:
        self._settings  # noqa: B018  (a session without a setup has nothing to pause)
        self._halt()
        self._post(self._state(None))

    def step(self) -> None:
        """Train exactly one epoch (pausing first) and post its frame."""
        s = self._settings
        self._halt()
        if self._posted_last_epoch(s):
            return
        try:
            with self._lock:
                row = self._one_epoch()
                self._post(self._frame([row]))
        except TrainingDiverged as e:
            self._post(self._diverged(e))

    def reset(self) -> None:
        """New weights from the seed, epoch 0, same data and settings; keeps playing if it was."""
        s = self._settings
        was_playing = self.playing
        self._halt()
        with self._lock:
            self._build_model(s)
            self._build_optimizer()
            self._post(self._ready(True))
            self._post(self._frame([]))
        if was_playing:
            self.play()

    def close(self) -> None:
        """The tab went away: stop training (the worker ends after its current epoch)."""
        self.closed = True
        self._stop.set()

    def _halt(self) -> None:
        self._stop.set()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join()
        self._worker = None

    def _one_epoch(self) -> dict[str, float | None]:
        s = self._settings
        rows = _Rows()
        test = self._test
        fit(
            self._model,
            self._train.X,
            self._train.y,
            task=self._full.task,
            loss=self._loss,
            optimizer=self._optimizer,
            scheduler=self._scheduler,
            epochs=1,
            batch_size=s.batch_size or None,
            mode=s.mode,
            l1=s.reg_rate if s.regularization == "l1" else 0.0,
            l2=s.reg_rate if s.regularization == "l2" else 0.0,
            validation=(test.X, test.y) if len(test) else None,
            seed=self._rng.randrange(2**31),
            callbacks=[rows],
        )
        self._epoch += 1
        return _metric_row(self._epoch, rows.row)

    def _run(self, stop: threading.Event) -> None:
        s = self._settings
        rows: list[dict[str, float | None]] = []
        last_frame = -math.inf
        next_epoch = time.perf_counter()
        reason: str | None = None
        try:
            while not stop.is_set():
                if self._epoch >= s.epochs:
                    reason = f"reached epoch {s.epochs}, the last one set by 'epochs'"
                    break
                with self._lock:
                    rows.append(self._one_epoch())
                    now = time.perf_counter()
                    # At a pace up to FRAME_RATE every epoch is drawn; faster, a frame per
                    # 1/FRAME_RATE s (with slack, or timer jitter would halve the rate).
                    paced = 0 < s.speed <= FRAME_RATE
                    if paced or now - last_frame >= 0.9 / FRAME_RATE:
                        self._post(self._frame(rows))
                        rows, last_frame = [], now
                if s.speed:
                    next_epoch = max(next_epoch + 1.0 / s.speed, now - 1.0)
                    stop.wait(max(0.0, next_epoch - time.perf_counter()))
        except TrainingDiverged as e:
            self._post(self._diverged(e))
            reason = "diverged"
        except Exception as e:  # a bug must reach the page as a message, not kill the tab
            reason = f"training stopped on an internal error: {type(e).__name__}: {e}"
            self._post({"type": "error", "message": reason})
        finally:
            if rows and not self.closed:
                with self._lock:
                    self._post(self._frame(rows))
            stop.set()
            if not self.closed:
                self._post(self._state(reason))

    # -- what the page sees -----------------------------------------------------------------

    def _state(self, reason: str | None, playing: bool = False) -> dict[str, Any]:
        return {"type": "state", "playing": playing, "epoch": self._epoch, "reason": reason}

    def _diverged(self, e: TrainingDiverged) -> dict[str, Any]:
        return {"type": "error", "message": str(e), "field": "lr"}

    def _points(self, ds: Dataset) -> dict[str, Any]:
        return {
            "x": [[frames.round_float(v, 6) for v in row] for row in ds.X.tolist()],
            "y": [
                frames.round_float(v, 6) if ds.task == "regression" else int(v)
                for v in ds.y.tolist()
            ],
        }

    def _ready(self, fresh: bool) -> dict[str, Any]:
        s, ds = self._settings, self._full
        return {
            "type": "ready",
            "session": self.id,
            "fresh": fresh,
            "setup": s.model_dump(),
            "dataset": ds.name,
            "task": ds.task,
            "n_classes": ds.n_classes,
            "features": ds.n_features,
            "loss": self._loss,
            "sizes": self._model.layer_sizes,
            "bounds": self._plane.bounds(),
            "target_range": list(self._target_range),
            "train": self._points(self._train),
            "test": self._points(self._test),
            "epoch": self._epoch,
        }

    def _frame(self, rows: list[dict[str, float | None]]) -> dict[str, Any]:
        s = self._settings
        return {
            "type": "frame",
            "epoch": self._epoch,
            "rows": rows,
            "weights": frames.weights(self._model),
            **frames.picture(self._model, self._plane, self._full.task, s.grid, self._target_range),
        }

    def graph(self, split: str, index: int) -> dict[str, Any]:
        """The computation graph of one data point's loss at the current weights."""
        self._settings  # noqa: B018
        ds = self._train if split == "train" else self._test
        if index >= len(ds):
            raise MessageError(f"index: the {split} set has {len(ds)} points, no point {index}")
        with self._lock:  # a copy as scalar Values (the graph is drawn neuron by neuron)
            held = self._model
            model = copy.deepcopy(held) if isinstance(held, MLP) else held.to_mlp()
        x = ds.X[index].tolist()
        out = trace_model(model, x)
        nodes = out.topo_sort()
        outputs = [v for v in nodes if v.label == "out"] or sorted(
            (v for v in nodes if v.label.startswith("out")), key=lambda v: int(v.label[3:])
        )
        for v in nodes:
            v.grad = 0.0
        target = targets_for(self._loss, ds.task, ds.y[index : index + 1])
        pred: list[Any] = [outputs[0]] if len(outputs) == 1 else [outputs]
        loss: Value = LOSSES[self._loss](pred, target)
        loss.label = f"loss ({self._loss})"
        loss.backward()
        try:
            drawn = draw_dot(loss)
        except GraphTooLargeError as e:
            raise MessageError(f"graph: {e}") from None
        return {
            "type": "graph",
            "split": split,
            "index": index,
            "x": [frames.round_float(v, 6) for v in x],
            "target": frames.round_float(float(ds.y[index]), 6),
            "loss_target": frames.round_float(float(target[0]), 6),
            "loss_name": self._loss,
            "outputs": [frames.round_float(v.data, 6) for v in outputs],
            "loss": frames.round_float(loss.data, 6),
            "values": len(drawn),
            "svg": drawn.to_svg(),
        }

    def model_file(self) -> bytes:
        """The model as `micrograd train` saves it (model.json), loadable by `micrograd
        predict`, with the task and the playground's setup in its metadata."""
        s, ds = self._settings, self._full
        meta = {
            **dataset_metadata(ds),
            "loss": self._loss,
            "mode": s.mode,
            "epochs_trained": self._epoch,
            "playground": s.model_dump(),
            "micrograd_version": __version__,
        }
        with self._lock, tempfile.TemporaryDirectory(prefix="micrograd-model-") as folder:
            path = Path(folder) / "model.json"
            save(self._model, path, metadata=meta)
            return path.read_bytes()
