"""Server-rendered SVG trend charts: one indicator across the years.

Plain SVG 1.1 with inline presentation attributes only (no script, no CSS), so
the same markup works in the browser, inline in HTML and in WeasyPrint PDFs.
Abnormal results are told apart by shape as well as colour: a hollow triangle
pointing up (above range) or down (below range), a hollow diamond when the lab
only said "abnormal". Every piece of text is XML-escaped.
"""
import math
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape, quoteattr

FONT = "Noto Sans CJK SC, sans-serif"
INK, MUTED, GRID, LINE, ALERT, BAND = "#1f2937", "#6b7280", "#e5e7eb", "#2563eb", "#dc2626", "#16a34a"
TOP, BOTTOM, LEFT, RIGHT, INSET = 44, 30, 48, 46, 18  # margins around the plot; INSET keeps markers off the edges
_WORDS = {
    "zh_CN": {"empty": "暂无数据", "range": "参考范围", "H": "高于范围", "L": "低于范围", "A": "异常"},
    "en": {"empty": "No data", "range": "Reference range", "H": "above range", "L": "below range", "A": "abnormal"},
}
_UNITS = {"mm[Hg]": "mmHg", "kg/m2": "kg/m²", "mL/min/{1.73_m2}": "mL/min/1.73m²", "m[IU]/L": "mIU/L"}


@dataclass
class ChartPoint:
    when: date
    value: float
    abnormal: bool
    label: str = ""
    direction: str = ""  # "H" above range, "L" below range, "" unknown or normal


def nice_number(x: float, rounding: bool = True) -> float:
    """A 1, 2 or 5 times a power of ten near x (Heckbert, Graphics Gems, 1990)."""
    exponent = math.floor(math.log10(x))
    fraction = x / 10 ** exponent
    if rounding:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10 ** exponent


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about ``count`` of them."""
    if high <= low:
        high = low + 1
    step = nice_number(nice_number(high - low, False) / (count - 1))
    start, stop = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    return [round(start + i * step, 10) for i in range(round((stop - start) / step) + 1)]


def fmt(value: float, step: float | None = None) -> str:
    """A number for people: as many decimals as the tick step (or two at most), no trailing zeros."""
    if step is not None:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        return f"{value:.{decimals}f}"
    text = f"{value:.3g}" if 0 < abs(value) < 0.1 else f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def unit_label(unit: str, locale: str = "zh_CN") -> str:
    if unit == "/min":
        return "次/分" if locale.startswith("zh") else "/min"
    return _UNITS.get(unit, unit)


def _width(text: str, size: float) -> float:
    """Rough rendered width: CJK glyphs are square, Latin ones a bit over half as wide."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.58 for c in text)


def _direction(point: ChartPoint, low: float | None, high: float | None) -> str:
    if not point.abnormal:
        return ""
    if point.direction in ("H", "L"):
        return point.direction
    if high is not None and point.value > high:
        return "H"
    return "L" if low is not None and point.value < low else "A"


def _text(x: float, y: float, text: str, size: float = 11, fill: str = INK, anchor: str = "start",
          weight: str = "normal") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}"{bold}>{escape(text)}</text>')


# ------------------------------------------------------------------ summary

def summary(points: list[ChartPoint], title: str, unit: str, low: float | None, high: float | None,
            locale: str = "zh_CN") -> str:
    """The chart in one sentence, for aria-label and <desc>."""
    zh, points = locale.startswith("zh"), sorted(points, key=lambda p: p.when)
    unit = unit_label(unit, locale)
    if not points:
        return f"{title}：{_WORDS['zh_CN']['empty']}" if zh else f"{title}: no data"
    first, last = points[0].when.year, points[-1].when.year
    latest = f"{fmt(points[-1].value)} {unit}".strip()
    counts = {d: sum(_direction(p, low, high) == d for p in points) for d in "HLA"}
    words = _WORDS["zh_CN" if zh else "en"]
    n = len(points)
    if zh:
        span = f"{first}年" if first == last else f"{first}至{last}年"
        parts = [f"{span}共{n}个数值", f"最近一次{latest}"]
        parts += [f"{c}个{words[d]}" for d, c in counts.items() if c] or ["均无异常"]
        return f"{title}：" + "，".join(parts)
    values = f"{n} value{'s' if n != 1 else ''}"
    parts = [f"{values} in {first}" if first == last else f"{values} from {first} to {last}", f"latest {latest}"]
    parts += [f"{c} {words[d]}" for d, c in counts.items() if c] or ["none abnormal"]
    return f"{title}: " + ", ".join(parts)


