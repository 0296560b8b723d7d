"""Server-rendered SVG trend charts: one indicator across the years, or two
that belong together (systolic and diastolic blood pressure) in one chart.

Plain SVG 1.1 with inline presentation attributes only (no script, no CSS), so
the same markup works in the browser, inline in HTML and in WeasyPrint PDFs.
Abnormal results are told apart by shape as well as colour: a hollow triangle
pointing up (above range) or down (below range), a hollow diamond when the lab
only said "abnormal". Every piece of text is XML-escaped.

Sizes are in the SVG's own user units. The drawing is about as wide as the
narrowest place a page shows it in (a 320 px grid cell, a phone), so that when
it is scaled to fit, its smallest text (13 units) still renders at 11 px or
more; pages may show it larger, never much smaller.
"""
import math
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from app.records import units

FONT = "Noto Sans CJK SC, sans-serif"
INK, MUTED, GRID, LINE, ALERT, BAND = "#1f2937", "#4b5563", "#e5e7eb", "#2563eb", "#dc2626", "#15803d"
SECOND = "#7c3aed"  # the second series of a combined chart (diastolic pressure)
WIDTH, HEIGHT = 340, 230
TITLE_SIZE, TEXT_SIZE = 15, 13  # no text is smaller than TEXT_SIZE user units
LEFT, RIGHT, BOTTOM, INSET = 42, 38, 26, 14  # margins around the plot; INSET keeps markers off the edges
_WORDS = {
    "zh_CN": {"empty": "暂无数据", "range": "参考范围", "limit": "参考界值", "blood_pressure": "血压",
              "H": "高于范围", "L": "低于范围", "A": "异常",
              "critical": "危急值"},
    "en": {"empty": "No data", "range": "Reference range", "limit": "Reference limit",
           "blood_pressure": "Blood pressure", "H": "above range", "L": "below range", "A": "abnormal",
           "critical": "critical"},
}


@dataclass
class ChartPoint:
    when: date
    value: float
    abnormal: bool
    label: str = ""
    direction: str = ""  # "H" above range, "L" below range, "" unknown or normal
    critical: bool = False  # beyond the critical limits (LL/HH): a filled marker, and said in words


@dataclass
class Series:
    """One line of a chart: its name (for the legend and the summary), points and reference limits."""
    name: str
    points: list[ChartPoint]
    ref_low: float | None = None
    ref_high: float | None = None
    colour: str = LINE
    mark: str = "circle"  # a normal point: "circle" or "square"
    dash: str = ""        # the line's stroke-dasharray, "" for a solid line
    shown: list[ChartPoint] = field(default_factory=list)  # the finite points, by date


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


def fmt(value: float, step: float | None = None, decimals: int | None = None) -> str:
    """A number for people: the indicator's decimals when known, else as many decimals as the tick step
    (or two at most), no trailing zeros."""
    if decimals is not None:
        return units.number(value, decimals)
    if step is not None:
        places = max(0, -math.floor(math.log10(step) + 1e-9))
        return f"{value:.{places}f}"
    text = f"{value:.3g}" if 0 < abs(value) < 0.1 else f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def unit_label(unit: str, locale: str = "zh_CN") -> str:
    return units.display(unit, locale)


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


def _text(x: float, y: float, text: str, size: float = TEXT_SIZE, fill: str = INK, anchor: str = "start",
          weight: str = "normal", kind: str = "") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    css = f' class="{kind}"' if kind else ""
    return (f'<text{css} x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}"{bold}>{escape(text)}</text>')


def _words(locale: str) -> dict[str, str]:
    return _WORDS["zh_CN" if locale.startswith("zh") else "en"]


def word(key: str, locale: str = "zh_CN") -> str:
    """A chart's own words (charts are drawn with an explicit locale, also in jobs)."""
    return _words(locale)[key]


# ------------------------------------------------------------------ summary

