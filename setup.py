"""The one compiled part: `micrograd._kernels`, the batched layer forward in C.

Everything else is in pyproject.toml. The extension is optional: without a C compiler the
install still succeeds and batched mode sums with numpy instead (the same numbers, slower).
-ffp-contract=off keeps every multiply and add rounded on its own, as Python rounds them.
"""

import sys

from setuptools import Extension, setup

args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-fast-math"]

setup(
    ext_modules=[
        Extension(
            "micrograd._kernels",
            ["src/micrograd/_kernels.c"],
            extra_compile_args=args,
            optional=True,
        )
    ]
)
