"""No page shows a raw id where a name exists.

The ids of this project are large snowflake-style integers (app/core/ids.py,
15 digits and more); card numbers, phone numbers and order numbers are
shorter, and an ID-card number shows masked. So a run of 15 or more digits in
the visible text of a page (not in an attribute, a link or a hidden input) is
an id that should have been a staff member's, a patient's or a package's name.

Every staff role walks the pages the browser accessibility walk
(tests/test_browser_accessibility.py) gives it, with the Flask client, in
Chinese, and the owner in English too; the patient walks the portal signed in.
The clinic has named staff, patients, bookings, follow-ups, tag rules and an
audit trail whose events carry ids in their details."""
import re
from html.parser import HTMLParser

import pytest

from app.core.access import ROLES
from tests.booking.conftest import make_package  # noqa: F401  (shared fixture)
from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
from tests.test_browser_accessibility import _ids, _staff_pages
from tests.test_browser_tablet import _clinic

pytestmark = [pytest.mark.redis, pytest.mark.time_sensitive]

RAW_ID = re.compile(r"(?<!\d)\d{15,}(?!\d)")


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    SILENT = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SILENT:
            self._silent += 1

    def handle_endtag(self, tag):
        if tag in self.SILENT and self._silent:
            self._silent -= 1

    def handle_data(self, data):
        if not self._silent:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


def raw_ids(page: str) -> list[str]:
    return RAW_ID.findall(visible_text(page))


def test_the_check_sees_text_not_attributes():
    page = ('<a href="/patients/123456789012345678" data-id="223456789012345678">张三</a>'
            '<input type="hidden" name="patient" value="323456789012345678">'
            '<script>var x = 423456789012345678;</script>'
            '<td>卡号 BQ000123 · 13912345678</td>')
    assert raw_ids(page) == []
    assert raw_ids("<td>操作人 523456789012345678</td>") == ["523456789012345678"]


def _audit_events(app, tenant, people, ids):
    """Events whose details name staff, packages, plans, tasks and tokens by id."""
    from sqlalchemy import select

    from app.auth.models import StaffUser
    from app.core import audit
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        staff = db.session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
        owner = next(s for s in staff if s.role == "owner")
        other = next(s for s in staff if s.role != "owner")
        audit.record("staff_changed", actor_id=owner.id, staff_id=other.id, role=other.role)
        audit.record("package_saved", actor_id=owner.id, package_id=ids.package, name="体检套餐")
        audit.record("followup_plan_saved", actor_id=owner.id, plan_id=ids.plan, name="入职随访")
        audit.record("followup_recorded", actor_id=owner.id, patient_id=people[0].id, task_id=ids.task,
                     result="reached")
        audit.record("session_ended", actor_id=owner.id, session_id=ids.task)
        audit.record("api_token_revoked", actor_id=owner.id, token_id=ids.task)
        audit.record("report_conflict", actor_id=owner.id, patient_id=people[0].id, report=ids.task, held=ids.order)
        audit.record("record_opened", actor_id=other.id, patient_id=people[0].id)
        db.session.commit()
        return other.name


def test_no_page_shows_a_raw_id(app, make_tenant, make_staff, make_package, make_patient, drain,
                                patient_client, client_for):
    tenant, people, day = _clinic(app, make_tenant, make_patient, make_package)
    ids = _ids(app, tenant, people, day)
    changed = _audit_events(app, tenant, people, ids)
    drain()
    owner = client_for(tenant, tenant.owner_email)  # a booking's history with a staff member in it
    assert owner.submit(f"/booking/orders/{ids.order}/action/confirm").status_code == 302
    assert owner.submit(f"/booking/orders/{ids.order}/paid", {"reference": "R-1"}).status_code == 302
    found, walked = [], 0
    for role in ROLES:
        email = tenant.owner_email if role == "owner" else make_staff(tenant, role).email
        client = client_for(tenant, email)
        pages = [("home", "/")] + _staff_pages(app, role, ids)
        pages += [("the audit trail of a patient", f"/audit?patient={people[0].id}")] if role in ("owner", "admin") \
            else []
        for language in (("zh_CN", "en") if role == "owner" else ("zh_CN",)):
            client.submit(f"/lang/{language}")
            for name, path in pages:
                response = client.get(path, follow_redirects=True)  # a former address shows where it went
                assert response.status_code == 200, f"{name} as {role}: {path} answered {response.status_code}"
                walked += 1
                if path == "/audit" and language == "zh_CN":  # the staff member an event was about, by name
                    assert f"员工：{changed}；角色：健管师" in visible_text(response.get_data(as_text=True))
                if path == f"/booking/orders/{ids.order}":
                    assert "Owner" in visible_text(response.get_data(as_text=True))  # the history names who acted
                for number in raw_ids(response.get_data(as_text=True)):
                    found.append(f"{number} on {name} as {role} ({language}) [{path}]")
    portal = patient_client(tenant, people[0].mobile)
    for path in ("/portal", f"/portal/orders/{ids.order}", "/portal/results", "/portal/messages",
                 "/portal/record-access", "/portal/sessions", "/shop", f"/shop/packages/{ids.package}"):
        response = portal.get(path)
        assert response.status_code == 200, path
        walked += 1
        found += [f"{number} on the portal [{path}]" for number in raw_ids(response.get_data(as_text=True))]
    assert walked > 150
    assert not found, "raw ids on screen:\n" + "\n".join(found)
