"""`python -m micrograd.cli`: the `micrograd` command."""

import sys

from . import main

sys.exit(main())
