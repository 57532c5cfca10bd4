"""A timeline (Gantt) picture of a plan run's steps, as a self-contained SVG (PNG optional).

``render_svg`` is a pure function of a ``RunState``: one row per step in plan order, a bar from
``started_at`` to ``finished_at`` relative to the run's first start, coloured by status, the
attempts when a step needed more than one, a time axis, a legend and the makespan in the title.
Every piece of text is XML-escaped (step ids, tool names, goals and error messages come from
users and LLMs), and the picture uses no script, font file or other external resource.

The SVG carries machine-readable attributes for tests and the web app: each step is a
``<g class="step" data-step=ID data-status=STATUS data-attempts=N>``; a step that ran has a
``<rect class="bar" data-start=S data-end=E>`` (seconds since the run's first start).

``render_png`` rasterises the SVG with the optional ``resvg-py`` package (a self-contained wheel:
no system library needed; text needs some system font, e.g. Debian's ``fonts-dejavu-core``).
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from planner.contracts.plan_run import RunState, StepState
from planner.scheduler import StepStatus

STATUS_COLOURS: dict[StepStatus, str] = {
    StepStatus.SUCCEEDED: "#2e9e5b",
    StepStatus.FAILED: "#d64541",
    StepStatus.RUNNING: "#e8a317",
    StepStatus.SKIPPED: "#5dade2",
    StepStatus.BLOCKED: "#a0522d",
    StepStatus.CANCELLED: "#8e44ad",
    StepStatus.PENDING: "#95a5a6",
}
LEGEND_ORDER = (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.RUNNING, StepStatus.SKIPPED,
                StepStatus.BLOCKED, StepStatus.CANCELLED, StepStatus.PENDING)
FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"

PAD = 16
ROW_H = 26
BAR_H = 16
CHART_W = 640
RIGHT_W = 170  # room for the text after a bar that ends near the right edge
CHAR_W = 7.2  # rough width of one 12 px character, for layout only
LABEL_CHARS = 44
TITLE_H = 22
SUBTITLE_H = 18
LEGEND_H = 24
AXIS_H = 22
FOOTER_H = 20

# Tick steps in seconds: 1-2-5 below a minute, then clock-friendly ones.
_TICK_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0,
               30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
               43200.0, 86400.0)
_MAX_TICKS = 8
# Characters XML 1.0 forbids (a goal may contain them; the SVG must still parse).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class PngUnavailable(RuntimeError):
    """PNG output needs the optional package resvg-py."""


@dataclass(frozen=True)
class Bar:
    """Where one step's bar goes, in seconds since the run's first start."""

    start: float
    end: float
    open_end: bool  # running, or the engine did not record when it ended


@dataclass(frozen=True)
class Span:
    """The run's time frame: ``origin`` (epoch s) and the makespan in seconds."""

    origin: float
    makespan: float
    started: bool


def run_span(state: RunState, now: float | None = None) -> Span:
    """From the first step start to the last recorded time (``now`` while the run runs)."""
    starts = [s.started_at for s in state.steps if s.started_at is not None]
    if not starts:
        return Span(origin=0.0, makespan=0.0, started=False)
    origin = min(starts)
    times = starts + [s.finished_at for s in state.steps if s.finished_at is not None]
    if now is not None and (state.status == "running"
                            or any(s.status is StepStatus.RUNNING for s in state.steps)):
        times.append(now)
    return Span(origin=origin, makespan=max(0.0, max(times) - origin), started=True)


def step_bar(step: StepState, span: Span) -> Bar | None:
    """The bar of a step that started; None for one that never did."""
    if step.started_at is None or not span.started:
        return None
    start = step.started_at - span.origin
    if step.finished_at is not None and step.finished_at >= step.started_at:
        return Bar(start, step.finished_at - span.origin, open_end=False)
    # Running, or failed/cancelled without a recorded end: up to the last known instant.
    return Bar(start, max(start, span.makespan), open_end=True)


def ticks(makespan: float) -> tuple[float, list[float]]:
    """A tick step and the ticks from 0 to the first tick at or past the makespan."""
    span = max(makespan, 0.001)
    step = next((s for s in _TICK_STEPS if span / s <= _MAX_TICKS), 0.0)
    if not step:
        step = 86400.0 * math.ceil(span / 86400.0 / _MAX_TICKS)
    count = max(1, math.ceil(span / step - 1e-9))
    return step, [round(i * step, 6) for i in range(count + 1)]


def tick_label(value: float, step: float) -> str:
    if value == 0:
        return "0"
    if step < 1:
        return f"{value * 1000:.0f} ms"
    if step < 60:
        return f"{value:.0f} s"
    if step < 3600:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.0f} h"


def duration(seconds: float) -> str:
    """A short human duration: 250 ms, 1.25 s, 3 min 5 s, 2 h 10 min."""
    if 0 < seconds < 0.0005:
        return "<1 ms"
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60} min"


