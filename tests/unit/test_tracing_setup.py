"""Turning traces on and off (agents/tracing.py): off by default with nothing of OpenTelemetry
loaded, the OTLP URL, and console spans on stderr (a command's stdout stays its output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agents.tracing import traces_url


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True, env={**os.environ, **env})


def test_off_by_default_loads_nothing_of_opentelemetry() -> None:
    out = run_python(
        "import sys, json\n"
        "import agents.connection, agents.worker, agents.goal_workflow\n"
        "from agents import tracing\n"
        "from activities import spans\n"
        "from planner.settings import Settings\n"
        "assert tracing.interceptor_for(Settings()) is None\n"
        "with spans.tool_span('echo', 's1', 1), spans.llm_span('m', None) as s:\n"
        "    s.answered(response_model='m', input_tokens=1, output_tokens=1,\n"
        "               finish_reasons=['stop'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('opentelemetry'))))")
    assert json.loads(out.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize(("endpoint", "url"), [
    ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
    ("http://collector:4318/", "http://collector:4318/v1/traces"),
    ("https://otlp.example.com/v1/traces", "https://otlp.example.com/v1/traces"),
])
def test_the_endpoint_is_a_base_url(endpoint: str, url: str) -> None:
    assert traces_url(endpoint) == url


def test_console_spans_go_to_stderr() -> None:
    out = run_python(
        "from agents import tracing\n"
        "from activities import spans\n"
        "from planner.settings import Settings\n"
        "assert tracing.interceptor_for(Settings()) is not None\n"
        "try:\n"
        "    with spans.tool_span('echo', 's1', 2):\n"
        "        raise ValueError('boom')\n"
        "except ValueError:\n"
        "    pass\n"
        "tracing.flush()\n"
        "print('the output')",
        JARVIS_OTEL_CONSOLE="true", JARVIS_OTEL_SERVICE_NAME="console-test")
    assert out.stdout.strip() == "the output"
    span = json.loads(out.stderr[out.stderr.index("{"):])
    assert span["name"] == "execute_tool echo"
    assert span["attributes"]["jarvis.attempt"] == 2
    assert span["attributes"]["jarvis.outcome"] == "failed"
    assert span["attributes"]["error.type"] == "ValueError"
    assert span["status"]["status_code"] == "ERROR"
    assert span["resource"]["attributes"]["service.name"] == "console-test"
