"""`micrograd export`: a saved model as a PyTorch program (.pt2) or an ONNX file.

The exported model reads the same raw features as `micrograd predict`: when training
standardised them, the transform saved in model.json goes into the export (ONNX: two nodes
before the first layer; PyTorch: folded into the first Linear layer). After writing, the file is
run on random inputs with onnxruntime or PyTorch and its outputs compared with micrograd's.

The package a format needs (torch, or onnx) is checked before anything is written: without the
`export` extra the command prints one line naming `pip install "micrograd[export]"` and exits
with status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from rich.markup import escape

from ..batched import BatchedMLP
from ..interop import DTYPES, INPUT_NAME, OPSET, OUTPUT_NAME, save_torch, to_onnx
from ..optional import MissingDependencyError, require
from ..preprocessing import Standardizer
from ..serialization import load, load_metadata
from ..train import raw_outputs
from .arguments import PROG, UsageError, add_command
from .models import model_scaler
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
value. PyTorch: torch.export.load(PATH).module() is a module taking a (batch, inputs) tensor.
Both read raw features: a standardisation saved with the model is part of the export.
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
        "--quiet", action="store_true", help="print nothing but errors (default: a summary)"
    )
    p.set_defaults(run=run)


def _target(source: Path, fmt: str, output: str | None) -> Path:
    """The path to write, checked: never the model itself, a folder, or another format's name."""
    suffix = SUFFIXES[fmt]
    target = Path(output) if output is not None else source.with_suffix(suffix)
    if target.is_dir():
        raise UsageError(
            f"--output {target} is a folder: give a file path, e.g. {target / ('model' + suffix)}"
        )
    if target.exists() and target.resolve() == source.resolve():
        raise UsageError(
            f"--output {target} is the model file itself: choose another path, e.g. "
            f"{source.with_suffix(suffix)}"
        )
    for other, other_suffix in SUFFIXES.items():
        if other != fmt and target.suffix.lower() == other_suffix:
            raise UsageError(
                f"--output {target} ends in {other_suffix}, the suffix of {other} files, but "
                f"--format {fmt} writes a {suffix} file: name it {target.with_suffix(suffix)}"
            )
    if not target.parent.is_dir():
        raise UsageError(f"--output {target}: the folder {target.parent} does not exist")
    return target


def _check_inputs(model: BatchedMLP, scaler: Standardizer | None) -> np.ndarray:
    """Random raw inputs shaped like the training data: standard normal, through the inverse
    of the standardisation when there is one."""
    z = np.random.default_rng(0).normal(size=(CHECK_SAMPLES, model.nin))
    return z if scaler is None else scaler.inverse_transform(z)


def _run_export(fmt: str, path: Path, X: np.ndarray) -> np.ndarray:
    if fmt == "onnx":
        ort = require("onnxruntime", "onnxruntime", "export", "checking the ONNX file")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        dtype = np.float32 if session.get_inputs()[0].type == "tensor(float)" else np.float64
        out: np.ndarray = session.run([OUTPUT_NAME], {INPUT_NAME: X.astype(dtype)})[0]
        return out.astype(np.float64)
    torch = require("torch", "torch", "export", "checking the PyTorch program")
    module = torch.export.load(str(path)).module()
    dtype = next(iter(module.state_dict().values())).dtype
    with torch.no_grad():
        result: np.ndarray = module(torch.from_numpy(X).to(dtype)).double().numpy()
    return result


def _check(fmt: str, path: Path, model: BatchedMLP, scaler: Standardizer | None, dtype: str) -> str:
    """Compare the written file's outputs with micrograd's; raise if they differ."""
    X = _check_inputs(model, scaler)
    ours = raw_outputs(model, X if scaler is None else scaler.transform(X))
    try:
        theirs = _run_export(fmt, path, X)
    except MissingDependencyError as e:
        return f"not checked: {e}"
    runtime = "onnxruntime" if fmt == "onnx" else "PyTorch"
    diff = float(np.abs(theirs - ours).max())
    scale = max(1.0, float(np.abs(ours).max()))
    if not diff <= TOLERANCE[dtype] * scale:
        raise UsageError(
            f"{path} was written, but {runtime} gives outputs up to {diff:.3g} away from "
            "micrograd's on random inputs: this is a bug in micrograd's export, please report it"
        )
    return (
        f"checked: {runtime} gives micrograd's outputs on {CHECK_SAMPLES} random inputs "
        f"(largest difference {diff:.2g})"
    )


def run(args: argparse.Namespace) -> int:
    source = Path(args.model)
    if source.is_dir():
        raise UsageError(
            f"{source} is a folder: expected a model file such as runs/NAME/model.json"
        )
    model = load(source, batched=True)  # the check runs it on a whole batch
    scaler = model_scaler(model, load_metadata(source), str(source))
    target = _target(source, args.format, args.output)
    # each format is written by the package of its name, from the `export` extra
    require(args.format, args.format, "export", f"{PROG} export --format {args.format}")
    dtype = args.dtype or DEFAULT_DTYPE[args.format]
    replaced = target.exists()
    if args.format == "torch":
        save_torch(model, target, dtype=dtype, scaler=scaler)
        what = f"a PyTorch program ({dtype}): torch.export.load({str(target)!r}).module()"
    else:
        to_onnx(model, target, dtype=dtype, scaler=scaler)
        what = f"ONNX opset {OPSET}, {dtype}"
    check = _check(args.format, target, model, scaler, dtype)
    if not args.quiet:
        shown = console()
        sizes = "-".join(map(str, [model.nin, *model.nouts]))
        shown.print(
            f"wrote {escape(str(target))}{' (replacing the old file)' if replaced else ''}: "
            f"the {sizes} network as {escape(what)}"
        )
        inside = ", standardised inside the export" if scaler is not None else ""
        if args.format == "onnx":
            shown.print(
                f"input '{INPUT_NAME}' (batch, {model.nin}) of raw features{inside}; "
                f"output '{OUTPUT_NAME}' (batch, {model.nouts[-1]})"
            )
        else:
            shown.print(
                f"takes a (batch, {model.nin}) tensor of raw features{inside}; returns "
                f"(batch, {model.nouts[-1]})"
            )
        shown.print(escape(check))
    return 0
