"""The dashboard's figures as people read them: each a title, a chart and the
same numbers as a table (shown to screen readers beside the chart, and what
an export writes)."""
from dataclasses import dataclass
from datetime import date

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _

from app.auth import services as staff
from app.core.exports import Table
from app.dashboard import charts, queries
from app.notifications import services as notifications
from app.records import services as records
from app.tagging import services as tagging

KEYS = ("patients", "bookings", "followups", "abnormal", "tags", "messages", "sales")


@dataclass
class Figure:
    key: str
    title: str
    summary: str
    svg: str
    table: Table
    note: str = ""
    shares: tuple[int, ...] = ()  # the table's columns that are shares (0..1), written as percentages on the page

    def cells(self) -> list[list[str]]:
        """The table's rows as the page writes them."""
        return [[_percent(v if v != "" else None) if i in self.shares else _cell(v) for i, v in enumerate(row)]
                for row in self.table.rows]


def title_of(key: str) -> str:
    """A figure's title, known before its numbers are read."""
    return {"patients": _("New cards per week"),
            "bookings": _("Bookings per day and capacity"),
            "followups": _("Follow-ups per health manager"),
            "abnormal": _("Abnormal rate of the most frequent abnormal indicators"),
            "tags": _("Tag prevalence"),
            "messages": _("Messages sent and failed per week"),
            "sales": _("Paid orders by package")}[key]


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.#%")


def _ratio(value: float | None) -> float | str:
    """A share for a spreadsheet cell: a number (0.333…) or empty."""
    return "" if value is None else round(value, 4)


