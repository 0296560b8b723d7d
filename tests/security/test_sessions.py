"""Staff and portal sessions are kept on the server: signing out,
deactivation, a password or role change end them at once (a cookie copied
earlier is refused from any browser); they end after idling (staff 30 min,
portal 15 min) and after 12 hours in any case, both clinic settings; and a
person can end their other sessions from the "my sessions" page."""
import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)

HX = {"HX-Request": "true"}


def _signed_in(response) -> bool:
    return response.status_code == 200


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _cookie_session(app, client, tenant) -> dict:
    cookie = client.get_cookie("session", domain=tenant.host)
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def _session_rows(app, tenant, kind="staff"):
    from app.core.sessions import ServerSession
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        return list(db.session.scalars(select(ServerSession).where(ServerSession.kind == kind)
                                       .order_by(ServerSession.created_at)))


# ------------------------------------------------------------ ending them

def test_a_cookie_copied_before_sign_out_is_refused_afterwards(make_tenant, client_for, copy_cookie):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    copied = copy_cookie(client, tenant)
    assert _signed_in(copied.get("/patients"))  # the copy is a working session ...
    assert client.submit("/logout").status_code == 302
    assert _to_sign_in(copied.get("/patients"))  # ... until its owner signs out, in whatever browser it is
    assert _to_sign_in(client.get("/patients"))


def test_deactivation_ends_every_session_at_once(make_tenant, make_staff, client_for, copy_cookie):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    laptop, phone = client_for(tenant, doctor.email), client_for(tenant, doctor.email)
    copied = copy_cookie(laptop, tenant)
    owner = client_for(tenant, tenant.owner_email)
    assert owner.submit(f"/staff/{doctor.id}", {"role": "doctor"}, headers=HX).status_code == 200
    assert all(_to_sign_in(c.get("/patients")) for c in (laptop, phone, copied))


