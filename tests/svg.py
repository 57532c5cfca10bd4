"""Reading the timeline SVG in tests: steps, bars, spans, texts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from planner.contracts.plan_run import StepError, StepState
from planner.scheduler import StepStatus

SVG_NS = "{http://www.w3.org/2000/svg}"
T0 = 1_700_000_000.0


def step(step_id: str, status: StepStatus, start: float | None = None,
         end: float | None = None, *, tool: str = "calc", attempts: int = 1,
         error: str | None = None) -> StepState:
    return StepState(
        id=step_id, tool=tool, status=status, attempts=attempts if start is not None else 0,
        started_at=None if start is None else T0 + start,
        finished_at=None if end is None else T0 + end,
        error=StepError(step_id=step_id, tool=tool, type="ToolError", message=error)
        if error else None)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return root


def steps_of(root: ET.Element) -> dict[str, ET.Element]:
    return {g.attrib["data-step"]: g for g in root.iter(f"{SVG_NS}g")
            if g.attrib.get("class") == "step"}


def bar(group: ET.Element) -> ET.Element | None:
    return next((r for r in group.iter(f"{SVG_NS}rect") if r.attrib.get("class") == "bar"), None)


def span_of(group: ET.Element) -> tuple[float, float]:
    rect = bar(group)
    assert rect is not None, f"step {group.attrib['data-step']} has no bar"
    return float(rect.attrib["data-start"]), float(rect.attrib["data-end"])


def texts(element: ET.Element, cls: str | None = None) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG_NS}text")
            if cls is None or t.attrib.get("class") == cls]


def title_of(root: ET.Element) -> str:
    title = root.find(f"{SVG_NS}title")
    assert title is not None
    return "".join(title.itertext())
