"""Optional dependencies: importing one that may be missing, with a message that says how to get it.

The core needs only the standard library and numpy; scikit-learn (real datasets), torch and
onnx/onnxruntime (export) are extras. Code that needs one calls `require(...)` inside the
function that uses it, so `import micrograd` and `micrograd train` stay fast and work without it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingDependencyError", "require"]


class MissingDependencyError(ImportError):
    """An optional package is not installed; the message names it and the pip command."""


def require(module: str, package: str, extra: str, purpose: str) -> ModuleType:
    """Import `module`, or raise `MissingDependencyError` saying that `purpose` needs `package`
    and that `pip install "micrograd[extra]"` installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        # Only the package itself being absent is "missing": a broken install re-raises as is.
        if e.name is not None and e.name.split(".")[0] != module.split(".")[0]:
            raise
        raise MissingDependencyError(
            f"{purpose} needs {package}, which is not installed: "
            f'pip install "micrograd[{extra}]" (or pip install {package})',
            name=module,
        ) from None
