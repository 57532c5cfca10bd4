"""`python -m evals chaos [--size small|large] [options]`: the fault and load suite."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from evals.chaos.report import markdown, summary, write
from evals.chaos.run import ChaosOptions, run_chaos
from evals.chaos.web_load import web_load

SIZES = {
    "small": {"goals": 12, "plan_runs": 4, "worker_kills": 4, "server_kills": 1,
              "web_clients": 8, "web_seconds": 5.0},
    "large": {"goals": 80, "plan_runs": 20, "worker_kills": 16, "server_kills": 3,
              "web_clients": 32, "web_seconds": 20.0},
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals chaos", description=__doc__)
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--goals", type=int)
    p.add_argument("--plan-runs", type=int)
    p.add_argument("--worker-kills", type=int)
    p.add_argument("--server-kills", type=int)
    p.add_argument("--web-clients", type=int)
    p.add_argument("--web-seconds", type=float)
    p.add_argument("--out", type=Path, default=Path("eval-reports"))
    return p.parse_args(argv)


async def main(args: argparse.Namespace) -> int:
    size = dict(SIZES[args.size])
    for key in size:
        if getattr(args, key, None) is not None:
            size[key] = getattr(args, key)
    with tempfile.TemporaryDirectory(prefix="jarvis-chaos-") as tmp:
        options = ChaosOptions(folder=Path(tmp), goals=int(size["goals"]),
                               plan_runs=int(size["plan_runs"]),
                               worker_kills=int(size["worker_kills"]),
                               server_kills=int(size["server_kills"]), seed=args.seed)
        print(f"chaos: {options.goals} goals + {options.plan_runs} plan runs, "
              f"{options.worker_kills} worker kills, {options.server_kills} server kills, "
              f"seed {options.seed} ...", file=sys.stderr)
        result = await run_chaos(options)
        web = await web_load(Path(tmp) / "web", clients=int(size["web_clients"]),
                             seconds=float(size["web_seconds"]))
    data = summary(result, web)
    for path in write(data, result, args.out):
        print(f"wrote {path}", file=sys.stderr)
    print(markdown(data))
    print(json.dumps({k: data[k] for k in ("lost", "side_effects_repeated")}))
    return 1 if data["lost"] or data["side_effects_repeated"] else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse_args(sys.argv[1:]))))