def _summary_body(points: list[ChartPoint], unit: str, low: float | None, high: float | None, locale: str,
                  decimals: int | None = None) -> str:
    zh, points = locale.startswith("zh"), sorted(points, key=lambda p: p.when)
    if not points:
        return _WORDS["zh_CN"]["empty"] if zh else "no data"
    first, last = points[0].when.year, points[-1].when.year
    latest = f"{fmt(points[-1].value, decimals=decimals)} {unit}".strip()
    counts = {d: sum(_direction(p, low, high) == d for p in points) for d in "HLA"}
    critical = sum(p.critical for p in points)
    words = _words(locale)
    n = len(points)
    if zh:
        span = f"{first}年" if first == last else f"{first}至{last}年"
        parts = [f"{span}共{n}个数值", f"最近一次{latest}"]
        parts += [f"{c}个{words[d]}" for d, c in counts.items() if c] or ["均无异常"]
        parts += [f"其中{critical}个{words['critical']}"] if critical else []
        return "，".join(parts)
    values = f"{n} value{'s' if n != 1 else ''}"
    parts = [f"{values} in {first}" if first == last else f"{values} from {first} to {last}", f"latest {latest}"]
    parts += [f"{c} {words[d]}" for d, c in counts.items() if c] or ["none abnormal"]
    parts += [f"{critical} of them {words['critical']}"] if critical else []
    return ", ".join(parts)


def summary(points: list[ChartPoint], title: str, unit: str, low: float | None, high: float | None,
            locale: str = "zh_CN", decimals: int | None = None) -> str:
    """The chart in one sentence, for aria-label and <desc>."""
    body = _summary_body(points, unit_label(unit, locale), low, high, locale, decimals)
    return f"{title}：{body}" if locale.startswith("zh") else f"{title}: {body}"


def combined_summary(series: list[Series], title: str, unit: str, locale: str = "zh_CN",
                     decimals: int | None = None) -> str:
    shown = unit_label(unit, locale)
    zh = locale.startswith("zh")
    parts = [f"{s.name}{'' if zh else ' '}{_summary_body(s.points, shown, s.ref_low, s.ref_high, locale, decimals)}"
             for s in series]
    return f"{title}：" + "；".join(parts) if zh else f"{title}: " + "; ".join(parts)


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


def _ticks(values: list[float], limits: list[float]) -> list[float]:
    """Y ticks spanning every value and the reference limits, with some room around them; a flat series
    gets a span of a fifth of its size so that small wobbles do not look like big swings."""
    known = values + limits
    lowest, highest = min(known), max(known)
    span = max(highest - lowest, max(abs(lowest), abs(highest)) * 0.2 or 1.0)
    middle = (highest + lowest) / 2
    bottom, top = min(lowest, middle - span / 2) - span * 0.08, max(highest, middle + span / 2) + span * 0.08
    if lowest >= 0 > bottom:
        bottom = 0.0  # lab values are not negative: do not invent a negative axis
    return nice_ticks(bottom, top)


# ------------------------------------------------------------------ pieces

def _heading(title: str, unit: str, entries: list[tuple[str, str]], width: int, locale: str
             ) -> tuple[list[str], float]:
    """The title on the first line, then a legend of what is drawn, wrapped to the width.
    Returns the pieces and the y under them, where the plot may start."""
    head = f"{title}（{unit}）" if unit and locale.startswith("zh") else f"{title} ({unit})" if unit else title
    while len(head) > 1 and _width(head, TITLE_SIZE) > width - 16:  # the full title is in <title> and aria-label
        head = head[:-2] + "…"
    out = [_text(8, 18, head, TITLE_SIZE, INK, weight="bold", kind="chart-title")]
    x, y = 8.0, 38.0
    for sample, label in entries:
        size = 22 + _width(label, TEXT_SIZE)
        if x > 8 and x + size > width - 6:
            x, y = 8.0, y + 19
        out.append(sample.format(x=x, y=y))
        out.append(_text(x + 19, y, label, TEXT_SIZE, MUTED, kind="legend"))
        x += size + 12
    return out, (y + 16 if entries else 30.0)