def _cell(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return format_decimal(value)
    if isinstance(value, float):
        return format_decimal(value, "#,##0.00")
    return str(value)


def _week(monday: date) -> str:
    return monday.strftime("%m-%d")


def _yuan(fen: int) -> str:
    return format_decimal(fen / 100, "#,##0.00")


def _zh() -> bool:
    return str(get_locale() or "zh_CN").startswith("zh")


def _patients(board: queries.Dashboard) -> Figure:
    p = board.patients
    weeks = list(p.new_by_week)
    title = title_of("patients")
    summary = _("%(active)s active patients; %(new)s new cards from %(since)s to %(until)s.",
                active=format_decimal(p.active), new=format_decimal(p.new_in_range), since=board.range.since,
                until=board.range.until)
    svg = charts.columns_svg(title, summary, [_week(w) for w in weeks], list(p.new_by_week.values()),
                             bar_name=_("New cards"), empty=_("No new cards in this range"))
    table = Table(title, [_("Week from"), _("New cards")], [(w, n) for w, n in p.new_by_week.items()])
    return Figure("patients", title, summary, svg, table)


def _bookings(board: queries.Dashboard) -> Figure:
    b = board.bookings
    title = title_of("bookings")
    summary = _("%(booked)s bookings from %(since)s to %(until)s; no-show rate %(rate)s (%(missed)s of %(due)s "
                "past bookings).", booked=format_decimal(sum(d.booked for d in b.days)), since=board.range.since,
                until=board.range.until, rate=_percent(b.no_show_rate), missed=b.no_shows, due=b.due)
    labels = [d.day.strftime("%m-%d") for d in b.days]
    svg = charts.columns_svg(title, summary, labels, [d.booked for d in b.days], bar_name=_("Booked"),
                             lines=[charts.Line(_("Capacity"), [d.capacity for d in b.days], charts.ALERT, "5 3")],
                             empty=_("No bookings in this range"))
    table = Table(title, [_("Date"), _("Booked"), _("Capacity"), _("Share of capacity")],
                  [(d.day, d.booked, "" if d.capacity is None else d.capacity,
                    _ratio(d.booked / d.capacity if d.capacity else None)) for d in b.days])
    note = _("No-show rate: bookings marked as no-show among the range's bookings on days before today "
             "(cancelled and refunded ones not counted).")
    return Figure("bookings", title, summary, svg, table, note, shares=(3,))


def _staff_name(names: dict, staff_id: int | None) -> str:
    return _("Not assigned") if staff_id is None else names.get(staff_id, _("Former staff member"))


def _followups(board: queries.Dashboard) -> Figure:
    names = {u.id: u.name for u in staff.list_staff()}
    rows = board.followups
    title = title_of("followups")
    summary = _("Follow-ups of %(n)s people: completion of tasks due and success of contacts recorded.", n=len(rows))
    bars = []
    for r in rows:
        who = _staff_name(names, r.staff_id)
        bars.append((_("%(name)s: completed", name=who), r.completion or 0.0, _percent(r.completion)))
        bars.append((_("%(name)s: reached", name=who), r.success or 0.0, _percent(r.success)))
    svg = charts.bars_svg(title, summary, bars, scale=1.0, empty=_("No follow-ups in this range"))
    table = Table(title, [_("Staff member"), _("Tasks due"), _("Completed"), _("Completion rate"),
                          _("Contacts"), _("Reached"), _("Contact success")],
                  [(_staff_name(names, r.staff_id), r.due, r.done, _ratio(r.completion), r.contacts, r.reached,
                    _ratio(r.success)) for r in rows])
    note = _("Tasks due in the range up to today (cancelled ones not counted); contacts recorded in the range.")
    return Figure("followups", title, summary, svg, table, note, shares=(3, 6))


def _abnormal(board: queries.Dashboard) -> Figure:
    zh = _zh()
    indicators = {i.id: i for i in records.catalogue.all_indicators(active_only=False)}

    def name(indicator_id: int) -> str:
        found = indicators.get(indicator_id)
        return (found.name_zh if zh else found.name_en or found.name_zh) if found else str(indicator_id)

    rows = board.abnormal
    title = title_of("abnormal")
    summary = _("The %(n)s indicators with the most abnormal results in the range, by their share of abnormal "
                "results.", n=len(rows))
    svg = charts.bars_svg(title, summary, [(name(r.indicator_id), r.rate or 0.0, _percent(r.rate)) for r in rows],
                          scale=1.0, empty=_("No abnormal results in this range"))
    table = Table(title, [_("Indicator"), _("Results"), _("Abnormal"), _("Abnormal rate")],
                  [(name(r.indicator_id), r.results, r.abnormal, _ratio(r.rate)) for r in rows])
    return Figure("abnormal", title, summary, svg, table, shares=(3,))


def _tags(board: queries.Dashboard) -> Figure:
    zh = _zh()
    known = {t.id: t for t in tagging.all_tags()}

    def name(tag_id: int) -> str:
        tag = known.get(tag_id)
        return (tag.name if zh else tag.name_en or tag.name) if tag else str(tag_id)

    rows = board.tags
    title = title_of("tags")
    summary = _("%(n)s tags; the share of the %(active)s active patients carrying each, today.", n=len(rows),
                active=format_decimal(board.active))
    svg = charts.bars_svg(title, summary, [(name(r.tag_id), r.share or 0.0, _percent(r.share)) for r in rows[:15]],
                          scale=1.0, empty=_("No patient carries a tag yet"))
    table = Table(title, [_("Tag"), _("Patients"), _("Share of active patients")],
                  [(name(r.tag_id), r.patients, _ratio(r.share)) for r in rows])
    note = _("Today's tags, whatever range is chosen; the chart shows the 15 most common, the table all.")
    return Figure("tags", title, summary, svg, table, note, shares=(2,))


def _messages(board: queries.Dashboard) -> Figure:
    m = board.messages
    sent, failed = sum(s for s, _f in m.by_channel.values()), sum(f for _s, f in m.by_channel.values())
    title = title_of("messages")
    summary = _("%(sent)s messages sent and %(failed)s failed from %(since)s to %(until)s.",
                sent=format_decimal(sent), failed=format_decimal(failed), since=board.range.since,
                until=board.range.until)
    weeks = list(m.by_week)
    svg = charts.lines_svg(title, summary, [_week(w) for w in weeks],
                           [charts.Line(_("Sent"), [m.by_week[w][0] for w in weeks], charts.BAR),
                            charts.Line(_("Failed"), [m.by_week[w][1] for w in weeks], charts.ALERT, "5 3")],
                           empty=_("No messages in this range"))
    rows: list[tuple] = [(w, "", s, f) for w, (s, f) in m.by_week.items()]
    rows += [(_("All weeks"), str(notifications.labels.CHANNEL.get(c, c)), s, f) for c, (s, f) in m.by_channel.items()]
    table = Table(title, [_("Week from"), _("Channel"), _("Sent"), _("Failed")], rows)
    return Figure("messages", title, summary, svg, table)


def _sales(board: queries.Dashboard) -> Figure:
    rows = board.sales
    title = title_of("sales")
    summary = _("%(orders)s orders paid from %(since)s to %(until)s, %(yuan)s yuan in all.",
                orders=format_decimal(sum(r.orders for r in rows)), since=board.range.since, until=board.range.until,
                yuan=_yuan(sum(r.revenue_fen for r in rows)))
    svg = charts.bars_svg(title, summary, [(r.name, r.orders, format_decimal(r.orders)) for r in rows],
                          empty=_("No paid orders in this range"))
    table = Table(title, [_("Package"), _("Paid orders"), _("Amount (yuan)")],
                  [(r.name, r.orders, round(r.revenue_fen / 100, 2)) for r in rows])
    return Figure("sales", title, summary, svg, table)


def headline(board: queries.Dashboard) -> list[tuple[str, str]]:
    """The figures written large above the charts."""
    return [(_("Active patients"), format_decimal(board.active)),
            (_("New cards"), format_decimal(board.patients.new_in_range)),
            (_("Bookings"), format_decimal(sum(d.booked for d in board.bookings.days))),
            (_("No-show rate"), _percent(board.bookings.no_show_rate))]


_BUILDERS = {"patients": _patients, "bookings": _bookings, "followups": _followups, "abnormal": _abnormal,
             "tags": _tags, "messages": _messages, "sales": _sales}


def figures(board: queries.Dashboard, keys: tuple[str, ...] = KEYS) -> list[Figure]:
    return [_BUILDERS[key](board) for key in keys]
