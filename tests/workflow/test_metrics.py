"""The worker's /metrics read back through a real Prometheus server (Debian's `prometheus`
package, scripts/install-prometheus.sh): a worker process with JARVIS_METRICS_PORT runs goals
that exercise every JARVIS series (an LLM draft with a repair, template hits, a failing step,
two goals waiting for approval: one rejected, one cancelled), Prometheus scrapes it every
second, and the test asks Prometheus's HTTP API for the series."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.client import Client

from agents.approval_gauge import count_waiting
from agents.client import JarvisClient
from agents.devserver import free_port, port_open, stop_process
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.pricing import ModelPrice, cost_of
from planner.settings import Settings
from tests.paths import ROOT
from tests.plans import BROKEN_PLAN, COFFEE_GOAL, TEA_GOAL, TEA_PLAN
from tests.processes import start_worker_process, wait_for_pollers

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
DASHBOARD = ROOT / "deploy" / "grafana" / "jarvis-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
pytestmark = pytest.mark.skipif(
    not PROMETHEUS.exists(),
    reason=f"{PROMETHEUS} is missing: run `sudo bash scripts/install-prometheus.sh` (Debian's "
           "prometheus package; scripts/test.sh does)")

MILK_GOAL = "Save the line Milk is fine to milk.txt"
JUICE_GOAL = "Save the line Juice is sweet to juice.txt"
FAILING_GOAL = "Show me the password file"
FAILING_PLAN: dict[str, Any] = {
    "goal": FAILING_GOAL,
    "steps": [{"id": "lines", "tool": "calc", "args": {"expression": "2 * 3"}},  # pure: inline
              {"id": "read", "tool": "read_file", "args": {"path": "/etc/passwd"}}],
    "outputs": {"text": "${read.text}", "lines": "${lines.value}"},
}
PRICE = ModelPrice(input=2.0, output=8.0)
# (prompt, completion) tokens of the three LLM replies: broken draft, repair, failing plan
TOKENS = [(300, 40), (350, 45), (200, 30)]
JARVIS_SERIES = {
    "jarvis_goals_total", "jarvis_plan_problems_total", "jarvis_template_lookups_total",
    "jarvis_llm_tokens_total", "jarvis_llm_cost_total", "jarvis_goals_waiting_for_approval",
    *(f"{base}_{suffix}" for base in ("jarvis_repair_rounds", "jarvis_step_duration_seconds")
      for suffix in ("bucket", "sum", "count")),
}


class Prometheus:
    """A Prometheus server of the test's own; ``query`` is an instant query of its HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Series -> value; the series is its labels other than the scrape's own."""
        qs = urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{qs}", timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return {tuple(sorted((k, v) for k, v in r["metric"].items()
                             if k not in ("instance", "job", "service_name", "namespace",
                                          "task_queue", "workflow_type"))):
                float(r["value"][1]) for r in body["data"]["result"]}

    def value(self, promql: str) -> float | None:
        """The one value of a query that sums to one series (None: no such series yet)."""
        found = self.query(promql)
        return next(iter(found.values())) if found else None

    def wait_for(self, promql: str, check: Callable[[float | None], bool],
                 timeout_s: float = 20.0) -> float | None:
        """Poll until the query's value passes ``check`` (scrapes come every second)."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.value(promql)
            if check(value) or time.monotonic() > deadline:
                assert check(value), f"{promql} = {value} after {timeout_s}s"
                return value
            time.sleep(0.25)


@pytest.fixture
def metrics_port() -> int:
    return free_port()


