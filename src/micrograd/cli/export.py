"""`micrograd export`: a saved model as a PyTorch program (.pt2) or an ONNX file.

The exported model reads the same raw features as `micrograd predict`: when training
standardised them, the transform saved in model.json goes into the export (ONNX: two nodes
before the first layer; PyTorch: folded into the first Linear layer). A classifier's ONNX file
also gives `predict`'s label and, for a model trained with a log-loss, its class probabilities.
Before anything is written, the file's bytes are run on random inputs with onnxruntime or
PyTorch and compared with micrograd's outputs; an existing file is replaced only with --force.
A model whose outputs overflow, or whose weights the chosen number type cannot hold, is refused.

The package a format needs (torch, or onnx) is checked before anything is written: without the
`export` extra the command prints one line naming `pip install "micrograd[export]"` and exits
with status 2.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import numpy as np
from rich.markup import escape

from ..batched import BatchedMLP
from ..export_arrays import DTYPES, RangeError
from ..files import write_atomic
from ..interop import torch_program_bytes
from ..loop import PROBABILISTIC_LOSSES, decide, probabilities
from ..onnx_export import (
    INPUT_NAME,
    LABEL_NAME,
    OPSET,
    OUTPUT_NAME,
    PROBABILITIES_NAME,
    to_onnx_bytes,
)
from ..optional import MissingDependencyError, require
from ..preprocessing import Standardizer
from ..serialization import load, load_metadata
from ..train import raw_outputs
from .arguments import PROG, UsageError, add_command, count
from .models import ModelInfo, model_info, model_scaler
from .output import console

__all__ = ["register", "run"]

NAME = "export"
HELP = "write a saved model as a PyTorch program or an ONNX file"
DESCRIPTION = (
    "Export a model saved by 'micrograd train' for PyTorch (a torch.export program, .pt2) or for "
    "any ONNX runtime (.onnx), then check the file gives micrograd's outputs on random inputs."
)
EXAMPLES = f"""\
examples:
  {PROG} export runs/digits-tanh-seed0/model.json --format onnx
      writes runs/digits-tanh-seed0/model.onnx (opset {OPSET}, float32)
  {PROG} export runs/digits-tanh-seed0/model.json --format torch --output digits.pt2
  {PROG} export model.json --format onnx --dtype float64 --output model64.onnx

