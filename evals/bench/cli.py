"""`python -m evals.bench` / `jarvis bench`: options, running every configuration, medians."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from agents.devserver import DEFAULT_TUNING, ServerTuning
from evals.bench.benchmarks import _median, _round, run_config
from evals.bench.kill_check import kill_check
from evals.bench.levers import (
    BASELINE,
    BENCHMARKS,
    EXTRA_BENCHMARKS,
    SIZES,
    TUNED,
    Levers,
    Metrics,
    ablations,
    explorations,
)
from evals.bench.peers import PEERS, missing, run_peer
from evals.bench.report import Report, machine


@dataclass(frozen=True)
class Options:
    size: str = "full"
    out: Path = Path("eval-reports")
    baseline: bool = False
    ablate: bool = False
    ablate_only: tuple[str, ...] = ()  # names of ablations to run (empty: all of them)
    explore: bool = False
    kill_check: bool = False
    only: tuple[str, ...] = BENCHMARKS
    rounds: int = 1
    peers: bool = False
    # the CPUs every dev server of the run is kept on; this process runs on the others
    server_cpus: tuple[int, ...] = ()

    def command(self) -> str:
        parts = ["python -m evals.bench", f"--size {self.size}", f"--out {self.out}"]
        parts += ["--baseline"] * self.baseline
        if self.ablate:
            parts.append(f"--ablate '{';'.join(self.ablate_only)}'" if self.ablate_only
                         else "--ablate")
        parts += ["--explore"] * self.explore + ["--kill-check"] * self.kill_check
        parts += [f"--rounds {self.rounds}"] if self.rounds != 1 else []
        parts += ["--peers"] * self.peers
        if self.server_cpus:
            parts.append(f"--server-cpus {','.join(map(str, self.server_cpus))}")
        if self.only != BENCHMARKS:
            parts.append(f"--only {','.join(self.only)}")
        return " ".join(parts)

    def configurations(self) -> list[Levers]:
        chosen = [a for a in ablations()
                  if self.ablate and (not self.ablate_only or a.name in self.ablate_only)]
        every = [*([BASELINE] if self.baseline else []), TUNED, *chosen,
                 *(explorations() if self.explore else [])]
        return [replace(c, server=self.placed(c.server)) for c in every]

    def placed(self, server: ServerTuning) -> ServerTuning:
        """``server`` on the run's server CPUs (unchanged without ``--server-cpus``)."""
        return replace(server, cpus=self.server_cpus) if self.server_cpus else server

    def bench_cpus(self) -> set[int] | None:
        """The CPUs this process keeps to with ``--server-cpus``: the ones it may use that the
        servers do not (None: no placement)."""
        if not self.server_cpus:
            return None
        return os.sched_getaffinity(0) - set(self.server_cpus)


async def run(options: Options) -> Report:
    """Run every configuration (one dev server each), ``rounds`` times in rotated order (the
    machine drifts), keep each metric's median over the rounds; then the optional kill check."""
    size = SIZES[options.size]
    report = Report(options.command(), options.size, machine())
    print(f"machine: {json.dumps(report.machine)}", flush=True)
    configs = options.configurations()
    rounds: dict[str, list[dict[str, Metrics]]] = {c.name: [] for c in configs}
    peers = _peers(options)
    peer_rounds: dict[str, list[dict[str, Metrics]]] = {p: [] for p in peers}
    with tempfile.TemporaryDirectory(prefix="jarvis-bench-") as tmp:
        for r in range(options.rounds):
            for k in range(len(configs)):
                levers = configs[(k + r) % len(configs)]
                folder = Path(tmp) / f"r{r}c{k}"
                rounds[levers.name].append(await run_config(levers, size, folder, options.only))
            for peer in peers:  # in the same round as JARVIS: the same machine state
                peer_rounds[peer].append(await run_peer(peer, size, Path(tmp) / f"r{r}{peer}",
                                                        options.placed(DEFAULT_TUNING)))
        for levers in configs:
            report.add(levers, {name: combine([one[name] for one in rounds[levers.name]])
                                for name in options.only})
            for name in options.only if options.rounds > 1 else ():
                report.each_round.setdefault(name, {})[levers.name] = [
                    one[name] for one in rounds[levers.name]]
        for peer, runs in peer_rounds.items():
            report.peers[peer] = {name: combine([one[name] for one in runs])
                                  for name in runs[0]}
        if options.kill_check:
            metrics = await kill_check(Path(tmp) / "kill", options.placed(DEFAULT_TUNING),
                                       size.kill_rounds, size.kill_burst)
            report.durability["tuned server flags"] = metrics
            print(f"durability: {json.dumps(metrics)}", flush=True)
    return report


