"""`python -m evals.bench`: the engine benchmarks (see evals/bench/__init__.py)."""

import os
import sys

from evals.bench.cli import main

code = main()
sys.stdout.flush()
os._exit(code)  # skip interpreter teardown: sdk-python #300 (see jarvis_planner/cli)