ONNX: input '{INPUT_NAME}' of shape (batch, inputs), output '{OUTPUT_NAME}' of shape (batch,
outputs): raw class scores (the class is the argmax; one output: its sign) or the regression
value. A classifier adds '{LABEL_NAME}' (batch,), the class as the training data wrote it, and,
when trained with cross_entropy or bce, '{PROBABILITIES_NAME}' (batch, classes) (softmax or
logistic, as predict gives them); the file's metadata holds the classes and their names.
PyTorch: torch.export.load(PATH).module() is a module taking a (batch, inputs) tensor, giving
the raw outputs. Both read raw features: a standardisation saved with the model is part of the
export. An existing file is replaced only with --force.
"""

SUFFIXES = {"torch": ".pt2", "onnx": ".onnx"}
DEFAULT_DTYPE = {"torch": "float64", "onnx": "float32"}
# How far the export may be from micrograd on the check's inputs, relative to the outputs' size.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}
CHECK_SAMPLES = 100


def register(commands: Any) -> None:
    """Add `export` to the subcommands."""
    p = add_command(commands, NAME, HELP, DESCRIPTION, EXAMPLES)
    p.add_argument("model", metavar="MODEL.json", help="a model file written by micrograd train")
    p.add_argument(
        "--format",
        choices=tuple(SUFFIXES),
        required=True,
        help="torch: a torch.export program (.pt2); onnx: an ONNX file (required)",
    )
    p.add_argument(
        "--output",
        metavar="PATH",
        default=None,
        help="the file to write (default: beside the model, model.pt2 or model.onnx)",
    )
    p.add_argument(
        "--dtype",
        choices=DTYPES,
        default=None,
        help="number type of the exported weights and inputs (default: float64 for torch, "
        "float32 for onnx)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the file at the output path if there is one (default: refuse)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (default: a summary)"
    )
    p.set_defaults(run=run)


def _target(source: Path, fmt: str, output: str | None, force: bool) -> Path:
    """The path to write, checked: never the model itself, a folder, another format's name or,
    without `force`, an existing file."""
    suffix = SUFFIXES[fmt]
    target = Path(output) if output is not None else source.with_suffix(suffix)
    flag = "--output" if output is not None else "the default output"
    if target.is_dir():
        raise UsageError(
            f"{flag} {target} is a folder: give a file path, e.g. {target / ('model' + suffix)}"
        )
    if target.exists() and target.resolve() == source.resolve():
        # A model named like its export (m.onnx) is its own default output: name another.
        instead = source.with_suffix(suffix)
        if instead == source:
            instead = source.with_name(f"{source.stem}-export{suffix}")
        raise UsageError(
            f"{flag} {target} is the model file itself: choose another path, e.g. --output "
            f"{instead}"
        )
    for other, other_suffix in SUFFIXES.items():
        if other != fmt and target.suffix.lower() == other_suffix:
            raise UsageError(
                f"--output {target} ends in {other_suffix}, the suffix of {other} files, but "
                f"--format {fmt} writes a {suffix} file: name it {target.with_suffix(suffix)}"
            )
    if not target.parent.is_dir():
        raise UsageError(f"--output {target}: the folder {target.parent} does not exist")
    if target.exists() or target.is_symlink():
        if not target.is_file():
            raise UsageError(
                f"{flag} {target} exists and is not a regular file: export writes only files"
            )
        if not force:
            raise UsageError(
                f"{flag} {target} already exists: choose another path with --output, or add "
                "--force to replace it"
            )
    return target


def _check_inputs(model: BatchedMLP, scaler: Standardizer | None) -> np.ndarray:
    """Random raw inputs shaped like the training data: standard normal, through the inverse
    of the standardisation when there is one."""
    z = np.random.default_rng(0).normal(size=(CHECK_SAMPLES, model.nin))
    return z if scaler is None else scaler.inverse_transform(z)


def _check_range(source: Path, model: BatchedMLP, ours: np.ndarray, dtype: str) -> None:
    """Refuse, before anything is built, a model whose outputs on the check's inputs overflow
    float64, or (for a float32 export) go beyond float32: the file could only give infinities."""
    largest = max(float(np.abs(layer.weight.data).max()) for layer in model.layers)
    if not np.isfinite(ours).all():
        bad = int((~np.isfinite(ours)).any(axis=1).sum())
        raise UsageError(
            f"model file {source}: its outputs overflow float64 (infinite or NaN on {bad} of "
            f"{CHECK_SAMPLES} random inputs like its training data; weights up to "
            f"{largest:.3g}), so no export can reproduce them: retrain it, e.g. with a smaller --lr"
        )
    top = float(np.abs(ours).max(initial=0.0))
    if dtype == "float32" and top > float(np.finfo(np.float32).max):
        raise UsageError(
            f"model file {source}: its outputs reach {top:.3g} on random inputs like its training "
            "data, which overflows float32 (largest 3.4e+38): export with --dtype float64"
        )


def _build(
    fmt: str,
    source: Path,
    model: BatchedMLP,
    info: ModelInfo,
    **how: Any,
) -> bytes:
    """The file's bytes; a weight the number type cannot hold is one line naming the model."""
    try:
        if fmt == "torch":
            return torch_program_bytes(model, **how)
        return to_onnx_bytes(
            model,
            task=info.task,
            classes=info.classes,
            loss=info.loss,
            class_names=info.class_names,
            **how,
        )
    except RangeError as e:
        fix = (
            "export with --dtype float64"
            if e.dtype == "float32" and np.isfinite(e.value)
            else "retrain it, e.g. with a smaller --lr"
        )
        raise UsageError(
            f"model file {source}: {e.name} reaches {e.value:.3g} in the export, which overflows "
            f"{e.dtype} (largest {float(np.finfo(e.dtype).max):.3g}): {fix}"
        ) from None


def _run_export(fmt: str, data: bytes, X: np.ndarray) -> dict[str, np.ndarray]:
    """The file's outputs on X, by name (PyTorch's one output is named like ONNX's scores)."""
    if fmt == "onnx":
        ort = require("onnxruntime", "onnxruntime", "export", "checking the ONNX file")
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        dtype = np.float32 if session.get_inputs()[0].type == "tensor(float)" else np.float64
        names = [o.name for o in session.get_outputs()]
        results = session.run(names, {INPUT_NAME: X.astype(dtype)})
        return dict(zip(names, results, strict=True))
    torch = require("torch", "torch", "export", "checking the PyTorch program")
    module = torch.export.load(io.BytesIO(data)).module()
    dtype = next(iter(module.state_dict().values())).dtype
    with torch.no_grad():
        result: np.ndarray = module(torch.from_numpy(X).to(dtype)).double().numpy()
    return {OUTPUT_NAME: result}


