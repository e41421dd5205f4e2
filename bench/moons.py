"""The original micrograd demo alone: `bench/suite.py --workload moons`, other options passed on.

python bench/moons.py                  # every contender on the demo, plus the scaling table
python bench/moons.py --no-scaling --skip original
"""

from __future__ import annotations

import sys

import suite  # bench/ is on the path: this file runs as a script

if __name__ == "__main__":
    raise SystemExit(suite.main(["--workload", "moons", *sys.argv[1:]]))