def _band_sample() -> str:
    return (f'<rect x="{{x:.1f}}" y="{{y:.1f}}" transform="translate(0 -10)" width="14" height="11" fill="{BAND}" '
            f'fill-opacity="0.15" stroke="{BAND}" stroke-width="1" stroke-dasharray="3 2"/>')


def _line_sample(series: Series) -> str:
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    mark = _shape("", 7, -4, colour=series.colour, mark=series.mark)
    return (f'<g transform="translate({{x:.1f}} {{y:.1f}})"><line x1="0" y1="-4" x2="14" y2="-4" '
            f'stroke="{series.colour}" stroke-width="2"{dash}/>{mark}</g>')


def _shape_sample(direction: str, critical: bool = False) -> str:
    return f'<g transform="translate({{x:.1f}} {{y:.1f}})">{_shape(direction, 7, -4, critical=critical)}</g>'


def _critical_entry(points: list[ChartPoint], words: dict[str, str]) -> list[tuple[str, str]]:
    critical = [p for p in points if p.critical and p.direction in ("H", "L")]
    return [(_shape_sample(critical[-1].direction, critical=True), words["critical"])] if critical else []


def _grid(frame: _Frame) -> list[str]:
    step = frame.ticks[1] - frame.ticks[0]
    out = []
    for tick in frame.ticks:
        y = frame.y(tick)
        out.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" stroke="{GRID}" '
                   f'stroke-width="1"/>')
        out.append(_text(frame.left - 5, y + 4.5, fmt(tick, step), TEXT_SIZE, MUTED, "end", kind="axis"))
    return out


def _band(frame: _Frame, low: float | None, high: float | None, decimals: int | None) -> list[str]:
    if low is None and high is None:
        return []
    top = frame.y(high) if high is not None else frame.top
    bottom = frame.y(low) if low is not None else frame.bottom
    out = [f'<rect class="band" x="{frame.left}" y="{top:.1f}" width="{frame.right - frame.left}" '
           f'height="{max(bottom - top, 0.5):.1f}" fill="{BAND}" fill-opacity="0.1"/>']
    return out + _limits(frame, [v for v in (low, high) if v is not None], BAND, decimals)


