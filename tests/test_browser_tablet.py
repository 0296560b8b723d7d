"""In the system Chromium on a front-desk tablet (768 x 1024), signed in as
the clinic owner, in Chinese and in English: every staff page with a table
keeps to the screen's width (a wide table scrolls inside its own box), and no
table squeezes a column until a person's name or a word breaks onto several
lines."""
from datetime import datetime, time, timedelta

import pytest

from tests.booking.conftest import make_package, open_day  # noqa: F401  (shared fixture)
from tests.browser import chromium, live_server, overflowing, page_width, staff_sign_in
from tests.clock import clinic_today
from tests.conftest import CHROMIUM, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.redis]

WIDTH = 768
CLINIC = "上海浦东新区陆家嘴国际健康管理中心（滨江旗舰院区）"
PATIENTS = [("欧阳娜娜", "F"), ("司马相如", "M"), ("阿依古丽·买买提", "F"), ("诸葛明远", "M"),
            ("上官婉清", "F"), ("爱新觉罗·恒煦", "M"), ("慕容云海", "M"), ("皇甫嘉怡", "F")]
STAFF = [("端木晨曦", "health_manager"), ("令狐思远", "health_manager"), ("东方明玥", "doctor"),
         ("长孙无忌", "front_desk")]
PACKAGE = "Executive Cardiovascular-Metabolic Health Screening with Extended Tumour Markers"

# For every visible table cell: its width and how many lines its words take.
# A cell narrower than 48 px (about four CJK characters) that breaks its text
# onto more lines than it has words is squeezed. Each of ``names`` that
# begins a piece of text in a table (not one in running text) stays on one
# line. A cell given another display (a flex box) falls out of its row.
CELLS_JS = """(names) => {
  const lines = (range) => {
    const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.top).sort((a, b) => a - b);
    let count = 0, last = null;
    for (const top of tops) { if (last === null || top - last > 8) count += 1; last = top; }
    return count;
  };
  const squeezed = [];
  for (const cell of document.querySelectorAll('main table td, main table th')) {
    const box = cell.getBoundingClientRect();
    const text = cell.innerText.trim();
    if (!box.width || !box.height || !text) continue;
    const display = getComputedStyle(cell).display;
    if (display !== 'table-cell') squeezed.push(`a cell shown as ${display}, out of its row: “${text.slice(0, 30)}”`);
    const range = document.createRange();
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let wrapped = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const words = node.textContent.trim().split(/\\s+/).filter(Boolean).length;
      if (!words || !node.parentElement.getClientRects().length || node.parentElement.closest('.sr-only')) continue;
      range.selectNodeContents(node);
      wrapped = Math.max(wrapped, lines(range) - words);
      for (const name of names) {
        const at = node.textContent.indexOf(name);
        const own = node.textContent.trim();  // the name stands alone, or before a card number or an e-mail
        if (at < 0 || !own.startsWith(name) || !/^($|[\\s(（])/.test(own.slice(name.length))) continue;
        range.setStart(node, at); range.setEnd(node, at + name.length);
        if (lines(range) > 1) {
          squeezed.push(`the name ${name} breaks over ${lines(range)} lines (cell ${Math.round(box.width)} px)`);
        }
      }
    }
    if (box.width < 48 && wrapped > 0) squeezed.push(`a ${Math.round(box.width)} px cell wraps “${text.slice(0, 30)}”`);
  }
  return squeezed;
}"""