@pytest.fixture
def prometheus(tmp_path: Path, metrics_port: int) -> Iterator[Prometheus]:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    config = folder / "prometheus.yml"
    config.write_text(json.dumps({  # YAML is a superset of JSON
        "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
        "scrape_configs": [{"job_name": "jarvis-worker",
                            "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}],
    }))
    port = free_port()
    log = open(folder / "prometheus.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [str(PROMETHEUS), f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _ready(url):
            assert proc.poll() is None, (folder / "prometheus.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "prometheus did not become ready in 20s"
            time.sleep(0.1)
        yield Prometheus(url)
    finally:
        stop_process(proc)
        log.close()


def _dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [t["expr"] for panel in panels for t in panel.get("targets", [])]
    # Grafana's variables, as Grafana would fill them in for a short range
    return [e.replace("$__rate_interval", "10s").replace("$__range", "1m") for e in exprs]


def test_alert_rules_and_scrape_config_pass_promtool() -> None:
    """The production files in deploy/prometheus/ (the rule file is mounted elsewhere in the
    container, so the config is checked for syntax only)."""
    for check in (["check", "rules", str(ALERTS)],
                  ["check", "config", "--syntax-only", str(ALERTS.with_name("prometheus.yml"))]):
        out = subprocess.run([str(PROMTOOL), *check], capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


async def test_worker_metrics_read_back_through_prometheus(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM, prometheus: Prometheus,
        metrics_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = scripted_llm.model
    for name, value in {
        "JARVIS_LLM_BASE_URL": scripted_llm.base_url, "JARVIS_LLM_API_KEY": "scripted-key",
        "JARVIS_LLM_MODEL": model, "JARVIS_LLM_TIMEOUT_S": "10",
        "JARVIS_EMBEDDING_BACKEND": "hashing", "JARVIS_METRICS_PORT": str(metrics_port),
        "JARVIS_METRICS_SAMPLE_S": "0.5",
        "JARVIS_LLM_PRICES": json.dumps({model: PRICE.model_dump()}),
    }.items():
        monkeypatch.setenv(name, value)  # the worker process inherits them
    (broken, fixed, failing) = TOKENS
    scripted_llm.expect(reply_json(BROKEN_PLAN, prompt_tokens=broken[0],
                                   completion_tokens=broken[1]))
    scripted_llm.expect(reply_json(TEA_PLAN, prompt_tokens=fixed[0], completion_tokens=fixed[1]),
                        expects_text_in_messages="unknown_tool")
    scripted_llm.expect(reply_json(FAILING_PLAN, prompt_tokens=failing[0],
                                   completion_tokens=failing[1]))
    worker = start_worker_process(settings, tmp_path / "worker.log")
    goals = JarvisClient(client, settings)
    try:
        await wait_for_pollers(goals, worker)
        assert port_open("127.0.0.1", metrics_port), "the worker serves no /metrics"

        repaired = await goals.result(await goals.submit(TEA_GOAL, policy="approve-all"))
        assert repaired.stage == "succeeded" and repaired.repair_rounds == 1, repaired.message
        reused = await goals.result(await goals.submit(COFFEE_GOAL, policy="approve-all"))
        assert reused.source == "template" and reused.stage == "succeeded", reused.message
        failed = await goals.result(await goals.submit(FAILING_GOAL, policy="approve-all"))
        assert failed.stage == "failed" and failed.run is not None, failed.message
        waiting_ids = [await goals.submit(g, policy="auto-read-only")
                       for g in (MILK_GOAL, JUICE_GOAL)]
        for goal_id in waiting_ids:
            waiting = await goals.wait_for_review(goal_id)
            assert waiting.source == "template" and waiting.stage == "awaiting_approval"

        prometheus.wait_for("jarvis_goals_waiting_for_approval", lambda v: v == 2)  # indexed
        # a namespace without the search attributes: each goal asked, the same count
        assert await count_waiting(client, settings.task_queue, indexed=False) == 2
        await goals.reject(waiting_ids[0], by="test", reason="no milk")
        assert (await goals.result(waiting_ids[0])).stage == "rejected"
        prometheus.wait_for("jarvis_goals_waiting_for_approval", lambda v: v == 1)
        await goals.cancel(waiting_ids[1])
        prometheus.wait_for("jarvis_goals_waiting_for_approval", lambda v: v == 0)
        prometheus.wait_for('sum(jarvis_goals_total{outcome=~"rejected|cancelled"})',
                            lambda v: v == 2)

        p = prometheus.query
        assert p("sum by (outcome) (jarvis_goals_total)") == {
            (("outcome", "succeeded"),): 2, (("outcome", "failed"),): 1,
            (("outcome", "rejected"),): 1, (("outcome", "cancelled"),): 1}
        assert p("sum by (code) (jarvis_plan_problems_total)") == {
            (("code", "unknown_tool"),): 1}
        # the LLM-planned goals: the tea goal needed one round, the failing one none
        assert p("sum(jarvis_repair_rounds_sum)") == {(): 1}
        assert p("sum(jarvis_repair_rounds_count)") == {(): 2}
        assert p('sum(jarvis_repair_rounds_bucket{le="0"})') == {(): 1}
        lookups = p("sum by (result) (jarvis_template_lookups_total)")
        assert lookups[(("result", "hit"),)] == 3, lookups  # coffee, milk, juice
        assert set(lookups) <= {(("result", r),) for r in ("hit", "example", "miss")}
        assert sum(lookups.values()) == 5, lookups
        assert p("sum by (model, kind) (jarvis_llm_tokens_total)") == {
            (("kind", "input"), ("model", model)): sum(t[0] for t in TOKENS),
            (("kind", "output"), ("model", model)): sum(t[1] for t in TOKENS)}
        cost = p("sum by (model) (jarvis_llm_cost_total)")[(("model", model),)]
        expected = sum(cost_of(model, i, o, {model: PRICE}) for i, o in TOKENS)
        assert cost == pytest.approx(expected) and expected > 0
        steps = p("sum by (tool, outcome) (jarvis_step_duration_seconds_count)")
        assert steps == {(("outcome", "succeeded"), ("tool", "write_file")): 2,
                         (("outcome", "failed"), ("tool", "read_file")): 1,
                         (("outcome", "succeeded"), ("tool", "calc")): 1}, steps
        assert p('sum(jarvis_step_duration_seconds_bucket{le="+Inf"})') == {(): 4}
        # the pure step ran in the workflow (no activity): counted, with no time of its own
        assert p('sum(jarvis_step_duration_seconds_sum{tool="calc"})') == {(): 0}

        # exactly these JARVIS names (no suffix added by the exporter), next to the SDK's own
        names = {dict(k)["__name__"] for k in p('{__name__=~"jarvis_.+"}')}
        assert names == JARVIS_SERIES
        assert p('sum(temporal_workflow_completed{workflow_type="jarvis.Goal"})') == {(): 3}
        assert p('sum(temporal_workflow_failed{workflow_type="jarvis.Goal"})') == {(): 1}
        assert p('sum(temporal_workflow_canceled{workflow_type="jarvis.Goal"})') == {(): 1}

        # every query of the Grafana dashboard finds its series; every alert expression parses
        for expr in _dashboard_queries():
            assert p(expr), f"the dashboard's query finds nothing: {expr}"
        for rule in yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]:
            p(rule["expr"])
    finally:
        stop_process(worker)
