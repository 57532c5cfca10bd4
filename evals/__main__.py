"""`python -m evals NAME [...]`: run one eval or benchmark script by name."""

from __future__ import annotations

import runpy
import sys

SCRIPTS = {
    "gold": "evals.gold",  # every gold record -> our plans (conversion report)
    "plans": "evals.plans",  # plan quality against an LLM endpoint (or stored predictions)
    "retrieval": "evals.retrieval",  # template memory: hit@k, MRR, reuse rates
    "gnn4taskplan": "evals.gnn4taskplan",  # real model predictions through parser + validator
    "nestful": "evals.nestful",  # NESTFUL conversion report
    "bench": "evals.bench",  # engine benchmarks
    "startup": "evals.startup",  # how long `jarvis --help` and `jarvis run` take
    "chaos": "evals.chaos",  # faults and load: kills, failing tools and LLM; lost/repeated
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in SCRIPTS:
        names = "\n".join(f"  {k:13} {v}" for k, v in SCRIPTS.items())
        print(f"usage: python -m evals NAME [options]\n\n{names}", file=sys.stderr)
        raise SystemExit(2)
    module = SCRIPTS[sys.argv.pop(1)]
    sys.argv[0] = module
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