def _clinic(app, make_tenant, make_patient, make_package):
    """A clinic with staff, patients (tags, results over eight years), a
    booked day, messages, follow-up tasks for the owner and the health
    managers, and an order of each patient."""
    from app.auth import services as staff
    from app.auth.models import StaffUser
    from app.booking import services as booking
    from app.followups.models import FollowupTask
    from app.patients import services as patients
    from app.tagging import services as tagging
    from tenants.context import tenant_context
    from tenants.db import db
    from tests.portal.test_my_pages import _results

    tenant = make_tenant(CLINIC)
    with app.app_context(), tenant_context(tenant.id):
        for i, (name, role) in enumerate(STAFF):
            staff.add_staff(f"{role}.{i}.with.a.long.address@{tenant.slug}.example.cn", name, role, PASSWORD)
        db.session.commit()
    people = [make_patient(tenant, name=name, sex=sex, birth_date=datetime(1950 + 6 * i, 1 + i, 3 + i).date(),
                           email=f"patient{i}@example.cn") for i, (name, sex) in enumerate(PATIENTS)]
    package = make_package(tenant, name=PACKAGE, price="12880", fasting=True)
    make_package(tenant, name="女性全面健康体检套餐（含乳腺彩超、宫颈TCT及HPV分型检测）", price="2680", sex="F")
    codes = [("14771-0", "mmol/L", (5.1, 5.6, 6.4, 7.3, 7.0, 6.2, 5.9, 5.6)),
             ("14647-2", "mmol/L", (4.6, 5.3, 6.1, 6.6, 5.8, 5.2, 4.9, 4.4)),
             ("9318-7", "mg/g", (12.0, 18.0, 35.0, 41.0, 28.0, 22.0, 19.0, 16.0)),
             ("98979-8", "mL/min/{1.73_m2}", (104, 101, 97, 95, 92, 89, 88, 86))]
    _results(app, tenant, people[0].id, [(code, f"{v}", unit, year) for code, unit, row in codes
                                         for year, v in zip(range(2018, 2026), row)])
    day = open_day()
    with app.app_context(), tenant_context(tenant.id):
        owner = db.session.query(StaffUser).filter_by(role="owner").one()
        for i, person in enumerate(people):
            patient = patients.get(person.id)
            tagging.add_manual(person.id, "血压偏高" if i % 2 else "糖尿病前期")  # starts the pack's plans
            tagging.add_manual(person.id, "Needs an interpreter at visits")
            booking.book(package.id, day, time(7, 30) if i < 4 else time(8, 30), patient,
                         idempotency_key=f"tablet-{i}")
            for days in (-3, 0, 4):
                db.session.add(FollowupTask(patient_id=person.id, assignee_id=owner.id, channel="phone",
                                            due_date=clinic_today() + timedelta(days=days)))
        db.session.commit()
    return tenant, people, day


def test_staff_pages_fit_a_tablet(app, make_tenant, make_patient, make_package):
    from app.booking.models import Order
    from tenants.context import tenant_context
    from tenants.db import db

    tenant, people, day = _clinic(app, make_tenant, make_patient, make_package)
    with app.app_context(), tenant_context(tenant.id):
        order_id = db.session.query(Order).filter_by(patient_id=people[0].id).one().id
    names = [name for name, _ in PATIENTS + STAFF]
    pages = [
        ("the patient list", "/patients"),
        ("the exam schedule of a booked day", f"/booking/schedule?day={day.isoformat()}"),
        ("a booking", f"/booking/orders/{order_id}"),
        ("the messages outbox", "/notifications"),
        ("the message templates", "/notifications/templates"),
        ("the follow-up workbench", "/followups"),
        ("the follow-up overview", "/followups/overview"),
        ("the follow-up plans", "/followups/plans"),
        ("a patient's follow-ups", f"/patients/{people[0].id}/followups"),
        ("staff accounts", "/staff"),
        ("tag rules", "/tagging/rules"),
        ("the indicator catalogue", "/records/indicators"),
        ("lab codes", "/records/lab-codes"),
        ("API tokens", "/settings/api-tokens"),
        ("spreadsheet mappings", "/records/mappings/"),
        ("unmatched reports", "/records/unmatched"),
        ("the audit trail", "/audit"),
        ("a patient's records", f"/patients/{people[0].id}/records"),
        ("a patient's card", f"/patients/{people[0].id}"),
        ("exam packages", "/booking/admin/packages"),
        ("capacity and rules", "/booking/admin/capacity"),
    ]
    problems = []
    with live_server(app) as port, chromium(CHROMIUM, viewport={"width": WIDTH, "height": 1024}) as browser:
        page = browser.new_page()
        base = f"http://{tenant.slug}.localhost:{port}"
        staff_sign_in(page, base, tenant.owner_email)
        for language in ("zh_CN", "en"):
            if language == "en":
                page.goto(f"{base}/")
                page.get_by_role("button", name="English").click()
                page.get_by_role("button", name="中文").wait_for()
            for name, path in pages:
                response = page.goto(base + path)
                assert response.status == 200, f"{name}: {path} answered {response.status}"
                measured = page_width(page)
                if measured > WIDTH:
                    problems.append(f"{name} ({language}) is {measured} px wide at {WIDTH} px: "
                                    + "; ".join(overflowing(page)))
                squeezed = page.evaluate(CELLS_JS, names)
                for text in dict.fromkeys(squeezed):  # each once, in order
                    count = squeezed.count(text)
                    problems.append(f"{name} ({language}): {text}" + (f" (× {count})" if count > 1 else ""))
            assert page.locator("main table").count() > 0
    assert not problems, "staff pages at 768 px:\n" + "\n".join(problems)