# ------------------------------------------------------------------ geometry

@dataclass
class _Frame:
    left: float
    top: float
    right: float
    bottom: float
    ticks: list[float]
    first: int  # date ordinals
    last: int

    def x(self, day: date) -> float:
        if self.last == self.first:
            return (self.left + self.right) / 2
        share = (day.toordinal() - self.first) / (self.last - self.first)
        return self.left + INSET + share * (self.right - self.left - 2 * INSET)

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)


def _ticks(values: list[float], low: float | None, high: float | None) -> list[float]:
    """Y ticks spanning every value and the reference band, with some room around them; a flat series
    gets a span of a fifth of its size so that small wobbles do not look like big swings."""
    known = values + [v for v in (low, high) if v is not None]
    lowest, highest = min(known), max(known)
    span = max(highest - lowest, max(abs(lowest), abs(highest)) * 0.2 or 1.0)
    middle = (highest + lowest) / 2
    bottom, top = min(lowest, middle - span / 2) - span * 0.08, max(highest, middle + span / 2) + span * 0.08
    if lowest >= 0 > bottom:
        bottom = 0.0  # lab values are not negative: do not invent a negative axis
    return nice_ticks(bottom, top)


def _frame(points: list[ChartPoint], low, high, width: int, height: int) -> _Frame:
    ticks = _ticks([p.value for p in points], low, high)
    return _Frame(LEFT, TOP, width - RIGHT, height - BOTTOM, ticks,
                  points[0].when.toordinal(), points[-1].when.toordinal())


# ------------------------------------------------------------------ pieces

def _heading(title: str, unit: str, directions: set[str], low, high, width: int, locale: str) -> list[str]:
    """The title on the left, a legend of what is drawn on the right."""
    words = _WORDS["zh_CN" if locale.startswith("zh") else "en"]
    head = f"{title}（{unit}）" if unit and locale.startswith("zh") else f"{title} ({unit})" if unit else title
    entries = (["band"] if low is not None or high is not None else []) + [d for d in "HLA" if d in directions]
    labels = [words["range" if kind == "band" else kind] for kind in entries]
    x = width - 10 - sum(_width(label, 11) + 30 for label in labels)
    while len(head) > 1 and _width(head, 14) > x - 24:  # the full title is in <title> and aria-label
        head = head[:-2] + "…"
    out = [_text(12, 20, head, 14, INK, weight="bold")]
    for kind, label in zip(entries, labels):
        if kind == "band":
            out.append(f'<rect x="{x:.1f}" y="10" width="14" height="11" fill="{BAND}" fill-opacity="0.15" '
                       f'stroke="{BAND}" stroke-width="1" stroke-dasharray="3 2"/>')
        else:
            out.append(_shape(kind, x + 7, 16))
        out.append(_text(x + 19, 20, label, 11, MUTED))
        x += _width(label, 11) + 30
    return out


def _grid(frame: _Frame) -> list[str]:
    step = frame.ticks[1] - frame.ticks[0]
    out = []
    for tick in frame.ticks:
        y = frame.y(tick)
        out.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" stroke="{GRID}" '
                   f'stroke-width="1"/>')
        out.append(_text(frame.left - 6, y + 3.5, fmt(tick, step), 10, MUTED, "end"))
    return out


def _band(frame: _Frame, low: float | None, high: float | None) -> list[str]:
    if low is None and high is None:
        return []
    top = frame.y(high) if high is not None else frame.top
    bottom = frame.y(low) if low is not None else frame.bottom
    out = [f'<rect class="band" x="{frame.left}" y="{top:.1f}" width="{frame.right - frame.left}" '
           f'height="{max(bottom - top, 0.5):.1f}" fill="{BAND}" fill-opacity="0.1"/>']
    for value in (v for v in (low, high) if v is not None):
        y = frame.y(value)
        out.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" stroke="{BAND}" '
                   f'stroke-width="1" stroke-dasharray="4 3"/>')
        out.append(_text(frame.right + 5, y + 3.5, fmt(value), 10, BAND))
    return out