def _limits(frame: _Frame, values: list[float], colour: str, decimals: int | None) -> list[str]:
    """Reference limits: a dashed line across the plot and the value written at its right end."""
    out = []
    for value in values:
        y = frame.y(value)
        out.append(f'<line class="limit" x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" '
                   f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="4 3"/>')
        out.append(_text(frame.right + 4, y + 4.5, fmt(value, decimals=decimals), TEXT_SIZE, colour, kind="axis"))
    return out


def _shape(direction: str, x: float, y: float, attrs: str = "", inner: str = "", colour: str = LINE,
           mark: str = "circle", critical: bool = False) -> str:
    """A normal point is a filled dot (or square); abnormal ones are hollow and larger: triangle up/down,
    diamond."""
    shapes: dict[str, list[tuple[float, float]]] = {
        "H": [(0, -7.5), (-7, 5), (7, 5)], "L": [(0, 7.5), (-7, -5), (7, -5)],
        "A": [(0, -7), (7, 0), (0, 7), (-7, 0)]}
    corners = shapes.get(direction)
    if corners is None and mark == "square":
        tag = "rect"
        body = (f'x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}" stroke="#fff" '
                f'stroke-width="1.5"')
    elif corners is None:
        tag, body = "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" stroke="#fff" stroke-width="1.5"'
    else:
        tag = "polygon"
        body = (f'points="{" ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)}" '
                f'fill="{ALERT if critical else "#fff"}" '
                f'stroke="{ALERT}" stroke-width="2" stroke-linejoin="round"')
    return f"<{tag} {attrs}{body}>{inner}</{tag}>" if inner else f"<{tag} {attrs}{body}/>"


def _series(frame: _Frame, series: Series, unit: str, locale: str, decimals: int | None, named: bool,
            labels_below: bool = False) -> tuple[list[str], list[str]]:
    """The line and the markers (each with a tooltip), and the values written next to them."""
    points = series.shown
    xy = [(frame.x(p.when), frame.y(p.value)) for p in points]
    low, high = series.ref_low, series.ref_high
    out = []
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
        out.append(f'<polyline class="series" points="{path}" fill="none" stroke="{series.colour}" '
                   f'stroke-width="2"{dash} stroke-linejoin="round" stroke-linecap="round"/>')
    words = _words(locale)
    if decimals is None:
        decimals = max(len(fmt(p.value).partition(".")[2]) for p in points)
    labels, last_x = [], math.inf
    for index in range(len(points) - 1, -1, -1):  # from the latest, which is always labelled
        point, (x, y) = points[index], xy[index]
        direction = _direction(point, low, high)
        tip = " ".join(t for t in ((series.name if named else ""), point.when.isoformat(),
                                   f"{units.number(point.value, decimals)} {unit}".strip(),
                                   words.get(direction, ""), words["critical"] if point.critical else "",
                                   point.label) if t)
        kind = {"H": "abnormal high", "L": "abnormal low", "A": "abnormal"}.get(direction, "normal")
        kind += " critical" if point.critical and direction else ""
        out.append(_shape(direction, x, y, f'class="marker {kind}" ', f"<title>{escape(tip)}</title>",
                          critical=point.critical,
                          colour=series.colour, mark=series.mark))
        text = units.number(point.value, decimals)
        if last_x - x >= _width(text, TEXT_SIZE) + 6:
            last_x = x
            below = labels_below or direction == "L" or y - 14 < frame.top
            if below and y + 25 > frame.bottom + 4:
                below = False
            labels.append(_text(x, y + 25 if below else y - 11, text, TEXT_SIZE, ALERT if direction else INK,
                                "middle", "bold" if direction else "normal", kind="value"))
    return out, labels


def _dates(frame: _Frame, points: list[ChartPoint]) -> list[str]:
    """Years under the points, or YYYY-MM when a year holds more than one; crowded labels are left out."""
    points = sorted(points, key=lambda p: p.when)
    years = [p.when.year for p in points]
    monthly = len(set(years)) < len(years)
    out, last_x, seen = [], -1e9, set()
    for point in points:
        label = f"{point.when:%Y-%m}" if monthly else str(point.when.year)
        x = frame.x(point.when)
        if label in seen or x - last_x < _width(label, TEXT_SIZE) + 6:
            continue
        seen.add(label)
        last_x = x
        out.append(_text(x, frame.bottom + 18, label, TEXT_SIZE, MUTED, "middle", kind="axis"))
    return out


def _empty(width: int, height: int, top: float, locale: str) -> list[str]:
    return [f'<rect x="{LEFT}" y="{top}" width="{width - LEFT - RIGHT}" height="{height - top - BOTTOM}" '
            f'fill="none" stroke="{GRID}" stroke-dasharray="4 3"/>',
            _text(width / 2, (top + height - BOTTOM) / 2 + 5, _words(locale)["empty"], TEXT_SIZE, MUTED, "middle")]


def _finite(points: list[ChartPoint]) -> list[ChartPoint]:
    return sorted((p for p in points if p.value is not None and math.isfinite(p.value)), key=lambda p: p.when)


def _open(label: str, title: str, width: int, height: int) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(label)}>',
            f"<title>{escape(title)}</title>", f"<desc>{escape(label)}</desc>",
            f'<rect width="{width}" height="{height}" fill="#fff"/>']


# ------------------------------------------------------------------ the charts

