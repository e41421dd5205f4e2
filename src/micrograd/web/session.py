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
- `ready`: the data points, the plane drawn, the task, the layer sizes, the input features in
  use (`features`, names from `micrograd.features`; `inputs`, the data's raw input count;
  `feature_choices`, every name), and the status (after each setup);
- `frame`: the epoch, the metric rows since the last frame, the output and neuron pictures and
  the weights (at most `FRAME_RATE` a second while playing; rows are never skipped);
- `state`: the one source of the page's status: `playing`, `epoch`, `status` ("idle" at epoch
  0, "training", "paused", "finished" at the last epoch, "diverged"), `reason` (why it stopped,
  "" if nothing to say) and `diverged_epoch` (the epoch whose step diverged, else null); sent on
  play, pause, step, reset (epoch 0, "idle"), the last epoch and a divergence;
- `graph`: the clicked point's computation graph (SVG from `viz`) with its loss and the epoch
  of the weights it shows;
- `error`: a message for the page.

The network reads the setup's input features (`Setup.features`, e.g. x1^2 or sin(x2)) computed
from the data's raw inputs; the page still draws the raw plane (x1, x2), so the plane's grid and
a clicked point go through the same transform before the model sees them.

What a setup builds (data, model, loss, optimizer) is in `setups`; a point's graph in `graphs`.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .. import __version__
from ..batched import Model
from ..data import Dataset, dataset_metadata
from ..features import FEATURE_NAMES
from ..loop import Callback, TrainingDiverged, fit
from ..nn import MLP
from ..optim import LRScheduler, Optimizer
from ..serialization import save
from . import frames
from .graphs import point_graph
from .messages import MessageError, Setup
from .setups import (
    DATA_FIELDS,
    MODEL_FIELDS,
    TRAIN_FIELDS,
    build_model,
    build_optimizer,
    check_features,
    feature_names,
    in_mode,
    load_data,
    loss_for,
    network_inputs,
    raw_names,
)

__all__ = ["FRAME_RATE", "Session", "Status"]

FRAME_RATE = 30.0

Post = Callable[[dict[str, Any]], None]
Status = Literal["idle", "training", "paused", "finished", "diverged"]