def _check(
    fmt: str,
    source: Path,
    data: bytes,
    X: np.ndarray,
    seen: np.ndarray,
    ours: np.ndarray,
    model: BatchedMLP,
    info: ModelInfo,
    dtype: str,
) -> str:
    """Compare the file's outputs (scores, label, probabilities) on raw inputs X with
    micrograd's, `ours`, on them as the model sees them (`seen`, standardised); raise if they
    differ. Nothing is written yet: a failed check leaves no file."""
    try:
        theirs = _run_export(fmt, data, X)
    except MissingDependencyError as e:
        return f"not checked: {e}"
    runtime = "onnxruntime" if fmt == "onnx" else "PyTorch"
    scores = theirs[OUTPUT_NAME].astype(np.float64)
    scale = max(1.0, float(np.abs(ours).max()))
    tolerance = TOLERANCE[dtype] * scale
    if not np.isfinite(scores).all():
        raise UsageError(
            f"model file {source}: {runtime} gives infinite or NaN outputs where micrograd's are "
            f"finite (up to {float(np.abs(ours).max()):.3g}): the network overflows {dtype} "
            "inside" + (": export with --dtype float64" if dtype == "float32" else "")
        )
    diff = float(np.abs(scores - ours).max())
    problems = [] if diff <= tolerance else [f"outputs up to {diff:.3g} away"]
    if LABEL_NAME in theirs:
        classes = info.classes if info.classes is not None else list(range(info.n_classes))
        want = np.array([classes[k] for k in decide(ours, info.task).tolist()])
        # float32 rounding may flip a near tie: only a clear decision must agree
        ranked = np.sort(ours, axis=1)
        margin = np.abs(ours[:, 0]) if ours.shape[1] == 1 else ranked[:, -1] - ranked[:, -2]
        differ = (theirs[LABEL_NAME] != want) & (margin > tolerance)
        if differ.any():
            problems.append(f"a different label for {count(int(differ.sum()), 'input')}")
    p_ours = probabilities(ours, info.task, info.loss) if info.loss is not None else None
    if PROBABILITIES_NAME in theirs and p_ours is not None:
        p_diff = float(np.abs(theirs[PROBABILITIES_NAME] - p_ours).max())
        if not p_diff <= TOLERANCE[dtype] * 10:
            problems.append(f"probabilities up to {p_diff:.3g} away")
    elif fmt == "onnx" and (PROBABILITIES_NAME in theirs) != (p_ours is not None):
        problems.append("probabilities where predict has none, or none where it has")
    if problems:
        raise UsageError(
            f"{runtime} gives {' and '.join(problems)} from micrograd's on random inputs: "
            "nothing was written; this is a bug in micrograd's export, please report it"
        )
    checked = ", ".join(
        name for name in (OUTPUT_NAME, LABEL_NAME, PROBABILITIES_NAME) if name in theirs
    )
    relative = f", {diff / scale:.2g} of the largest output" if scale > 1 and diff > 0 else ""
    return (
        f"checked: {runtime} gives micrograd's {checked} on {CHECK_SAMPLES} random inputs "
        f"(largest difference {diff:.2g}{relative})"
    )


def _summary(
    fmt: str,
    target: Path,
    replaced: bool,
    model: BatchedMLP,
    scaler: Standardizer | None,
    info: ModelInfo,
    dtype: str,
    check: str,
) -> None:
    shown = console()
    loss = info.loss
    sizes = "-".join(map(str, [model.nin, *model.nouts]))
    if fmt == "torch":
        what = f"a PyTorch program ({dtype}): torch.export.load({str(target)!r}).module()"
    else:
        what = f"ONNX opset {OPSET}, {dtype}"
    shown.print(
        f"wrote {escape(str(target))}{' (replacing the old file)' if replaced else ''}: "
        f"the {sizes} network as {escape(what)}"
    )
    inside = ", standardised inside the export" if scaler is not None else ""
    if fmt == "torch":
        shown.print(
            f"takes a (batch, {model.nin}) tensor of raw features{inside}; returns "
            f"(batch, {model.nouts[-1]})"
        )
    else:
        shapes = [f"'{OUTPUT_NAME}' (batch, {model.nouts[-1]})"]
        if info.task != "regression":
            shapes.append(f"'{LABEL_NAME}' (batch,)")
            if loss in PROBABILISTIC_LOSSES.get(info.task, ()):
                shapes.append(f"'{PROBABILITIES_NAME}' (batch, {info.n_classes})")
        shown.print(
            f"input '{INPUT_NAME}' (batch, {model.nin}) of raw features{inside}; "
            f"output{'s' if len(shapes) > 1 else ''} {', '.join(shapes)}"
        )
        if info.task != "regression" and len(shapes) == 2:
            shown.print(
                f"no '{PROBABILITIES_NAME}': "
                + (
                    f"trained with {loss}, whose scores are not log-odds"
                    if loss
                    else "the model file does not say which loss trained it"
                )
            )
    shown.print(escape(check))


def run(args: argparse.Namespace) -> int:
    source = Path(args.model)
    if source.is_dir():
        raise UsageError(
            f"{source} is a folder: expected a model file such as runs/NAME/model.json"
        )
    model = load(source, batched=True)  # the check runs it on a whole batch
    meta = load_metadata(source)
    scaler = model_scaler(model, meta, str(source))
    info = model_info(model, meta, str(source))
    target = _target(source, args.format, args.output, args.force)
    # each format is written by the package of its name, from the `export` extra
    require(args.format, args.format, "export", f"{PROG} export --format {args.format}")
    dtype = args.dtype or DEFAULT_DTYPE[args.format]
    X = _check_inputs(model, scaler)
    seen = X if scaler is None else scaler.transform(X)
    ours = raw_outputs(model, seen)
    _check_range(source, model, ours, dtype)
    data = _build(args.format, source, model, info, dtype=dtype, scaler=scaler)
    check = _check(args.format, source, data, X, seen, ours, model, info, dtype)
    replaced = target.exists()
    write_atomic(target, data)
    if not args.quiet:
        _summary(args.format, target, replaced, model, scaler, info, dtype, check)
    return 0
