"""Type stub of the compiled `micrograd._kernels` (src/micrograd/_kernels.c)."""

from typing import Any

def linear_t(xt: Any, wt: Any, b: Any, zt: Any, /) -> None: ...
