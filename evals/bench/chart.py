"""Line charts as standalone SVG (no plotting library): the scaling curves of the benchmark."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 150, 40, 50
COLOURS = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed")

Series = Mapping[str, Sequence[tuple[float, float]]]


def line_chart(title: str, x_label: str, y_label: str, series: Series, *,
               log_x: bool = True) -> str:
    """An SVG line chart of ``series`` (name -> points), x on a log scale by default; y from
    zero to a little above the largest value."""
    points = [p for pts in series.values() for p in pts if _finite(p)]
    if not points:
        raise ValueError(f"chart {title!r}: no finite point to draw")
    xs = sorted({x for x, _ in points})
    fx = math.log10 if log_x else (lambda v: v)
    x0, x1 = fx(xs[0]), fx(xs[-1])
    y1 = _nice(max(y for _, y in points) * 1.1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (plot_w * (fx(x) - x0) / (x1 - x0) if x1 > x0 else plot_w / 2)

    def py(y: float) -> float:
        return TOP + plot_h * (1 - y / y1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="#fff"/>',
             f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>']
    for k in range(5):  # horizontal grid and y ticks
        y = y1 * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py(y):.1f}" '
                     f'y2="{py(y):.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">'
                     f'{_tick(y)}</text>')
    for x in xs:
        parts.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
                     f'{_tick(x)}</text>')
    parts += [f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#111"/>',
              f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" '
              f'y2="{TOP + plot_h}" stroke="#111"/>',
              f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
              f'{escape(x_label)}</text>',
              f'<text x="16" y="{TOP + plot_h / 2}" text-anchor="middle" '
              f'transform="rotate(-90 16 {TOP + plot_h / 2})">{escape(y_label)}</text>']
    for k, (name, pts) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        drawn = [(px(x), py(y)) for x, y in pts if _finite((x, y))]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}"
                        for i, (x, y) in enumerate(drawn))
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
                  for x, y in drawn]
        ly = TOP + 16 + 18 * k
        parts.append(f'<line x1="{LEFT + plot_w + 12}" x2="{LEFT + plot_w + 30}" y1="{ly - 4}" '
                     f'y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{LEFT + plot_w + 34}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _finite(point: tuple[float, float]) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in point)


def _nice(value: float) -> float:
    """A round number at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = float(10.0 ** math.floor(math.log10(value)))
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= value)


def _tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:g}"
