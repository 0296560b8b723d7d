"""The dashboard's server-rendered SVG charts, drawn like the trend charts
(app/records/charts.py: the same font, colours, text helper and round
ticks): bars over days or weeks (with a capacity line where there is one),
lines of a few series over weeks, and horizontal bars for named rows.

Presentation attributes only (no style, no script), every text escaped; each
chart carries its one-sentence summary as aria-label and <desc>, and the
page shows the same figures as a table beside it.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from app.records import services as records

trend = records.charts  # the trend charts' font, colours, text and tick helpers

INK, MUTED, GRID, BAR, ALERT, SECOND = trend.INK, trend.MUTED, trend.GRID, trend.LINE, trend.ALERT, trend.SECOND
TEXT_SIZE, TITLE_SIZE = trend.TEXT_SIZE, trend.TITLE_SIZE
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, BOTTOM = 46, 14, 28


@dataclass
class Line:
    """A series drawn as a line: its name in the legend, a value per category (None: no line there)."""
    name: str
    values: Sequence[float | None]
    colour: str = ALERT
    dash: str = ""


def _legend(entries: list[tuple[str, str]], width: int) -> tuple[list[str], float]:
    """(colour or "line:colour:dash", name) pairs under the title; the y where the plot may start."""
    out, x, y = [], 8.0, 38.0
    for sample, name in entries:
        size = 22 + trend._width(name, TEXT_SIZE)
        if x > 8 and x + size > width - 6:
            x, y = 8.0, y + 19
        if sample.startswith("line:"):
            _, colour, dash = sample.split(":")
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 14:.1f}" y2="{y - 4:.1f}" stroke="{colour}" '
                       f'stroke-width="2.5"{dashed}/>')
        else:
            out.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" height="11" fill="{sample}"/>')
        out.append(trend._text(x + 19, y, name, TEXT_SIZE, MUTED, kind="legend"))
        x += size + 12
    return out, (y + 16 if entries else 30.0)


def _title(title: str, width: int) -> str:
    head = title
    while len(head) > 1 and trend._width(head, TITLE_SIZE) > width - 16:
        head = head[:-2] + "…"
    return trend._text(8, 18, head, TITLE_SIZE, INK, weight="bold", kind="chart-title")


def _grid(left: float, right: float, top: float, bottom: float,
          ticks: list[float]) -> tuple[list[str], Callable[[float], float]]:
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
    out = []
    for tick in ticks:
        out.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{right}" y2="{y(tick):.1f}" stroke="{GRID}" '
                   f'stroke-width="1"/>')
        out.append(trend._text(left - 5, y(tick) + 4.5, trend.fmt(tick, step), TEXT_SIZE, MUTED, "end", kind="axis"))
    return out, y


def _category_labels(labels: Sequence[str], xs: list[float], bottom: float) -> list[str]:
    """Labels under the categories; crowded ones are left out (the table has them all)."""
    out, last = [], -1e9
    for label, x in zip(labels, xs, strict=True):
        if x - last < trend._width(label, TEXT_SIZE) + 8:
            continue
        last = x
        out.append(trend._text(x, bottom + 18, label, TEXT_SIZE, MUTED, "middle", kind="axis"))
    return out


def _empty(parts: list[str], width: int, height: int, top: float, empty: str) -> str:
    parts += [f'<rect x="{LEFT}" y="{top}" width="{width - LEFT - RIGHT}" height="{height - top - BOTTOM}" '
              f'fill="none" stroke="{GRID}" stroke-dasharray="4 3"/>',
              trend._text(width / 2, (top + height - BOTTOM) / 2 + 5, empty, TEXT_SIZE, MUTED, "middle"), "</svg>"]
    return "\n".join(parts)


def columns_svg(title: str, summary: str, labels: Sequence[str], values: Sequence[float], *, bar_name: str,
                lines: Sequence[Line] = (), empty: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    """Bars over ordered categories (days, weeks), optionally with lines over them (a day's capacity)."""
    parts = trend._open(summary, title, width, height) + [_title(title, width)]
    entries = [(BAR, bar_name)] + [(f"line:{line.colour}:{line.dash}", line.name) for line in lines]
    legend, top = _legend(entries, width)
    parts += legend
    known = [float(v) for v in values] + [float(v) for line in lines for v in line.values if v is not None]
    if not labels or not any(known):
        return _empty(parts, width, height, top, empty)
    ticks = trend.nice_ticks(0, max(known) * 1.05 or 1)
    left, right, bottom = LEFT, width - RIGHT, height - BOTTOM
    grid, y = _grid(left, right, top, bottom, ticks)
    parts += grid
    slot = (right - left) / len(labels)
    bar = max(1.0, slot * 0.7)
    xs = [left + slot * (i + 0.5) for i in range(len(labels))]
    for x, label, value in zip(xs, labels, values, strict=True):
        if value:
            parts.append(f'<rect class="bar" x="{x - bar / 2:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                         f'height="{bottom - y(value):.1f}" fill="{BAR}"><title>{escape(label)}: '
                         f'{escape(trend.fmt(value))}</title></rect>')
    for line in lines:
        parts += _polyline(line, xs, y, slot)
    parts += _category_labels(labels, xs, bottom)
    parts.append("</svg>")
    return "\n".join(parts)


def _polyline(line: Line, xs: list[float], y: Callable[[float], float], slot: float) -> list[str]:
    """A step line (each category's value across its slot), broken where a value is missing."""
    out: list[str] = []
    run: list[str] = []
    dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
    for x, value in [*zip(xs, line.values, strict=True), (None, None)]:
        if value is None or x is None:
            if run:
                out.append(f'<polyline class="series" points="{" ".join(run)}" fill="none" stroke="{line.colour}" '
                           f'stroke-width="2"{dash} stroke-linejoin="round"/>')
            run = []
            continue
        run += [f"{x - slot / 2:.1f},{y(value):.1f}", f"{x + slot / 2:.1f},{y(value):.1f}"]
    return out


def lines_svg(title: str, summary: str, labels: Sequence[str], lines: Sequence[Line], *, empty: str,
              width: int = WIDTH, height: int = HEIGHT) -> str:
    """A few series over ordered categories, each a line with a dot a value."""
    parts = trend._open(summary, title, width, height) + [_title(title, width)]
    legend, top = _legend([(f"line:{line.colour}:{line.dash}", line.name) for line in lines], width)
    parts += legend
    known = [float(v) for line in lines for v in line.values if v is not None]
    if not labels or not any(known):
        return _empty(parts, width, height, top, empty)
    ticks = trend.nice_ticks(0, max(known) * 1.05 or 1)
    left, right, bottom = LEFT, width - RIGHT, height - BOTTOM
    grid, y = _grid(left, right, top, bottom, ticks)
    parts += grid
    slot = (right - left) / len(labels)
    xs = [left + slot * (i + 0.5) for i in range(len(labels))]
    for line in lines:
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        points = [(x, v) for x, v in zip(xs, line.values, strict=True) if v is not None]
        path = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in points)
        parts.append(f'<polyline class="series" points="{path}" fill="none" stroke="{line.colour}" '
                     f'stroke-width="2"{dash} stroke-linejoin="round"/>')
        for (x, v), label in zip(points, [lb for lb, v in zip(labels, line.values, strict=True) if v is not None],
                                 strict=True):
            parts.append(f'<circle class="marker" cx="{x:.1f}" cy="{y(v):.1f}" r="3.5" fill="{line.colour}" '
                         f'stroke="#fff" stroke-width="1.2"><title>{escape(line.name)} '
                         f'{escape(label)}: {escape(trend.fmt(v))}</title></circle>')
    parts += _category_labels(labels, xs, bottom)
    parts.append("</svg>")
    return "\n".join(parts)