def test_a_role_change_ends_the_sessions(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    owner = client_for(tenant, tenant.owner_email)
    assert owner.submit(f"/staff/{doctor.id}", {"role": "front_desk", "active": "y"}, headers=HX).status_code == 200
    assert _to_sign_in(client.get("/patients"))
    assert client.login(doctor.email).status_code == 302  # signs in again, with the new role


def test_a_password_change_ends_the_other_sessions(make_tenant, client_for, copy_cookie, audit_rows):
    tenant = make_tenant()
    here, there = client_for(tenant, tenant.owner_email), client_for(tenant, tenant.owner_email)
    copied = copy_cookie(here, tenant)
    wrong = here.submit("/account/password", {"current_password": "not it at all", "new_password": "a-new-password-1",
                                              "confirm": "a-new-password-1"})
    assert wrong.status_code == 400
    assert _signed_in(there.get("/patients"))
    response = here.submit("/account/password", {"current_password": PASSWORD, "new_password": "a-new-password-1",
                                                 "confirm": "a-new-password-1"})
    assert response.status_code == 302
    assert _signed_in(here.get("/patients"))  # this browser goes on, with a new session
    assert _to_sign_in(there.get("/patients")) and _to_sign_in(copied.get("/patients"))
    assert client_for(tenant).login(tenant.owner_email).status_code == 400
    assert client_for(tenant).login(tenant.owner_email, "a-new-password-1").status_code == 302
    assert audit_rows(tenant, "password_changed")


def test_the_new_password_is_checked(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    short = client.submit("/account/password", {"current_password": PASSWORD, "new_password": "short",
                                                "confirm": "short"})
    assert short.status_code == 400
    differ = client.submit("/account/password", {"current_password": PASSWORD, "new_password": "a-new-password-1",
                                                 "confirm": "a-new-password-2"})
    assert differ.status_code == 400
    assert client_for(tenant).login(tenant.owner_email).status_code == 302


# ------------------------------------------------------------ timeouts

def test_a_staff_session_ends_after_30_idle_minutes(make_tenant, client_for, pinned_clock):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    pinned_clock.shift(timedelta(minutes=25))
    assert _signed_in(client.get("/patients"))
    pinned_clock.shift(timedelta(minutes=25))  # 50 minutes in, but only 25 idle
    assert _signed_in(client.get("/patients"))
    pinned_clock.shift(timedelta(minutes=31))
    assert _to_sign_in(client.get("/patients"))
    pinned_clock.shift(timedelta(minutes=1))
    assert _to_sign_in(client.get("/patients"))  # it stays ended


def test_a_staff_session_ends_after_12_hours_however_busy(make_tenant, client_for, pinned_clock):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    for _ in range(28):  # 11 h 40 min of work, never idle for long
        pinned_clock.shift(timedelta(minutes=25))
        assert _signed_in(client.get("/patients"))
    pinned_clock.shift(timedelta(minutes=25))
    assert _to_sign_in(client.get("/patients"))
    assert _session_rows(client.application, tenant)[0].end_reason == "expired"


def test_the_timeouts_are_clinic_settings(app, make_tenant, make_staff, client_for, pinned_clock):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    page = owner.get("/settings/sign-in")
    assert page.status_code == 200 and 'name="staff_idle_minutes"' in page.get_data(as_text=True)
    bad = owner.submit("/settings/sign-in", {"staff_idle_minutes": "0", "portal_idle_minutes": "15",
                                             "absolute_hours": "12"})
    assert bad.status_code == 400
    assert owner.submit("/settings/sign-in", {"staff_idle_minutes": "60", "portal_idle_minutes": "5",
                                              "absolute_hours": "2"}).status_code == 302
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant, doctor.email)
    pinned_clock.shift(timedelta(minutes=45))
    assert _signed_in(client.get("/patients"))  # 45 idle minutes are within the clinic's hour
    pinned_clock.shift(timedelta(minutes=45))
    assert _signed_in(client.get("/patients"))
    pinned_clock.shift(timedelta(minutes=31))  # two hours since sign-in
    assert _to_sign_in(client.get("/patients"))
    assert client_for(tenant, doctor.email).get("/settings/sign-in").status_code == 403


# ------------------------------------------------------------ at rest

def test_session_ids_are_kept_hashed(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    token = _cookie_session(app, client, tenant)["_user_id"].split(".", 1)[1]
    rows = _session_rows(app, tenant)
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {rows[0].token_hash, str(rows[0].id)}


def test_last_seen_is_not_written_on_every_request(app, make_tenant, client_for, pinned_clock):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    first = _session_rows(app, tenant)[0].last_seen_at
    for _ in range(5):
        client.get("/patients")
    assert _session_rows(app, tenant)[0].last_seen_at == first
    pinned_clock.shift(timedelta(minutes=2))
    client.get("/patients")
    assert _session_rows(app, tenant)[0].last_seen_at > first


# ------------------------------------------------------------ my sessions

def test_my_sessions_page_ends_another_session(make_tenant, client_for, audit_rows):
    tenant = make_tenant()
    here = client_for(tenant, tenant.owner_email)
    there = client_for(tenant)
    there.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (iPhone) Safari"
    there.login(tenant.owner_email)
    page = here.get("/account/sessions").get_data(as_text=True)
    ends = re.findall(r'action="/account/sessions/(\d+)/end"', page)
    assert len(ends) == 1  # the other session; this one is marked, with sign-out instead
    assert "iPhone" in page
    assert here.submit(f"/account/sessions/{ends[0]}/end").status_code == 302
    assert _to_sign_in(there.get("/patients"))
    assert _signed_in(here.get("/patients"))
    assert audit_rows(tenant, "session_ended")


def test_ending_all_other_sessions(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    mine = [client_for(tenant, doctor.email) for _ in range(3)]
    colleague = client_for(tenant, tenant.owner_email)
    assert mine[0].submit("/account/sessions/end-others").status_code == 302
    assert _signed_in(mine[0].get("/patients"))
    assert all(_to_sign_in(c.get("/patients")) for c in mine[1:])
    assert _signed_in(colleague.get("/patients"))  # someone else's sessions are not touched
    # nor can one end a colleague's session by its number
    theirs = [r.id for r in _session_rows(colleague.application, tenant) if r.ended_at is None
              and r.subject_id != doctor.id]
    assert mine[0].submit(f"/account/sessions/{theirs[0]}/end").status_code == 404
    assert _signed_in(colleague.get("/patients"))


# ------------------------------------------------------------ the portal

def _portal_signed_in(client) -> bool:
    return client.get("/portal").status_code == 200


def test_a_portal_cookie_copied_before_sign_out_is_refused(make_tenant, patient_client, copy_cookie):
    tenant = make_tenant()
    client = patient_client(tenant, "13911112222")
    copied = copy_cookie(client, tenant)
    assert _portal_signed_in(copied)
    assert client.post("/portal/sign-out", data={"csrf_token": client.token}).status_code == 302
    assert not _portal_signed_in(copied) and not _portal_signed_in(client)


def test_a_portal_session_ends_after_15_idle_minutes_and_after_12_hours(app, make_tenant, patient_client,
                                                                        pinned_clock):
    tenant = make_tenant()
    client = patient_client(tenant, "13911113333")
    pinned_clock.shift(timedelta(minutes=14))
    assert _portal_signed_in(client)
    pinned_clock.shift(timedelta(minutes=16))
    assert not _portal_signed_in(client)
    busy = patient_client(tenant, "13911113333")
    for _ in range(61):  # 12 hours, a visit every 12 minutes
        pinned_clock.shift(timedelta(minutes=12))
        if not _portal_signed_in(busy):
            break
    rows = _session_rows(app, tenant, "portal")
    assert [r.end_reason for r in rows] == ["idle", "expired"]
    assert timedelta(hours=11, minutes=48) <= rows[1].ended_at - rows[1].created_at <= timedelta(hours=12, minutes=12)


def test_a_portal_session_is_kept_hashed_and_only_on_its_clinic(app, make_tenant, patient_client, client_for):
    tenant, other = make_tenant(), make_tenant()
    client = patient_client(tenant, "13911114444")
    token = _cookie_session(app, client, tenant)["portal_account"]
    assert _session_rows(app, tenant, "portal")[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    elsewhere = client_for(other)
    cookie = client.get_cookie("session", domain=tenant.host)
    elsewhere.set_cookie("session", cookie.value, domain=other.host)
    assert elsewhere.get("/portal").status_code == 302


def test_ended_sessions_say_why(app, make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant, tenant.owner_email)
    client.submit("/logout")
    assert [r.end_reason for r in _session_rows(app, tenant)] == ["signed_out"]


def test_the_portals_devices_page_ends_another_session(make_tenant, patient_client, pinned_clock):
    tenant = make_tenant()
    here = patient_client(tenant, "13911115555")
    pinned_clock.shift(timedelta(seconds=61))  # a number gets one code a minute
    there = patient_client(tenant, "13911115555")
    page = here.get("/portal/sessions").get_data(as_text=True)
    ends = re.findall(r'action="/portal/sessions/(\d+)/end"', page)
    assert len(ends) == 1
    response = here.post(f"/portal/sessions/{ends[0]}/end", data={"csrf_token": here.token})
    assert response.status_code == 302
    assert not _portal_signed_in(there) and _portal_signed_in(here)
    other = patient_client(tenant, "13911116666")  # another patient's session is not found by its number
    theirs = re.findall(r'action="/portal/sessions/(\d+)/end"', here.get("/portal/sessions").get_data(as_text=True))
    assert theirs == []
    pinned_clock.shift(timedelta(seconds=61))
    mine = patient_client(tenant, "13911115555")
    assert other.post(f"/portal/sessions/{_session_rows(other.application, tenant, 'portal')[-1].id}/end",
                      data={"csrf_token": other.token}).status_code == 404
    assert _portal_signed_in(mine)
