"""The clinic dashboard: figures against hand-counted values for a small
clinic, the date filter, another clinic's rows never counted, who may see it,
and its exports."""
import io
import secrets
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core.audit import AuditEvent
from tenants.context import tenant_context
from tenants.db import db
from tests.clock import clinic_today

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]


@pytest.fixture
def seed_clinic(app, make_patient, make_staff):
    """A small clinic's week: three bookings due (one no-show) and a cancelled one, four follow-up tasks of
    one health manager (two done, one pending, one cancelled) and three contacts (two reached), two glucose
    results (one high), one tag on one of three patients, messages (two sent, one failed) and one paid order."""
    from app.booking import services as booking
    from app.booking.models import Order
    from app.followups.models import FollowupRecord, FollowupTask
    from app.notifications.models import Notification
    from app.patients import services as patients
    from app.records import services as records
    from app.tagging import services as tagging

    def seed(tenant, *, tag="高血压"):
        people = [make_patient(tenant, name=n) for n in ("王一", "李二", "张三")]
        manager = make_staff(tenant, "health_manager")
        today = clinic_today()
        past = today - timedelta(days=2)
        with app.app_context(), tenant_context(tenant.id):
            package = booking.save_package(booking.PackageData(name="入职体检", price="300", items="血常规"))
            db.session.flush()
            paid = datetime.now(timezone.utc) - timedelta(hours=1)
            for n, (person, status) in enumerate(zip(people + people[:1],
                                                     ("completed", "no_show", "confirmed", "cancelled"))):
                db.session.add(Order(order_no=f"T{secrets.token_hex(5)}", idempotency_key=secrets.token_hex(8),
                                     package_id=package.id, package_name=package.name, patient_id=person.id,
                                     day=past - timedelta(days=n // 3), start=time(8, 0), end=time(9, 0),
                                     status=status, price_fen=30000, paid_at=paid if n == 0 else None))
            for n, status in enumerate(("done", "done", "pending", "cancelled")):
                task = FollowupTask(patient_id=people[n % 3].id, assignee_id=manager.id, due_date=past,
                                    status=status)
                db.session.add(task)
                db.session.flush()
                if n < 3:
                    db.session.add(FollowupRecord(task_id=task.id, patient_id=task.patient_id, staff_id=manager.id,
                                                  result="no_answer" if n == 2 else "reached"))
            glucose = records.indicator_by_code("14771-0")
            when = datetime.now(timezone.utc) - timedelta(days=3)
            records.store(patients.get(people[0].id), records.Value(glucose, "9.9", "mmol/L", when))
            records.store(patients.get(people[1].id), records.Value(glucose, "5.0", "mmol/L", when))
            tagging.add_manual(people[0].id, tag)
            for n, status in enumerate(("sent", "sent", "failed")):
                db.session.add(Notification(idempotency_key=f"dash-{n}", recipient_type="patient",
                                            recipient_id=people[n].id, channel="sms", template_key="x",
                                            locale="zh_CN", category="care", status=status))
            db.session.commit()
        return manager

    return seed


def _board(app, tenant, since=None, until=None):
    from app.dashboard import queries

    with app.app_context(), tenant_context(tenant.id):
        span = queries.Range(since, until) if since else queries.default_range()
        board = queries.dashboard(span)
        for figure in ("active", "patients", "bookings", "followups", "abnormal", "tags", "messages", "sales"):
            getattr(board, figure)  # each figure is read when first asked for: here, in the clinic's context
        return board


def test_figures_match_hand_counts(app, make_tenant, make_patient, seed_clinic):
    a, b = make_tenant(), make_tenant()
    manager = seed_clinic(a)
    seed_clinic(b, tag="糖尿病")  # clinic B's rows, the same again: never counted for A
    make_patient(b, name="乙方多一位")
    board = _board(app, a)
    assert board.patients.active == 3 and board.patients.new_in_range == 3
    assert sum(d.booked for d in board.bookings.days) == 3  # the cancelled one is no booking
    assert (board.bookings.due, board.bookings.no_shows) == (3, 1)
    assert round(board.bookings.no_show_rate, 3) == 0.333
    [person] = board.followups
    assert (person.staff_id, person.due, person.done, person.contacts, person.reached) == (manager.id, 3, 2, 3, 2)
    assert round(person.completion, 3) == 0.667 and round(person.success, 3) == 0.667
    [glucose] = board.abnormal
    assert (glucose.results, glucose.abnormal, glucose.rate) == (2, 1, 0.5)
    [tag] = board.tags
    assert tag.patients == 1 and round(tag.share, 3) == 0.333
    assert board.messages.by_channel == {"sms": (2, 1)}
    assert sum(s for s, _f in board.messages.by_week.values()) == 2
    [sale] = board.sales
    assert (sale.name, sale.orders, sale.revenue_fen) == ("入职体检", 1, 30000)
    capacity = [d for d in board.bookings.days if d.booked][0]
    assert capacity.capacity is None or capacity.capacity > 0


def test_date_filter_leaves_out_other_days(app, make_tenant, seed_clinic):
    a = make_tenant()
    seed_clinic(a)
    today = clinic_today()
    board = _board(app, a, today - timedelta(days=1), today)  # the bookings and tasks were two days ago
    assert sum(d.booked for d in board.bookings.days) == 0 and board.bookings.no_show_rate is None
    assert [p.due for p in board.followups] == [0]  # the contacts were recorded today, the tasks due before
    assert [d.day for d in board.bookings.days] == [today - timedelta(days=1), today]


def test_page_shows_figures_and_filter(make_tenant, client_for, seed_clinic):
    a = make_tenant()
    seed_clinic(a)
    client = client_for(a, a.owner_email)
    page = client.get("/dashboard").get_data(as_text=True)
    no_shows = '<span class="num">33.3%</span>'  # the no-show rate, written large
    assert no_shows in page and "<svg" in page and "<table" in page  # new cards and bookings drawn in place
    sales = client.get("/dashboard/figures/sales", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<svg" in sales and "<table" in sales and "入职体检" in sales
    assert "style=" not in page.split("<main", 1)[1]
    today = clinic_today()
    page = client.get(f"/dashboard?from={today.isoformat()}&to={today.isoformat()}").get_data(as_text=True)
    assert f'value="{today.isoformat()}"' in page and no_shows not in page
    assert client.get("/dashboard?from=junk&to=2026-99-01").status_code == 200
    client.submit("/lang/en")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Clinic dashboard" in page and "No-show rate" in page and "运营看板" not in page


def test_figures_load_on_their_own_and_without_scripts(make_tenant, client_for, seed_clinic):
    """The page draws the figures whose numbers it read anyway; each other one is a placeholder that htmx
    fills from the figure's own address (the same range), with a loading state, a link that opens the figure
    as a page of its own without scripts, and its export links."""
    a = make_tenant()
    seed_clinic(a)
    client = client_for(a, a.owner_email)
    today = clinic_today()
    since = (today - timedelta(days=30)).isoformat()
    query = f"from={since}&to={today.isoformat()}"
    page = client.get(f"/dashboard?{query}").get_data(as_text=True)
    for key in ("followups", "abnormal", "tags", "messages", "sales"):
        address = f"/dashboard/figures/{key}?{query.replace('&', '&amp;')}"
        assert f'hx-get="{address}" hx-trigger="load" hx-swap="outerHTML"' in page
        assert f'<a href="{address}">' in page  # without scripts, a link
        assert f"/dashboard/export?figure={key}&amp;format=xlsx&amp;{query.replace('&', '&amp;')}" in page
    assert page.count('role="status"') == 5 and page.count('id="figure-') == 7
    partial = client.get(f"/dashboard/figures/tags?{query}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.lstrip().startswith('<section class="card" id="figure-tags"') and "<html" not in partial
    assert "高血压" in partial and "<svg" in partial and "33.3%" in partial  # one of three patients
    whole = client.get(f"/dashboard/figures/tags?{query}").get_data(as_text=True)
    back = f'href="/dashboard?{query.replace("&", "&amp;")}"'  # back to the dashboard of the same range
    assert "<html" in whole and 'id="figure-tags"' in whole and back in whole
    assert client.get("/dashboard/figures/nothing").status_code == 404


@pytest.mark.parametrize("role, status", [("front_desk", 403), ("doctor", 403), ("health_manager", 403),
                                          ("admin", 200)])
def test_only_owner_and_admin(make_tenant, make_staff, client_for, role, status):
    a = make_tenant()
    client = client_for(a, make_staff(a, role).email)
    assert client.get("/dashboard").status_code == status
    assert client.get("/dashboard/export?figure=bookings&format=xlsx").status_code == status
    assert client.get("/dashboard/figures/tags", headers={"HX-Request": "true"}).status_code == status


def test_exports_are_files_and_audited(app, make_tenant, client_for, seed_clinic):
    a = make_tenant()
    seed_clinic(a)
    client = client_for(a, a.owner_email)
    response = client.get("/dashboard/export?figure=bookings&format=xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "日期" and len(rows) == 1 + 12 * 7 - 6 + clinic_today().weekday()
    assert sum(r[1] for r in rows[1:]) == 3
    whole = load_workbook(io.BytesIO(client.get("/dashboard/export?format=xlsx").data), read_only=True)
    assert len(whole.sheetnames) == 7
    text = client.get("/dashboard/export?figure=sales&format=csv").data.decode("utf-8")
    assert text.startswith("\ufeff") and "入职体检,1,300" in text
    assert client.get("/dashboard/export?figure=nothing&format=xlsx").status_code == 400
    with app.app_context(), tenant_context(a.id):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "dashboard_exported")
                                    .order_by(AuditEvent.at)).all()
    assert [e.detail["chart"] for e in events] == ["bookings", "all", "sales"]
    assert events[0].detail["format"] == "xlsx" and events[2].detail["rows"] == 1


def test_abnormal_ranks_by_abnormal_results_and_counts_all_current_ones(app, make_tenant, make_patient):
    """Twelve indicators with abnormal results: the ten with the most (ties by indicator) are shown, each with
    all its current results in the range; a corrected (superseded) result, one outside the range, a normal or
    unjudged flag and an indicator without abnormal results are not counted as abnormal."""
    from app.records import services as records
    from app.records.models import Observation

    a = make_tenant()
    person = make_patient(a, name="赵异常")
    today = clinic_today()
    inside = datetime.now(timezone.utc) - timedelta(days=1)
    with app.app_context(), tenant_context(a.id):
        indicators = [i.id for i in records.catalogue.all_indicators()][:14]
        serial = iter(range(1000))

        def result(indicator_id, flag, *, when=inside, superseded_by=None):
            db.session.add(Observation(patient_id=person.id, indicator_id=indicator_id, observed_at=when, flag=flag,
                                       fingerprint=f"dash-{next(serial)}", superseded_by=superseded_by))

        for n, indicator_id in enumerate(indicators[:12]):
            for _ in range(1 + n % 3):  # 1, 2 or 3 abnormal results
                result(indicator_id, "H")
            result(indicator_id, "N")
            result(indicator_id, "")
        result(indicators[0], "LL", superseded_by=1)  # corrected since: neither abnormal nor a result
        result(indicators[0], "H", when=inside - timedelta(days=400))  # before the range
        result(indicators[12], "N")  # no abnormal result at all
        result(indicators[13], "A", when=inside - timedelta(days=400))
        db.session.commit()
    board = _board(app, a, today - timedelta(days=30), today)
    expected = sorted(((1 + n % 3, i) for n, i in enumerate(indicators[:12])), key=lambda c: (-c[0], c[1]))[:10]
    assert [(r.indicator_id, r.abnormal) for r in board.abnormal] == [(i, count) for count, i in expected]
    assert all(r.results == r.abnormal + 2 for r in board.abnormal)


def test_weeks_follow_the_clinic_clock_across_a_clock_change(app, make_tenant, make_patient):
    """A Berlin clinic over the week its clocks go forward (Sunday 28 March 2027), from a Wednesday: a card
    or message at the clinic's midnight opening a week counts in that week, a minute before in the week
    before, and nothing before the first day or after the last counts."""
    from zoneinfo import ZoneInfo

    from app.dashboard import queries
    from app.notifications.models import Notification
    from app.patients.models import Patient

    berlin = ZoneInfo("Europe/Berlin")
    a = make_tenant(timezone="Europe/Berlin")
    moments = [datetime(2027, 3, 23, 23, 59), datetime(2027, 3, 24, 0, 0), datetime(2027, 3, 28, 23, 59),
               datetime(2027, 3, 29, 0, 0), datetime(2027, 4, 2, 23, 59), datetime(2027, 4, 3, 0, 0)]
    people = [make_patient(a, name=f"柏林{n}") for n in range(len(moments))]
    with app.app_context(), tenant_context(a.id):
        for n, (person, moment) in enumerate(zip(people, moments)):
            at = moment.replace(tzinfo=berlin).astimezone(timezone.utc)
            db.session.get(Patient, (a.id, person.id)).created_at = at
            db.session.add(Notification(idempotency_key=f"berlin-{n}", recipient_type="patient",
                                        recipient_id=person.id, channel="sms", template_key="x", locale="de",
                                        category="care", status="sent", created_at=at))
        db.session.commit()
        span = queries.Range(date(2027, 3, 24), date(2027, 4, 2))
        cards, messages = queries.patients(span), queries.messages(span)
    weeks = {date(2027, 3, 22): 2, date(2027, 3, 29): 2}
    assert cards.new_by_week == weeks and cards.new_in_range == 4
    assert {week: sent for week, (sent, _failed) in messages.by_week.items()} == weeks
    assert messages.by_channel == {"sms": (4, 0)}


def test_tag_prevalence_counts_each_patient_once_a_tag(app, make_tenant, make_patient):
    """A tag given to a patient by two rules and by hand counts the patient once; a tag given by hand only
    counts; a tag nobody carries is left out; the share is of the open cards (an archived card's tags count,
    as they are today's tags, but the card is not among the active)."""
    from app.dashboard import queries
    from app.patients.models import Patient
    from app.tagging.models import ManualTag, PatientTag, Tag, TagRule

    a = make_tenant()
    first, second, third, gone = (make_patient(a, name=n) for n in ("甲一", "乙二", "丙三", "丁四"))
    with app.app_context(), tenant_context(a.id):
        shared, by_hand, unused = (Tag(name=n) for n in ("两条规则", "手工", "无人"))
        db.session.add_all([shared, by_hand, unused])
        db.session.flush()
        rules = [TagRule(name=f"规则{n}", tag_id=shared.id) for n in range(2)]
        db.session.add_all(rules)
        db.session.flush()
        for rule in rules:  # both rules give the first patient the tag; one gives it the archived card too
            db.session.add(PatientTag(rule_id=rule.id, patient_id=first.id, tag_id=shared.id))
        db.session.add(PatientTag(rule_id=rules[0].id, patient_id=gone.id, tag_id=shared.id))
        db.session.add_all([ManualTag(patient_id=first.id, tag_id=shared.id),   # also by the rules: once
                            ManualTag(patient_id=second.id, tag_id=shared.id),
                            ManualTag(patient_id=third.id, tag_id=by_hand.id)])
        db.session.get(Patient, (a.id, gone.id)).archived_at = datetime.now(timezone.utc)
        db.session.commit()
        ids = (shared.id, by_hand.id)
        board = queries.dashboard(queries.default_range())
        counts = [(t.tag_id, t.patients, round(t.share, 3)) for t in board.tags]
        assert board.active == 3
    assert counts == [(ids[0], 3, 1.0), (ids[1], 1, 0.333)]
