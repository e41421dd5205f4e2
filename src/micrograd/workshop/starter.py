"""Writing the workshop's starting point: `value.py`, `mlp.py` and `WORKSHOP.md`.

The files ship inside the package (`templates/`). `start` refuses to overwrite anything: a
learner's work is never replaced by a fresh skeleton. It writes all three files or none (a full
disk leaves no empty `value.py` that would block the retry).
"""

from __future__ import annotations

import contextlib
import os
from importlib import resources
from pathlib import Path

from ..files import write_new
from .runner import WorkshopError

__all__ = ["TEMPLATES", "start", "template"]

# The file written, and the template it comes from.
TEMPLATES = {"value.py": "value.py.tmpl", "mlp.py": "mlp.py.tmpl", "WORKSHOP.md": "WORKSHOP.md"}


def template(name: str) -> str:
    """The text of one starting file, by the name it is written under."""
    return (resources.files(__package__) / "templates" / TEMPLATES[name]).read_text("utf-8")


def start(folder: str | os.PathLike[str] = ".") -> list[Path]:
    """Write the starting files into `folder` (made if missing); return their paths.

    Raises WorkshopError, writing nothing, when any of them exists already.
    """
    where = Path(folder)
    if where.exists() and not where.is_dir():
        raise WorkshopError(f"{where} is a file, not a folder")
    targets = [where / name for name in TEMPLATES]
    present = [t for t in targets if t.exists()]
    if present:
        names = ", ".join(t.name for t in present)
        raise WorkshopError(
            f"{where} already has {names}: nothing written (your work is never overwritten); "
            "start in an empty folder, or move those files away"
        )
    texts = {name: template(name) for name in TEMPLATES}
    made = not where.exists()
    where.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for target in targets:  # each whole or not at all, and never over a file
            write_new(target, texts[target.name].encode("utf-8"))
            written.append(target)
    except BaseException:
        # All three or none: a half-started folder would block the retry.
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        if made:
            with contextlib.suppress(OSError):
                where.rmdir()
        raise
    return targets
