"""Optional two-factor sign-in for staff with a TOTP app (RFC 6238) and
single-use recovery codes kept hashed; an owner can require it for roles."""
import base64
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD

pytestmark = pytest.mark.redis

# RFC 6238, Appendix B: the seeds are ASCII strings of 20, 32 and 64 bytes.
SEEDS = {"sha1": b"12345678901234567890", "sha256": b"12345678901234567890123456789012",
         "sha512": b"1234567890123456789012345678901234567890123456789012345678901234"}
VECTORS = [
    (59, "sha1", "94287082"), (59, "sha256", "46119246"), (59, "sha512", "90693936"),
    (1111111109, "sha1", "07081804"), (1111111109, "sha256", "68084774"), (1111111109, "sha512", "25091201"),
    (1111111111, "sha1", "14050471"), (1111111111, "sha256", "67062674"), (1111111111, "sha512", "99943326"),
    (1234567890, "sha1", "89005924"), (1234567890, "sha256", "91819424"), (1234567890, "sha512", "93441116"),
    (2000000000, "sha1", "69279037"), (2000000000, "sha256", "90698825"), (2000000000, "sha512", "38618901"),
    (20000000000, "sha1", "65353130"), (20000000000, "sha256", "77737706"), (20000000000, "sha512", "47863826"),
]


def _b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode()


@pytest.mark.parametrize(("at", "digest", "code"), VECTORS)
def test_rfc_6238_test_vectors(at, digest, code):
    from app.auth import totp

    assert totp.code_at(_b32(SEEDS[digest]), at, digits=8, digest=digest) == code


@pytest.mark.parametrize(("at", "code"), [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"),
                                          (2000000000, "279037")])
def test_codes_are_checked_on_the_pinned_clock(app, pinned_clock, at, code):
    """The six-digit SHA-1 codes an authenticator app shows are the vectors'
    last six digits; the check reads the clinic clock, one step either way."""
    from app.auth import totp

    secret = _b32(SEEDS["sha1"])
    pinned_clock.move_to(datetime.fromtimestamp(at, timezone.utc))
    step = totp.verify(secret, code, last_step=None)
    assert step == at // 30
    assert totp.verify(secret, code, last_step=step) is None  # a code is good once
    pinned_clock.shift(timedelta(seconds=30))
    assert totp.verify(secret, code, last_step=None) == step  # the step before still counts ...
    pinned_clock.shift(timedelta(seconds=60))
    assert totp.verify(secret, code, last_step=None) is None  # ... not older ones


def _enrol(client) -> tuple[str, list[str]]:
    """Set up the app for a signed-in client: (secret, recovery codes)."""
    page = client.submit("/account/two-factor/start").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert "<svg" in page and "otpauth://totp/" in page
    done = client.submit("/account/two-factor/confirm", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.get_data(as_text=True)[-800:]
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, email, password=PASSWORD):
    response = client.login(email, password)
    assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    return response.headers["Location"]