def bars_svg(title: str, summary: str, rows: Sequence[tuple[str, float, str]], *, scale: float | None = None,
             empty: str, width: int = WIDTH) -> str:
    """Horizontal bars for named rows: (name, value, the value as written). ``scale`` is the full bar's
    value (1.0 for shares), else the largest value."""
    row_height, top = 24, 34
    height = top + max(1, len(rows)) * row_height + 10
    parts = trend._open(summary, title, width, height) + [_title(title, width)]
    if not rows:
        return _empty(parts, width, max(height, 110), top, empty)
    names = [name for name, _v, _t in rows]
    label_width = min(width * 0.4, max(trend._width(n, TEXT_SIZE) for n in names) + 12)
    left, right = label_width + 8, width - 70
    full = scale or max(v for _n, v, _t in rows) or 1
    for index, (name, value, written) in enumerate(rows):
        y = top + index * row_height
        shown = name
        while len(shown) > 1 and trend._width(shown, TEXT_SIZE) > label_width:
            shown = shown[:-2] + "…"
        parts.append(trend._text(left - 6, y + 16, shown, TEXT_SIZE, INK, "end", kind="axis"))
        length = max(0.0, min(1.0, value / full)) * (right - left)
        parts.append(f'<rect x="{left:.1f}" y="{y + 4}" width="{right - left:.1f}" height="16" fill="{GRID}"/>')
        parts.append(f'<rect class="bar" x="{left:.1f}" y="{y + 4}" width="{length:.1f}" height="16" fill="{BAR}">'
                     f'<title>{escape(name)}: {escape(written)}</title></rect>')
        parts.append(trend._text(left + length + 6, y + 16, written, TEXT_SIZE, INK, kind="value"))
    parts.append("</svg>")
    return "\n".join(parts)
