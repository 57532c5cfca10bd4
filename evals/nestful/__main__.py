"""`python -m evals.nestful`: the NESTFUL conversion report."""

import sys

from evals.nestful.report import main

sys.exit(main())
