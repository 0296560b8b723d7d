"""Patient sign-in with a texted code: hashed, short-lived, single use, limited."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.portal import otp, services
from app.portal.models import PortalAccount, SigninCode
from tenants.db import db
from tenants.models import utcnow

MOBILE = "13812345678"


def _send(mobile=MOBILE, ip="10.0.0.1", now=None):
    sent = services.request_code(mobile, ip, now=now)
    db.session.commit()
    return sent


def test_code_is_texted_hashed_and_single_use(as_tenant, make_tenant, make_patient, last_code):
    tenant = make_tenant()
    patient = make_patient(tenant, mobile=MOBILE)
    with as_tenant(tenant):
        assert _send().minutes == 5
    code = last_code(tenant, MOBILE)
    with as_tenant(tenant):
        row = db.session.scalar(select(SigninCode))
        assert code not in row.code_hash and len(row.code_hash) >= 32
        assert timedelta(minutes=4) < row.expires_at - row.created_at <= timedelta(minutes=5)
        account = services.sign_in(MOBILE, code, "10.0.0.1")
        db.session.commit()
        assert account.patient_id == patient.id      # linked by the mobile's blind index
        with pytest.raises(services.SigninRefused) as caught:
            services.sign_in(MOBILE, code, "10.0.0.1")
        assert caught.value.reason == "expired"
        db.session.commit()


def test_code_expires_after_five_minutes(as_tenant, make_tenant, last_code):
    tenant = make_tenant()
    with as_tenant(tenant):
        _send()
    code = last_code(tenant, MOBILE)
    with as_tenant(tenant):
        with pytest.raises(services.SigninRefused) as caught:
            services.sign_in(MOBILE, code, "10.0.0.1", now=utcnow() + timedelta(minutes=5, seconds=1))
        assert caught.value.reason == "expired"
        db.session.commit()
        account = services.sign_in(MOBILE, code, "10.0.0.1", now=utcnow() + timedelta(minutes=4))
        assert account.patient_id is None  # no card with this number yet


def test_wrong_codes_kill_the_code_and_are_limited(as_tenant, make_tenant, last_code, app, monkeypatch):
    tenant = make_tenant()
    with as_tenant(tenant):
        _send()
    code = last_code(tenant, MOBILE)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    with as_tenant(tenant):
        reasons = []
        for _ in range(5):
            with pytest.raises(services.SigninRefused) as caught:
                services.sign_in(MOBILE, wrong, "10.0.0.2")
            db.session.commit()
            reasons.append(caught.value.reason)
        assert reasons == ["wrong"] * 4 + ["dead"]
        with pytest.raises(services.SigninRefused):  # the right code no longer works either
            services.sign_in(MOBILE, code, "10.0.0.2")
        db.session.commit()
        # per number: 10 failures an hour, then even a fresh code is refused
        for _ in range(4):
            with pytest.raises(services.SigninRefused):
                services.sign_in(MOBILE, wrong, "10.0.0.3")
            db.session.commit()
        _send(now=utcnow() + timedelta(minutes=2))
    fresh = last_code(tenant, MOBILE)
    with as_tenant(tenant):
        with pytest.raises(services.SigninRefused) as caught:
            services.sign_in(MOBILE, fresh, "10.0.0.4")
        assert caught.value.reason == "number_limit"
        db.session.rollback()
    # per address: failures across many numbers
    monkeypatch.setitem(app.config, "PORTAL_FAILURES_PER_ADDRESS", 3)
    with as_tenant(tenant):
        for i in range(3):
            with pytest.raises(services.SigninRefused):
                services.sign_in(f"1390000000{i}", "000000", "10.9.9.9")
            db.session.commit()
        with pytest.raises(services.SigninRefused) as caught:
            services.sign_in("13900000009", "000000", "10.9.9.9")
        assert caught.value.reason == "address_limit"


def test_sending_is_limited_per_number_and_per_address(as_tenant, make_tenant, app, monkeypatch):
    tenant = make_tenant()
    now = utcnow()
    with as_tenant(tenant):
        _send(now=now)
        with pytest.raises(services.SigninRefused) as caught:
            _send(now=now + timedelta(seconds=30))
        assert caught.value.reason == "wait"
        for minutes in (2, 4, 6, 8):
            _send(now=now + timedelta(minutes=minutes))
        with pytest.raises(services.SigninRefused) as caught:
            _send(now=now + timedelta(minutes=10))
        assert caught.value.reason == "number_limit"
        _send(now=now + timedelta(minutes=61))      # an hour later it works again
        monkeypatch.setitem(app.config, "PORTAL_SENDS_PER_ADDRESS", 2)
        _send("13700000001", ip="10.1.1.1")
        _send("13700000002", ip="10.1.1.1")
        with pytest.raises(services.SigninRefused) as caught:
            _send("13700000003", ip="10.1.1.1")
        assert caught.value.reason == "address_limit"
        with pytest.raises(services.SigninRefused) as caught:
            _send("12345", ip="10.1.1.2")
        assert caught.value.reason == "mobile"
        db.session.rollback()


def test_new_code_replaces_the_old_one(as_tenant, make_tenant, last_code):
    tenant = make_tenant()
    now = utcnow()
    with as_tenant(tenant):
        _send(now=now - timedelta(minutes=2))
    first = last_code(tenant, MOBILE)
    with as_tenant(tenant):
        _send(now=now)
    second = last_code(tenant, MOBILE)
    with as_tenant(tenant):
        if first != second:
            with pytest.raises(services.SigninRefused):
                services.sign_in(MOBILE, first, "10.0.0.1")
            db.session.commit()
        services.sign_in(MOBILE, second, "10.0.0.1")
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(PortalAccount)) == 1
        assert otp.mobile_index(MOBILE) == db.session.scalar(select(PortalAccount.mobile_index))


def test_sign_in_pages(make_tenant, client_for, last_code):
    tenant = make_tenant()
    client = client_for(tenant)
    page = client.get("/portal/sign-in?next=/shop").get_data(as_text=True)
    assert 'type="tel"' in page and 'name="next"' in page
    response = client.submit("/portal/sign-in", {"mobile": "123"})
    assert response.status_code == 400 and "11" in response.get_data(as_text=True)
    response = client.submit("/portal/sign-in", {"mobile": MOBILE, "next": "https://evil.example/"})
    assert response.status_code == 200 and 'name="code"' in response.get_data(as_text=True)
    response = client.submit("/portal/sign-in/code", {"mobile": MOBILE, "code": "000000", "next": "/shop"})
    assert response.status_code == 400
    response = client.submit("/portal/sign-in/code", {"mobile": MOBILE, "code": last_code(tenant, MOBILE),
                                                      "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal"
    assert "138****5678" in client.get("/portal").get_data(as_text=True)
    # the patient session is no staff session
    assert client.get("/patients").status_code == 302
    client.submit("/portal/sign-out")
    assert client.get("/portal").status_code == 302
