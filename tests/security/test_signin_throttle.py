"""Failed staff sign-ins slow down the account (a progressive delay, not a
15-minute lock anyone can set off) and are limited per client address; the
answer is the same whether or not the email has an account; an admin can
clear an account's delay."""
import re
import threading
import time
from datetime import timedelta

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.redis

_BANNER = re.compile(r'class="error banner" role="alert">(.*?)</p>', re.S)


def _banner(response) -> str:
    found = _BANNER.search(response.get_data(as_text=True))
    return found.group(1).strip() if found else ""


def _from(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failed_sign_ins_do_not_lock_the_account_for_long(make_tenant, client_for, pinned_clock):
    tenant = make_tenant()
    attacker = _from(client_for(tenant), "203.0.113.9")
    for _ in range(10):
        assert attacker.login(tenant.owner_email, "guess guess guess").status_code == 400
        pinned_clock.shift(timedelta(seconds=61))  # every guess waits out the delay, so every one counts
    owner = _from(client_for(tenant), "198.51.100.20")
    response = owner.login(tenant.owner_email)  # a minute after the last guess at most, never 15
    assert response.status_code == 302, _banner(response)


def test_the_delay_grows_and_holds_back_even_the_right_password(app, make_tenant, client_for, pinned_clock,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 10)
    tenant = make_tenant()
    client = client_for(tenant)
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        assert client.login(tenant.owner_email, "wrong wrong wrong").status_code == 400
    started = time.monotonic()
    held = client.login(tenant.owner_email, PASSWORD)
    assert held.status_code == 429
    assert time.monotonic() - started < 2  # refused at once: nobody sleeps in the request
    pinned_clock.shift(timedelta(seconds=11))
    assert client.login(tenant.owner_email, "wrong again!!").status_code == 400  # counted: the delay doubles
    pinned_clock.shift(timedelta(seconds=12))
    assert client.login(tenant.owner_email, PASSWORD).status_code == 429
    pinned_clock.shift(timedelta(seconds=10))
    assert client.login(tenant.owner_email, PASSWORD).status_code == 302


def test_one_answer_whether_or_not_the_account_exists(app, make_tenant, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_BASE_SECONDS", 30)
    tenant = make_tenant()
    answers = {}
    for email in (tenant.owner_email, f"nobody@{tenant.slug}.test"):
        client = client_for(tenant)
        answers[email] = []
        for _ in range(7):
            response = client.login(email, "wrong wrong wrong")
            answers[email].append((response.status_code, re.sub(r"\d+", "N", _banner(response))))
    real, unknown = answers.values()
    assert real == unknown
    assert {status for status, _text in real} == {400, 429}


def test_a_limit_per_client_address(app, make_tenant, client_for, monkeypatch, pinned_clock):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 5)
    tenant = make_tenant()
    sprayer = _from(client_for(tenant), "192.0.2.44")
    for n in range(5):  # one guess each at many accounts: no account's delay is reached
        assert sprayer.login(f"user{n}@{tenant.slug}.test", "spring2026!").status_code == 400
    refused = sprayer.login(tenant.owner_email, PASSWORD)  # not even checked
    assert refused.status_code == 429
    assert _banner(refused)
    elsewhere = _from(client_for(tenant), "192.0.2.45")
    assert elsewhere.login(tenant.owner_email).status_code == 302
    pinned_clock.shift(timedelta(minutes=16))
    assert _from(client_for(tenant), "192.0.2.44").login(tenant.owner_email).status_code == 302


def test_a_good_sign_in_does_not_count_against_the_address(app, make_tenant, make_staff, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 3)
    tenant = make_tenant()
    colleagues = [make_staff(tenant, "doctor") for _ in range(5)]
    for person in colleagues:  # a clinic behind one address signing in in the morning
        assert _from(client_for(tenant), "100.64.0.1").login(person.email).status_code == 302


def test_an_admin_clears_an_accounts_delay(make_tenant, make_staff, client_for, audit_rows, pinned_clock):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    client = client_for(tenant)
    for _ in range(6):
        client.login(doctor.email, "wrong wrong wrong")
        pinned_clock.shift(timedelta(seconds=5))
    assert client.login(doctor.email).status_code == 429
    admin = client_for(tenant, tenant.owner_email)
    page = admin.get("/staff").get_data(as_text=True)
    assert f'action="/staff/{doctor.id}/unlock"' in page
    assert admin.submit(f"/staff/{doctor.id}/unlock").status_code == 302
    assert client.login(doctor.email).status_code == 302
    assert audit_rows(tenant, "sign_in_delay_cleared")[-1].detail["staff_id"] == doctor.id


def test_claims_are_counted_atomically(app, make_tenant):
    """Guesses sent at the same moment cannot all slip through before any is counted."""
    from app.auth import throttle
    from tenants.context import tenant_context

    tenant = make_tenant()
    results, start = [], threading.Barrier(12)

    def guess():
        with app.app_context(), tenant_context(tenant.id):
            start.wait()
            results.append(throttle.claim(tenant.owner_email, "203.0.113.50").allowed)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == app.config["LOGIN_FREE_FAILURES"]