def _shape(direction: str, x: float, y: float, attrs: str = "", inner: str = "") -> str:
    """A normal point is a filled dot; abnormal ones are hollow and larger: triangle up/down, diamond."""
    shapes: dict[str, list[tuple[float, float]]] = {
        "H": [(0, -7.5), (-7, 5), (7, 5)], "L": [(0, 7.5), (-7, -5), (7, -5)],
        "A": [(0, -7), (7, 0), (0, 7), (-7, 0)]}
    corners = shapes.get(direction)
    if corners is None:
        tag, body = "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LINE}" stroke="#fff" stroke-width="1.5"'
    else:
        tag = "polygon"
        body = (f'points="{" ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)}" fill="#fff" '
                f'stroke="{ALERT}" stroke-width="2" stroke-linejoin="round"')
    return f"<{tag} {attrs}{body}>{inner}</{tag}>" if inner else f"<{tag} {attrs}{body}/>"


def _series(frame: _Frame, points: list[ChartPoint], low, high, unit: str, locale: str) -> list[str]:
    """The line, the markers (each with a tooltip) and the values written next to them."""
    xy = [(frame.x(p.when), frame.y(p.value)) for p in points]
    out = []
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        out.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2" '
                   f'stroke-linejoin="round" stroke-linecap="round"/>')
    words = _WORDS["zh_CN" if locale.startswith("zh") else "en"]
    decimals = max(len(fmt(p.value).partition(".")[2]) for p in points)
    labels, last_x = [], math.inf
    for index in range(len(points) - 1, -1, -1):  # from the latest, which is always labelled
        point, (x, y) = points[index], xy[index]
        direction = _direction(point, low, high)
        tip = " ".join(t for t in (point.when.isoformat(), f"{fmt(point.value)} {unit}".strip(),
                                   words.get(direction, ""), point.label) if t)
        kind = {"H": "abnormal high", "L": "abnormal low", "A": "abnormal"}.get(direction, "normal")
        out.append(_shape(direction, x, y, f'class="marker {kind}" ', f"<title>{escape(tip)}</title>"))
        text = f"{point.value:.{decimals}f}"
        if last_x - x >= _width(text, 10.5) + 8:
            last_x = x
            below = direction == "L" or y - 12 < frame.top
            labels.append(_text(x, y + 19 if below else y - 11, text, 10.5, ALERT if direction else INK, "middle",
                                "bold" if direction else "normal"))
    return out + labels


def _dates(frame: _Frame, points: list[ChartPoint]) -> list[str]:
    """Years under the points, or YYYY-MM when a year holds more than one; crowded labels are left out."""
    years = [p.when.year for p in points]
    monthly = len(set(years)) < len(years)
    out, last_x, seen = [], -1e9, set()
    for point in points:
        label = f"{point.when:%Y-%m}" if monthly else str(point.when.year)
        x = frame.x(point.when)
        if label in seen or x - last_x < _width(label, 10) + 8:
            continue
        seen.add(label)
        last_x = x
        out.append(_text(x, frame.bottom + 17, label, 10, MUTED, "middle"))
    return out


def _empty(width: int, height: int, locale: str) -> list[str]:
    words = _WORDS["zh_CN" if locale.startswith("zh") else "en"]
    return [f'<rect x="{LEFT}" y="{TOP}" width="{width - LEFT - RIGHT}" height="{height - TOP - BOTTOM}" '
            f'fill="none" stroke="{GRID}" stroke-dasharray="4 3"/>',
            _text(width / 2, (TOP + height - BOTTOM) / 2 + 5, words["empty"], 13, MUTED, "middle")]


# ------------------------------------------------------------------ the chart

def trend_svg(points: list[ChartPoint], *, title: str, unit: str, ref_low: float | None, ref_high: float | None,
              width: int = 640, height: int = 220, locale: str = "zh_CN") -> str:
    points = sorted((p for p in points if p.value is not None and math.isfinite(p.value)), key=lambda p: p.when)
    if ref_low is not None and ref_high is not None and ref_low > ref_high:
        ref_low, ref_high = ref_high, ref_low
    shown = unit_label(unit, locale)
    label = summary(points, title, unit, ref_low, ref_high, locale)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(label)}>',
             f"<title>{escape(title)}</title>", f"<desc>{escape(label)}</desc>",
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    if not points:
        parts += _heading(title, shown, set(), None, None, width, locale) + _empty(width, height, locale)
    else:
        directions = {_direction(p, ref_low, ref_high) for p in points}
        frame = _frame(points, ref_low, ref_high, width, height)
        parts += _heading(title, shown, directions, ref_low, ref_high, width, locale)
        parts += _grid(frame) + _band(frame, ref_low, ref_high)
        parts += _series(frame, points, ref_low, ref_high, shown, locale) + _dates(frame, points)
    parts.append("</svg>")
    return "\n".join(parts)