def _peers(options: Options) -> tuple[str, ...]:
    """The peers to run, or an error naming what to install."""
    if not options.peers:
        return ()
    absent = missing()
    if absent:
        raise SystemExit("--peers: " + "; ".join(f"{p}: {why}" for p, why in absent.items()))
    return PEERS


def combine(runs: Sequence[Metrics]) -> Metrics:
    """One metrics dict from several rounds: the median of each number, the worst count of lost
    or completed runs, the first value of anything else."""
    out: Metrics = {}
    for key, first in runs[0].items():
        values = [r[key] for r in runs if key in r]
        if key.endswith("_lost") or key == "lost":
            out[key] = max(values)
        elif key.endswith("_completed") or key == "completed":
            out[key] = min(values)
        elif isinstance(first, float):
            out[key] = _round(_median(values))
        else:
            out[key] = first
    if len(runs) > 1:
        out["rounds"] = len(runs)
    return out


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=Path("eval-reports"))
    parser.add_argument("--baseline", action="store_true",
                        help="also run with every lever off (before/after in one run)")
    parser.add_argument("--ablate", nargs="?", const="", default=None, metavar="NAMES",
                        help="also run the tuned configuration minus one lever at a time "
                             "(optionally only NAMES, separated by ';': "
                             + "; ".join(a.name for a in ablations()) + ")")
    parser.add_argument("--explore", action="store_true",
                        help="also run levers tried and not adopted (rates, pollers, knobs)")
    parser.add_argument("--kill-check", action="store_true",
                        help="SIGKILL the tuned server after acknowledged runs; count losses")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every configuration this many times; report medians")
    parser.add_argument("--peers", action="store_true",
                        help="also run LangGraph (SQLite checkpointer, durability sync) and "
                             "DBOS (SQLite) on the same workloads (extra: .[peers]), and the "
                             "floor under any engine on Temporal (one local activity a run)")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)} (default: "
                             f"all of them), or {','.join(EXTRA_BENCHMARKS)} (longer: asked "
                             "for by name)")
    parser.add_argument("--server-cpus", default="", metavar="CPUS",
                        help="keep every dev server on these CPUs (comma-separated, e.g. 0) "
                             "and this process, its workers and the peers on the others: "
                             "the server's cost apart from the engines' (needs taskset)")
    args = parser.parse_args(argv)
    only = tuple(b.strip() for b in args.only.split(",") if b.strip())
    unknown = [b for b in only if b not in (*BENCHMARKS, *EXTRA_BENCHMARKS)]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    ablate_only = tuple(a.strip() for a in (args.ablate or "").split(";") if a.strip())
    names = {a.name for a in ablations()}
    if set(ablate_only) - names:
        parser.error(f"unknown ablation(s): {', '.join(sorted(set(ablate_only) - names))}; "
                     f"known: {'; '.join(sorted(names))}")
    return Options(size=args.size, out=args.out, baseline=args.baseline,
                   ablate=args.ablate is not None, ablate_only=ablate_only,
                   explore=args.explore, kill_check=args.kill_check, only=only,
                   rounds=max(1, args.rounds), peers=args.peers,
                   server_cpus=_server_cpus(parser, args.server_cpus))


def _server_cpus(parser: argparse.ArgumentParser, text: str) -> tuple[int, ...]:
    """``--server-cpus``: CPUs this process may use, leaving at least one for itself."""
    if not text.strip():
        return ()
    usable = os.sched_getaffinity(0)
    try:
        cpus = tuple(sorted({int(c) for c in text.split(",") if c.strip()}))
    except ValueError:
        parser.error(f"--server-cpus {text!r}: give CPU numbers separated by commas, e.g. 0")
    if not cpus or set(cpus) - usable:
        parser.error(f"--server-cpus {text!r}: this process may use CPUs "
                     f"{','.join(map(str, sorted(usable)))} only")
    if not usable - set(cpus):
        parser.error(f"--server-cpus {text!r}: leaves no CPU for the benchmark itself (of "
                     f"{','.join(map(str, sorted(usable)))}); name fewer")
    return cpus


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so the dev servers this run started are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("temporalio").setLevel(logging.ERROR)  # failed attempts are expected
    options = parse_args(argv)
    cpus = options.bench_cpus()
    if cpus:  # before any thread starts: the event loop's, the SDK's and the peers' inherit it
        os.sched_setaffinity(0, cpus)
        print(f"servers on CPUs {','.join(map(str, options.server_cpus))}, this process on "
              f"{','.join(map(str, sorted(cpus)))}", flush=True)
    report = asyncio.run(run(options))
    for path in report.write(options.out):
        print(f"wrote {path}")
    return 0