def render_svg(state: RunState, *, title: str | None = None, subtitle: str | None = None,
               now: float | None = None) -> str:
    """The run as a Gantt chart in a self-contained SVG document.

    ``title`` defaults to the run's goal; ``subtitle`` (e.g. the run id) is put before the facts
    line. ``now`` (epoch s) is where bars of running steps end; by default the latest time the
    state records, so the output depends on ``state`` alone."""
    span = run_span(state, now)
    step, tick_values = ticks(span.makespan)
    domain = tick_values[-1]
    labels = [_clip(f"{s.id} · {s.tool}", LABEL_CHARS) for s in state.steps]
    label_w = int(min(max([len(lb) for lb in labels] + [12]) * CHAR_W + 16,
                      LABEL_CHARS * CHAR_W + 16))
    chart_x = PAD + label_w
    width = chart_x + CHART_W + RIGHT_W + PAD
    rows_y = PAD + TITLE_H + SUBTITLE_H + LEGEND_H + AXIS_H
    rows_h = max(1, len(state.steps)) * ROW_H
    footer = _clip(state.failure_report(), int((width - 2 * PAD) / CHAR_W))
    height = rows_y + rows_h + PAD + (FOOTER_H if footer else 0)

    def x_of(seconds: float) -> float:
        return chart_x + CHART_W * (seconds / domain if domain else 0.0)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family={quoteattr(FONT)} font-size="12" '
        f'data-status={quoteattr(state.status)} data-makespan="{span.makespan:.3f}">',
    ]
    heading = title if title is not None else state.goal
    made = f"makespan {duration(span.makespan)}" if span.started else "no step started"
    title_text = f"{_clip(heading, int((width - 2 * PAD) / 8.6) - 40)} · {state.status} · {made}"
    out.append(f"<title>{_text(title_text)}</title>")
    out.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    y = PAD + 15
    out.append(f'<text class="title" x="{PAD}" y="{y}" font-size="15" font-weight="bold" '
               f'fill="#1b2631">{_text(title_text)}</text>')
    facts = [subtitle] if subtitle else []
    facts += [f"{len(state.steps)} step{'s' if len(state.steps) != 1 else ''}",
              f"{state.engine} engine"]
    if state.status == "running":
        facts.append("partial: the run is still running")
    y += SUBTITLE_H + 2
    out.append(f'<text class="subtitle" x="{PAD}" y="{y}" fill="#566573">'
               f"{_text(_clip(' · '.join(facts), int((width - 2 * PAD) / CHAR_W)))}</text>")
    out.extend(_legend(state.steps, PAD, PAD + TITLE_H + SUBTITLE_H + 6))
    out.extend(_axis(tick_values, step, x_of, rows_y, rows_h))
    for i, (st, label) in enumerate(zip(state.steps, labels, strict=True)):
        out.extend(_row(st, label, i, span, rows_y + i * ROW_H, x_of, width, chart_x))
    if not state.steps:
        out.append(f'<text x="{chart_x + 4}" y="{rows_y + 17}" fill="#566573">'
                   "the plan has no steps</text>")
    if footer:
        out.append(f'<text class="error" x="{PAD}" y="{rows_y + rows_h + PAD + 6}" '
                   f'fill="{STATUS_COLOURS[StepStatus.FAILED]}">{_text(footer)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(steps: Iterable[StepState], x0: int, y0: int) -> list[str]:
    counts: dict[StepStatus, int] = {}
    for st in steps:
        counts[st.status] = counts.get(st.status, 0) + 1
    out = ['<g class="legend">']
    x = float(x0)
    for status in LEGEND_ORDER:
        if status not in counts:
            continue
        text = f"{status.value} ({counts[status]})"
        out.append(f'<g class="legend-item" data-status="{status.value}">'
                   f'<rect x="{x:.1f}" y="{y0}" width="12" height="12" rx="2" '
                   f'fill="{STATUS_COLOURS[status]}"/>'
                   f'<text x="{x + 17:.1f}" y="{y0 + 10}" fill="#1b2631">{text}</text></g>')
        x += 17 + len(text) * CHAR_W + 16
    out.append("</g>")
    return out


def _axis(tick_values: list[float], step: float, x_of: Callable[[float], float], rows_y: int,
          rows_h: int) -> list[str]:
    out = ['<g class="axis">']
    for value in tick_values:
        x = x_of(value)
        out.append(f'<line x1="{x:.1f}" y1="{rows_y - 4}" x2="{x:.1f}" y2="{rows_y + rows_h}" '
                   f'stroke="#d5d8dc" stroke-width="1"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{rows_y - 8}" text-anchor="middle" '
                   f'font-size="11" fill="#566573" data-seconds="{value:g}">'
                   f"{tick_label(value, step)}</text>")
    out.append("</g>")
    return out


def _row(st: StepState, label: str, index: int, span: Span, y: int,
         x_of: Callable[[float], float], width: int, chart_x: int) -> list[str]:
    colour = STATUS_COLOURS[st.status]
    out = [f'<g class="step" data-step={quoteattr(_clean(st.id))} '
           f'data-status="{st.status.value}" data-attempts="{st.attempts}">',
           f"<title>{_text(_tooltip(st, span))}</title>"]
    if index % 2 == 0:
        out.append(f'<rect class="row-bg" x="{PAD}" y="{y}" width="{width - 2 * PAD}" '
                   f'height="{ROW_H}" fill="#f4f6f7"/>')
    base = y + ROW_H // 2 + 4
    out.append(f'<text class="label" x="{PAD + 6}" y="{base}" fill="#1b2631">'
               f"{_text(label)}</text>")
    bar = step_bar(st, span)
    if bar is None:
        out.append(f'<text class="not-started" x="{chart_x + 4}" y="{base}" fill="{colour}" '
                   f'font-style="italic">{st.status.value} (not started)</text>')
        out.append("</g>")
        return out
    x1, x2 = x_of(bar.start), x_of(bar.end)
    w = max(x2 - x1, 2.0)
    style = (f' fill-opacity="0.55" stroke-dasharray="4 2" stroke="{colour}"'
             if bar.open_end else "")
    out.append(f'<rect class="bar" x="{x1:.1f}" y="{y + (ROW_H - BAR_H) // 2}" width="{w:.1f}" '
               f'height="{BAR_H}" rx="3" fill="{colour}"{style} '
               f'data-start="{bar.start:.3f}" data-end="{bar.end:.3f}"/>')
    note = _bar_note(st, bar)
    note_w = len(note) * CHAR_W
    if x1 + w + 6 + note_w <= width - PAD:
        out.append(f'<text class="bar-note" x="{x1 + w + 6:.1f}" y="{base}" fill="#1b2631">'
                   f"{_text(note)}</text>")
    elif x1 - 6 - note_w >= chart_x:
        out.append(f'<text class="bar-note" x="{x1 - 6:.1f}" y="{base}" text-anchor="end" '
                   f'fill="#1b2631">{_text(note)}</text>')
    else:  # inside the bar
        ink = "#1b2631" if bar.open_end else "#ffffff"
        out.append(f'<text class="bar-note" x="{x1 + 6:.1f}" y="{base}" fill="{ink}">'
                   f"{_text(note)}</text>")
    out.append("</g>")
    return out


def _bar_note(st: StepState, bar: Bar) -> str:
    took = duration(bar.end - bar.start)
    if st.status is StepStatus.RUNNING:
        parts = [f"running, {took} so far"]
    elif bar.open_end:  # the engine recorded no end: the bar's length is not a duration
        parts = [st.status.value, "end not recorded"]
    else:
        parts = [took] if st.status is StepStatus.SUCCEEDED else [took, st.status.value]
    if st.attempts > 1:
        parts.insert(1, f"{st.attempts} attempts")
    if st.error:
        parts.append(_clip(st.error.type, 24))
    return " · ".join(parts)


def _tooltip(st: StepState, span: Span) -> str:
    lines = [f"{st.id} ({st.tool}): {st.status.value}"]
    if st.attempts:
        lines.append(f"attempts: {st.attempts}")
    if st.started_at is not None and span.started:
        lines.append(f"start: +{duration(st.started_at - span.origin)}")
        if st.finished_at is not None:
            lines.append(f"end: +{duration(st.finished_at - span.origin)} "
                         f"(took {duration(st.finished_at - st.started_at)})")
    if st.error:
        lines.append(_clip(f"{st.error.type}: {st.error.message}", 300))
    return "\n".join(lines)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _text(text: str) -> str:
    """Text content, XML-escaped: a step id like ``<script>`` stays text."""
    return escape(_clean(text))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    limit = max(limit, 8)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def png_available() -> bool:
    try:
        importlib.import_module("resvg_py")
    except ImportError:
        return False
    return True


def render_png(svg: str, *, zoom: float = 2.0) -> bytes:
    """Rasterise an SVG from ``render_svg`` (needs ``pip install resvg-py``)."""
    try:
        resvg: Any = importlib.import_module("resvg_py")
    except ImportError as exc:
        raise PngUnavailable("PNG output needs the optional package resvg-py "
                             "(`pip install resvg-py`); the SVG has the same picture") from exc
    data: bytes = bytes(resvg.svg_to_bytes(svg_string=svg, background="#ffffff", zoom=zoom))
    return data


_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
              "/System/Library/Fonts", "/Library/Fonts", "C:/Windows/Fonts")


def system_fonts_found() -> bool:
    """Whether some font file exists where resvg looks (without one a PNG has no text)."""
    for folder in _FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir() and any(p.suffix.lower() in (".ttf", ".otf", ".ttc")
                                 for p in root.rglob("*")):
            return True
    return False