def test_enrol_then_sign_in_with_a_code(make_tenant, client_for, pinned_clock, audit_rows):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    wrong = owner.submit("/account/two-factor/start")
    assert wrong.status_code == 200
    bad = owner.submit("/account/two-factor/confirm", {"code": "000000"})
    assert bad.status_code == 400
    secret, _codes = _enrol(owner)
    pinned_clock.shift(timedelta(seconds=30))  # the code that switched it on is used up
    client = client_for(tenant)
    assert _password_step(client, tenant.owner_email).startswith("/login/two-factor")
    assert client.get("/patients").status_code == 302  # the password alone is no session
    assert client.submit("/login/two-factor", {"code": "123456"}).status_code == 400
    code = pyotp.TOTP(secret).now()
    assert client.submit("/login/two-factor", {"code": code}).status_code == 302
    assert client.get("/patients").status_code == 200
    # the same code cannot be used again, in another browser either
    replay = client_for(tenant)
    _password_step(replay, tenant.owner_email)
    assert replay.submit("/login/two-factor", {"code": code}).status_code == 400
    pinned_clock.shift(timedelta(seconds=30))
    assert replay.submit("/login/two-factor", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert {"two_factor_enabled", "sign_in"} <= {e.action for e in audit_rows(tenant)}


def test_the_second_step_waits_five_minutes_at_most(make_tenant, client_for, pinned_clock):
    tenant = make_tenant()
    secret, _codes = _enrol(client_for(tenant, tenant.owner_email))
    client = client_for(tenant)
    _password_step(client, tenant.owner_email)
    pinned_clock.shift(timedelta(minutes=5, seconds=10))
    response = client.submit("/login/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/patients").status_code == 302


def test_recovery_codes_work_once_and_are_kept_hashed(app, make_tenant, client_for):
    from app.auth.models import RecoveryCode
    from tenants.context import tenant_context
    from tenants.db import db

    tenant = make_tenant()
    _secret, codes = _enrol(client_for(tenant, tenant.owner_email))
    with app.app_context(), tenant_context(tenant.id):
        stored = [r.code_hash for r in db.session.scalars(select(RecoveryCode))]
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert not any(code.replace("-", "") in "".join(stored) for code in codes)
    client = client_for(tenant)
    _password_step(client, tenant.owner_email)
    assert client.submit("/login/two-factor", {"code": codes[3].upper()}).status_code == 302
    again = client_for(tenant)
    _password_step(again, tenant.owner_email)
    assert again.submit("/login/two-factor", {"code": codes[3]}).status_code == 400
    assert again.submit("/login/two-factor", {"code": codes[4]}).status_code == 302


def test_wrong_codes_are_throttled(make_tenant, client_for):
    tenant = make_tenant()
    _enrol(client_for(tenant, tenant.owner_email))
    client = client_for(tenant)
    _password_step(client, tenant.owner_email)
    statuses = [client.submit("/login/two-factor", {"code": f"{n:06d}"}).status_code for n in range(6)]
    # the password's try counts until the code passes: the code gets the free tries left
    assert statuses[:2] == [400, 400] and 429 in statuses


def test_an_owner_can_require_two_factor_for_roles(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    doctor, desk = make_staff(tenant, "doctor"), make_staff(tenant, "front_desk")
    owner = client_for(tenant, tenant.owner_email)
    saved = owner.submit("/settings/sign-in", {"staff_idle_minutes": "30", "portal_idle_minutes": "15",
                                               "absolute_hours": "12", "two_factor_roles": ["doctor"]})
    assert saved.status_code == 302
    assert client_for(tenant).login(desk.email).headers["Location"] == "/"  # not required for the desk
    client = client_for(tenant)
    assert _password_step(client, doctor.email) == "/login/two-factor/setup"
    assert client.get("/patients").status_code == 302  # no way round the set-up
    page = client.get("/login/two-factor/setup").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    done = client.submit("/login/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and len(re.findall(r"<li><code>", done.get_data(as_text=True))) == 10
    assert client.get("/patients").status_code == 200
    # while it is required, it cannot be switched off
    off = client.submit("/account/two-factor/disable", {"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert off.status_code == 400
    later = client_for(tenant)
    assert _password_step(later, doctor.email) == "/login/two-factor"


def test_switching_off_needs_the_password_and_a_code(make_tenant, client_for, pinned_clock, audit_rows):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    secret, _codes = _enrol(owner)
    pinned_clock.shift(timedelta(seconds=30))
    assert owner.submit("/account/two-factor/disable", {"password": "wrong", "code": pyotp.TOTP(secret).now()}) \
        .status_code == 400
    assert owner.submit("/account/two-factor/disable", {"password": PASSWORD, "code": pyotp.TOTP(secret).now()}) \
        .status_code == 302
    assert client_for(tenant).login(tenant.owner_email).headers["Location"] == "/"
    assert audit_rows(tenant, "two_factor_disabled")