def trend_svg(points: list[ChartPoint], *, title: str, unit: str, ref_low: float | None, ref_high: float | None,
              width: int = WIDTH, height: int = HEIGHT, locale: str = "zh_CN", decimals: int | None = None,
              band_word: str | None = None) -> str:
    """One indicator: its values over time on the reference band (``band_word`` names the band in the
    legend when it is something else, such as a care plan's target)."""
    if ref_low is not None and ref_high is not None and ref_low > ref_high:
        ref_low, ref_high = ref_high, ref_low
    series = Series(title, points, ref_low, ref_high)
    series.shown = _finite(points)
    shown = unit_label(unit, locale)
    label = summary(series.shown, title, unit, ref_low, ref_high, locale, decimals)
    parts = _open(label, title, width, height)
    words = _words(locale)
    if not series.shown:
        heading, top = _heading(title, shown, [], width, locale)
        parts += heading + _empty(width, height, top, locale)
    else:
        directions = {_direction(p, ref_low, ref_high) for p in series.shown}
        entries = ([(_band_sample(), band_word or words["range"])] if ref_low is not None or ref_high is not None
                   else [])
        entries += [(_shape_sample(d), words[d]) for d in "HLA" if d in directions]
        entries += _critical_entry(series.shown, words)
        heading, top = _heading(title, shown, entries, width, locale)
        frame = _Frame(LEFT, top, width - RIGHT, height - BOTTOM,
                       _ticks([p.value for p in series.shown], [v for v in (ref_low, ref_high) if v is not None]),
                       series.shown[0].when.toordinal(), series.shown[-1].when.toordinal())
        lines, values = _series(frame, series, shown, locale, decimals, named=False)
        parts += heading + _grid(frame) + _band(frame, ref_low, ref_high, decimals) + lines + values
        parts += _dates(frame, series.shown)
    parts.append("</svg>")
    return "\n".join(parts)


def combined_svg(series: list[Series], *, title: str, unit: str, width: int = WIDTH, height: int = HEIGHT,
                 locale: str = "zh_CN", decimals: int | None = None) -> str:
    """Indicators read together on one axis (systolic and diastolic pressure): a line each, named in the
    legend, and each one's reference limits as dashed lines in its colour (no band: bands would overlap)."""
    for s in series:
        s.shown = _finite(s.points)
        if s.ref_low is not None and s.ref_high is not None and s.ref_low > s.ref_high:
            s.ref_low, s.ref_high = s.ref_high, s.ref_low
    shown = unit_label(unit, locale)
    label = combined_summary(series, title, unit, locale, decimals)
    parts = _open(label, title, width, height)
    everything = [p for s in series for p in s.shown]
    entries = [(_line_sample(s), s.name) for s in series]
    if not everything:
        heading, top = _heading(title, shown, entries, width, locale)
        parts += heading + _empty(width, height, top, locale)
        parts.append("</svg>")
        return "\n".join(parts)
    words = _words(locale)
    limits = [v for s in series for v in (s.ref_low, s.ref_high) if v is not None]
    directions = {_direction(p, s.ref_low, s.ref_high) for s in series for p in s.shown}
    if limits:
        entries.append((f'<g transform="translate({{x:.1f}} {{y:.1f}})"><line x1="0" y1="-4" x2="14" y2="-4" '
                        f'stroke="{MUTED}" stroke-width="1.2" stroke-dasharray="4 3"/></g>', words["limit"]))
    entries += [(_shape_sample(d), words[d]) for d in "HLA" if d in directions]
    entries += _critical_entry(everything, words)
    heading, top = _heading(title, shown, entries, width, locale)
    dates = sorted(p.when for p in everything)
    frame = _Frame(LEFT, top, width - RIGHT, height - BOTTOM, _ticks([p.value for p in everything], limits),
                   dates[0].toordinal(), dates[-1].toordinal())
    parts += heading + _grid(frame)
    for s in series:
        parts += _limits(frame, [v for v in (s.ref_low, s.ref_high) if v is not None], s.colour, decimals)
    values: list[str] = []
    means = [sum(p.value for p in s.shown) / len(s.shown) if s.shown else 0 for s in series]
    lowest = means.index(min(means)) if len(series) > 1 else -1
    for index, s in enumerate(series):
        if not s.shown:
            continue
        lines, labels = _series(frame, s, shown, locale, decimals, named=True, labels_below=index == lowest)
        parts += lines
        values += labels
    by_day = {p.when: p for p in everything}  # one label a checkup, however many lines it has points on
    parts += values + _dates(frame, list(by_day.values()))
    parts.append("</svg>")
    return "\n".join(parts)
