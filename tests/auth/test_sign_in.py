import re

from sqlalchemy import select

from app.auth.models import StaffUser
from app.core.audit import AuditEvent
from tenants.context import tenant_context
from tenants.db import db
from tests.conftest import PASSWORD


def _audit_actions(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.at))]


def test_sign_in_and_out(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant)
    assert client.get("/patients").status_code == 302  # to the sign-in page
    response = client.login(tenant.owner_email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/patients").status_code == 200
    assert client.submit("/logout").status_code == 302
    assert client.get("/patients").status_code == 302
    assert {"sign_in", "sign_out"} <= set(_audit_actions(app, tenant))


def test_wrong_password_is_refused_and_audited(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant)
    response = client.login(tenant.owner_email, "wrong password")
    assert response.status_code == 400
    assert "邮箱或密码不正确" in response.get_data(as_text=True)  # Chinese unless the person chose English
    client.submit("/lang/en")
    assert "Email or password is not correct" in client.login(tenant.owner_email, "wrong again").get_data(as_text=True)
    assert "sign_in_failed" in _audit_actions(app, tenant)


def test_repeated_failures_delay_the_account_without_locking_it(app, make_tenant, client_for, pinned_clock):
    """Failures slow the account down (tests/security/test_signin_throttle.py has the rest)."""
    from datetime import timedelta

    tenant = make_tenant()
    client = client_for(tenant)
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        client.login(tenant.owner_email, "nope nope nope")
    # even the right password waits out the delay, with a message that says so
    response = client.login(tenant.owner_email, PASSWORD)
    assert response.status_code == 429
    assert re.search(r"wait|请等待", response.get_data(as_text=True))
    pinned_clock.shift(timedelta(seconds=app.config["LOGIN_DELAY_BASE_SECONDS"] + 1))
    assert client.login(tenant.owner_email, PASSWORD).status_code == 302


def test_session_is_valid_only_on_its_own_clinic(make_tenant, client_for):
    a, b = make_tenant(), make_tenant()
    client = client_for(a, a.owner_email)
    assert client.get("/patients").status_code == 200
    # the same cookie jar, pointed at clinic B (cookies scoped to the host are
    # not sent; copy A's session cookie explicitly to prove the server refuses it)
    cookie = client.get_cookie("session", domain=a.host)
    other = client_for(b)
    other.set_cookie("session", cookie.value, domain=b.host)
    response = other.get("/patients")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_identifier_is_new_after_sign_in(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant)
    client.get("/login")
    before = client.get_cookie("session", domain=tenant.host).value
    client.login(tenant.owner_email)
    after = client.get_cookie("session", domain=tenant.host).value
    assert before != after


def test_csrf_required_on_forms_and_htmx(make_tenant, client_for, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant, tenant.owner_email)
    assert client.post("/logout").status_code == 400
    assert client.post(f"/patients/{patient.id}/archive", headers={"HX-Request": "true"}).status_code == 400
    ok = client.post(f"/patients/{patient.id}/archive", headers={"HX-Request": "true", "X-CSRFToken": client.csrf()})
    assert ok.status_code == 302


def test_deactivated_staff_lose_their_session(app, make_tenant, make_staff, client_for):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    doctor_client = client_for(tenant, doctor.email)
    admin = client_for(tenant, tenant.owner_email)
    response = admin.submit(f"/staff/{doctor.id}", {"role": "doctor"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert doctor_client.get("/patients").status_code == 302
    assert doctor_client.login(doctor.email).status_code == 400


def test_admin_adds_staff_and_changes_roles(make_tenant, client_for):
    tenant = make_tenant()
    admin = client_for(tenant, tenant.owner_email)
    response = admin.submit("/staff", {"name": "李护士", "email": "li@example.cn", "role": "front_desk",
                                       "password": PASSWORD})
    assert response.status_code == 302
    page = admin.get("/staff").get_data(as_text=True)
    assert "李护士" in page
    bad = admin.submit("/staff", {"name": "李护士", "email": "li@example.cn", "role": "front_desk",
                                  "password": PASSWORD})
    assert bad.status_code == 400
    short = admin.submit("/staff", {"name": "<b>x</b>", "email": "not-an-email", "role": "doctor", "password": "short"})
    body = short.get_data(as_text=True)
    assert short.status_code == 400 and body.count('class="error"') >= 3
    new_member = client_for(tenant, "li@example.cn")
    assert new_member.get("/staff").status_code == 403


def test_last_admin_cannot_be_demoted(app, make_tenant, client_for):
    tenant = make_tenant()
    admin = client_for(tenant, tenant.owner_email)
    with app.app_context(), tenant_context(tenant.id):
        owner_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == tenant.owner_email))
    response = admin.submit(f"/staff/{owner_id}", {"role": "doctor", "active": "y"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    with app.app_context(), tenant_context(tenant.id):
        assert db.session.get(StaffUser, (tenant.id, owner_id)).role == "owner"


def test_roles_enforced_on_server(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    desk = make_staff(tenant, "front_desk")
    client = client_for(tenant, desk.email)
    assert client.get("/staff").status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.get("/patients").status_code == 200
