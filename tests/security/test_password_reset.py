"""A forgotten staff password is reset by an emailed link: single use,
valid 30 minutes, kept hashed; the answer is the same whether or not the
email has an account; a reset ends every session of the account."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD

pytestmark = pytest.mark.redis

NEW = "a-brand-new-password"


def _person(make_staff, tenant, role="admin"):
    """A staff member with a deliverable address (``.test`` is not one)."""
    return make_staff(tenant, role, email=f"{role}-{tenant.slug}@example.cn")


def _ask(client, email):
    return client.submit("/login/forgot", {"email": email})


def _link(mail, to: str) -> str:
    for message in reversed(mail.messages):
        if message["To"].addresses[0].addr_spec == to:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"https?://[^/\s]+(/login/reset/[\w-]+)", body).group(1)
    raise AssertionError(f"no mail to {to}")


def test_a_reset_link_is_mailed_and_works_once(app, make_tenant, make_staff, client_for, mail, drain, audit_rows):
    tenant = make_tenant()
    admin = _person(make_staff, tenant)
    signed_in = client_for(tenant, admin.email)
    client = client_for(tenant)
    assert 'href="/login/forgot"' in client.get("/login").get_data(as_text=True)
    asked = _ask(client, admin.email)
    assert asked.status_code == 200
    drain()
    assert len(mail.messages) == 1
    path = _link(mail, admin.email)
    assert "30" in mail.messages[0].get_body(preferencelist=("plain",)).get_content()
    form = client.get(path)
    assert form.status_code == 200 and 'name="new_password"' in form.get_data(as_text=True)
    mismatch = client.submit(path, {"new_password": NEW, "confirm": NEW + "x"})
    assert mismatch.status_code == 400
    done = client.submit(path, {"new_password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert signed_in.get("/patients").status_code == 302  # every earlier session ended
    assert client_for(tenant).login(admin.email, PASSWORD).status_code == 400
    assert client_for(tenant).login(admin.email, NEW).status_code == 302
    again = client_for(tenant).get(path)
    assert again.status_code == 400  # single use
    assert client_for(tenant).submit(path, {"new_password": "yet-another-one", "confirm": "yet-another-one"}) \
        .status_code == 400
    assert audit_rows(tenant, "password_reset")


def test_the_answer_is_the_same_for_unknown_emails(make_tenant, make_staff, client_for, mail, drain):
    tenant = make_tenant()
    admin = _person(make_staff, tenant)
    real = _ask(client_for(tenant), admin.email)
    unknown = _ask(client_for(tenant), f"nobody-{tenant.slug}@example.cn")
    strip = lambda r: re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", r.get_data(as_text=True))
    assert (real.status_code, strip(real)) == (unknown.status_code, strip(unknown))
    drain()
    assert [m["To"].addresses[0].addr_spec for m in mail.messages] == [admin.email]


def test_a_link_lasts_30_minutes(make_tenant, make_staff, client_for, mail, drain, pinned_clock):
    tenant = make_tenant()
    admin = _person(make_staff, tenant)
    client = client_for(tenant)
    _ask(client, admin.email)
    drain()
    path = _link(mail, admin.email)
    pinned_clock.shift(timedelta(minutes=29))
    assert client.get(path).status_code == 200
    pinned_clock.shift(timedelta(minutes=2))
    assert client.get(path).status_code == 400
    assert client.submit(path, {"new_password": NEW, "confirm": NEW}).status_code == 400
    assert client_for(tenant).login(admin.email).status_code == 302


def test_the_link_is_kept_hashed_and_a_newer_one_replaces_it(app, make_tenant, make_staff, client_for, mail, drain):
    from app.auth.models import PasswordReset
    from tenants.context import tenant_context
    from tenants.db import db

    tenant = make_tenant()
    admin = _person(make_staff, tenant)
    client = client_for(tenant)
    _ask(client, admin.email)
    drain()
    first = _link(mail, admin.email)
    _ask(client, admin.email)
    drain()
    second = _link(mail, admin.email)
    assert first != second
    with app.app_context(), tenant_context(tenant.id):
        stored = [r.token_hash for r in db.session.scalars(select(PasswordReset))]
    assert stored and not any(path.rsplit("/", 1)[1] in stored for path in (first, second))
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200


def test_a_deactivated_account_gets_no_link(make_tenant, make_staff, client_for, mail, drain):
    tenant = make_tenant()
    doctor = _person(make_staff, tenant, "doctor")
    owner = client_for(tenant, tenant.owner_email)
    owner.submit(f"/staff/{doctor.id}", {"role": "doctor"}, headers={"HX-Request": "true"})
    assert _ask(client_for(tenant), doctor.email).status_code == 200
    drain()
    assert mail.messages == []