class _Rows(Callback):
    """Keeps the row of the epoch `fit` just ran."""

    def __init__(self) -> None:
        self.row: dict[str, float] = {}

    def on_epoch_end(self, log: dict[str, float]) -> None:
        self.row = log


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
    _full: Dataset
    _train: Dataset
    _test: Dataset
    # What the network reads: the splits' inputs through the setup's features (or the splits).
    _fit_train: Dataset
    _fit_test: Dataset
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
        self._status: Status = "idle"
        self._diverged_epoch: int | None = None
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
        if changed & set(DATA_FIELDS):
            data = load_data(setup, self._csv_lookup)
        else:
            data = (self._full, self._train, self._test)
        check_features(setup, data[0])
        loss = loss_for(setup, data[0])
        was_playing = self.playing
        self._halt()
        with self._lock:
            self._full, self._train, self._test = data
            self._fit_train = replace(self._train, X=network_inputs(self._train.X, setup))
            self._fit_test = replace(self._test, X=network_inputs(self._test.X, setup))
            self._plane = frames.Plane.around(self._full.X, self._full.y)
            ys = self._full.y.astype(np.float64)
            self._target_range = (float(ys.min()), float(ys.max()))
            fresh = bool(changed & {*DATA_FIELDS, *MODEL_FIELDS})
            self._setup, self._loss = setup, loss
            if fresh:
                self._new_model(setup)
            elif "mode" in changed:
                self._model = in_mode(self._model, setup.mode)
            reopened = self._status == "finished" and not self._at_last_epoch(setup)
            if reopened:  # 'epochs' was raised (or set to 0): the run may go on
                self._status = "paused"
            if fresh or changed & set(TRAIN_FIELDS):
                self._build_optimizer()
            self._post(self._ready(fresh))
            self._post(self._frame([]))
            if reopened:
                self._post(self._state())
        if was_playing:
            self.play()

    def _feature_names(self) -> list[str]:
        """The inputs the network reads, in order: the setup's features or the raw inputs."""
        return feature_names(self._settings, self._full.n_features)

    def _new_model(self, setup: Setup) -> None:
        """Fresh weights from the setup's seed: the run starts again at epoch 0."""
        self._model = build_model(setup, self._full)
        self._epoch = 0
        self._rng = random.Random(setup.seed)
        self._status, self._diverged_epoch = "idle", None

    def _build_optimizer(self) -> None:
        self._optimizer, self._scheduler = build_optimizer(self._settings, self._model, self._epoch)

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
        if self.playing or self.closed:
            return
        self._halt()
        if self._posted_last_epoch(s):
            return
        self._stop = threading.Event()
        self._worker = threading.Thread(
            target=self._run, args=(self._stop,), daemon=True, name=f"playground-{self.id[:6]}"
        )
        self._status, self._diverged_epoch = "training", None
        self._post(self._state(playing=True))
        self._worker.start()

    def _at_last_epoch(self, s: Setup) -> bool:
        """Whether the run has reached its last epoch (never, with epochs 0: until paused)."""
        return s.epochs > 0 and self._epoch >= s.epochs

    def _posted_last_epoch(self, s: Setup) -> bool:
        """Post why there is nothing to train when the run is at its last epoch; say if it was."""
        if not self._at_last_epoch(s):
            return False
        self._status = "finished"
        self._post(
            self._state(
                f"epoch {self._epoch} is the last one ('epochs' is "
                f"{s.epochs}): raise epochs or reset to train on (epochs 0 trains until paused)"
            )
        )
        return True

    def pause(self) -> None:
        self._settings  # noqa: B018  (a session without a setup has nothing to pause)
        self._halt()
        if self._status == "training":
            self._status = "paused"
        self._post(self._state())

    def step(self) -> None:
        """Train exactly one epoch (pausing first) and post its frame."""
        s = self._settings
        self._halt()
        if self._posted_last_epoch(s):
            return
        self._diverged_epoch = None  # a divergence is reported until training goes on
        try:
            with self._lock:
                row = self._one_epoch()
                self._post(self._frame([row]))
        except TrainingDiverged as e:
            self._post(self._diverged(e))
            self._post(self._state(self._diverged_reason))
            return
        self._status = "finished" if self._at_last_epoch(s) else "paused"
        self._post(self._state())

    def reset(self) -> None:
        """New weights from the seed, epoch 0, same data and settings; keeps playing if it was."""
        s = self._settings
        was_playing = self.playing
        self._halt()
        with self._lock:
            self._new_model(s)
            self._build_optimizer()
            self._post(self._ready(True))
            self._post(self._frame([]))
            self._post(self._state())  # epoch 0, "idle": the page clears the last run's status
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
        test = self._fit_test
        fit(
            self._model,
            self._fit_train.X,
            self._fit_train.y,
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
        reason = ""
        status: Status = "paused"
        try:
            # `closed` too: the tab may close while a message that starts training is handled.
            while not stop.is_set() and not self.closed:
                if self._at_last_epoch(s):
                    reason = f"reached epoch {s.epochs}, the last one set by 'epochs'"
                    status = "finished"
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
            reason, status = self._diverged_reason, "diverged"
        except Exception as e:  # a bug must reach the page as a message, not kill the tab
            reason = f"training stopped on an internal error: {type(e).__name__}: {e}"
            self._post({"type": "error", "message": reason})
        finally:
            if rows and not self.closed:
                with self._lock:
                    self._post(self._frame(rows))
            stop.set()
            if not self.closed:
                self._status = status
                self._post(self._state(reason))

    # -- what the page sees -----------------------------------------------------------------

    def _state(self, reason: str = "", playing: bool = False) -> dict[str, Any]:
        return {
            "type": "state",
            "playing": playing,
            "epoch": self._epoch,
            "status": self._status,
            "reason": reason,
            "diverged_epoch": self._diverged_epoch,
        }

    @property
    def _diverged_reason(self) -> str:
        return f"diverged at epoch {self._diverged_epoch}: lower the learning rate and reset"

    def _diverged(self, e: TrainingDiverged) -> dict[str, Any]:
        """The error for a divergence, numbered as the page counts: `fit` ran one epoch and
        counts it as its epoch 1, but it was the session's epoch `self._epoch + 1` (the model
        keeps the weights from before it, so `self._epoch` stays the last good one)."""
        self._diverged_epoch = self._epoch + 1
        self._status = "diverged"
        message = str(e).replace(f"at epoch {e.epoch}", f"at epoch {self._diverged_epoch}", 1)
        return {"type": "error", "message": message, "field": "lr"}

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
            "inputs": ds.n_features,
            "features": self._feature_names(),
            "feature_choices": list(FEATURE_NAMES),
            "loss": self._loss,
            "sizes": self._model.layer_sizes,
            "bounds": self._plane.bounds(),
            "target_range": list(self._target_range),
            "train": self._points(self._train),
            "test": self._points(self._test),
            "epoch": self._epoch,
            "status": self._status,
            "diverged_epoch": self._diverged_epoch,
        }

    def _frame(self, rows: list[dict[str, float | None]]) -> dict[str, Any]:
        s = self._settings
        return {
            "type": "frame",
            "epoch": self._epoch,
            "rows": rows,
            "weights": frames.weights(self._model),
            **frames.picture(
                self._model,
                self._plane,
                self._full.task,
                s.grid,
                self._target_range,
                functools.partial(network_inputs, setup=s),
            ),
        }

    def graph(self, split: str, index: int) -> dict[str, Any]:
        """The computation graph of one data point's loss at the current weights."""
        s = self._settings
        ds = self._train if split == "train" else self._test
        if index >= len(ds):
            raise MessageError(f"index: the {split} set has {len(ds)} points, no point {index}")
        with self._lock:  # a copy as scalar Values (the graph is drawn neuron by neuron)
            held = self._model
            model = copy.deepcopy(held) if isinstance(held, MLP) else held.to_mlp()
            epoch = self._epoch
        fed = network_inputs(ds.X[index : index + 1], s)[0].tolist()  # what the network reads
        return {
            "type": "graph",
            "split": split,
            "index": index,
            "epoch": epoch,
            # Numbered from 1 as the page counts (x1, L1.N1), inputs named after the features.
            **point_graph(model, ds, index, fed, self._feature_names(), self._loss),
        }

    def model_file(self) -> bytes:
        """The model as `micrograd train` saves it (model.json), loadable by `micrograd
        predict`, with the task and the playground's setup in its metadata. Read under the
        lock: a setup applied meanwhile changes the model and its metadata together."""
        with self._lock:
            meta = self._model_metadata()
            with tempfile.TemporaryDirectory(prefix="micrograd-model-") as folder:
                path = Path(folder) / "model.json"
                save(self._model, path, metadata=meta)
                return path.read_bytes()

    def _model_metadata(self) -> dict[str, Any]:
        """What the model file says about the model: its data, setup and input features."""
        s, ds = self._settings, self._full
        meta = {
            **dataset_metadata(ds),
            "loss": self._loss,
            "mode": s.mode,
            "epochs_trained": self._epoch,
            "playground": s.model_dump(),
            "micrograd_version": __version__,
        }
        if s.features is not None:
            # The network reads computed features, not the data's raw inputs: say so, and name
            # its inputs after them (so `micrograd predict` labels its columns x1^2, sin(x2)...).
            meta |= {
                "features": list(s.features),
                "feature_names": list(s.features),
                "n_features": len(s.features),
                "raw_inputs": raw_names(ds.n_features),
                "note": (
                    "this model reads the playground's input features "
                    f"{', '.join(s.features)}, computed from the raw inputs "
                    f"{', '.join(raw_names(ds.n_features))}; give it those feature values, "
                    "in that order"
                ),
            }
        return meta
