"""Test fixtures: a real PostgreSQL (as the non-owner app role, so RLS holds)
and a real Redis when they answer; SQLite and an in-process Redis otherwise.
Each test makes its own clinics with random slugs, so tests never share rows."""
import os
import re
import secrets
import shutil
import tempfile
from datetime import date
from types import SimpleNamespace

import pytest
import time_machine
from flask.testing import FlaskClient

from tests import colocation
from tests import services as svc
from tests.clock import CLINIC_TZ, pinned_instant

os.environ.setdefault("CARELOOP_ENV", "testing")

PG_PROBLEM = svc.prepare_postgres()
REDIS_PROBLEM = svc.redis_problem()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_PROBLEM = None if os.path.exists(CHROMIUM) else "no Chromium at /usr/bin/chromium"
PASSWORD = "correct-horse-battery"
_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def pytest_report_header(config):
    db = f"PostgreSQL {svc.DB_NAME} (app role, RLS on)" if PG_PROBLEM is None else f"SQLite ({PG_PROBLEM})"
    if svc.PGBOUNCER_PORT and PG_PROBLEM is None:
        db += f", the app role through PgBouncer on port {svc.PGBOUNCER_PORT}"
    rq = f"Redis, keys {svc.RQ_NAMESPACE}*" if REDIS_PROBLEM is None else f"in-process fakeredis ({REDIS_PROBLEM})"
    return [f"database: {db}", f"jobs: {rq}", f"clock: {pinned_instant().isoformat()}, clinics in {CLINIC_TZ}"]


def pytest_sessionfinish(session, exitstatus):
    if PG_PROBLEM is None:
        svc.drop_database()
    if REDIS_PROBLEM is None:
        svc.forget_redis_keys()


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test runs at the pinned instant, time moving on from there."""
    with time_machine.travel(pinned_instant(), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def colocated_joins():
    """A test whose SQL joins clinic tables without matching tenant_id fails (tests/colocation.py)."""
    already = len(colocation.violations)
    yield
    if len(colocation.violations) > already:
        pytest.fail("joins of clinic tables without tenant_id = tenant_id (Citus could not co-locate them):\n"
                    + "\n".join(colocation.violations[already:]), pytrace=False)


def _need(item, marker: str, problem: str | None) -> None:
    if item.get_closest_marker(marker) and problem:
        if svc.REQUIRE:
            pytest.fail(f"REQUIRE_SERVICES=1 and {problem}", pytrace=False)
        pytest.skip(problem)


def pytest_runtest_setup(item):
    _need(item, "postgres", PG_PROBLEM)
    _need(item, "redis", REDIS_PROBLEM)
    _need(item, "browser", BROWSER_PROBLEM)
    if REDIS_PROBLEM is None:
        # A test that runs the queued jobs (a browser test's live server, a burst worker) runs its own: not
        # those earlier tests left queued, which would come first (and late) or land in its assertions.
        svc.empty_queues()


class HostClient(FlaskClient):
    """A test client that speaks to one host (one clinic) and carries CSRF."""

    host = "localhost"
    _csrf: str | None = None

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().open(*args, **kwargs)

    def csrf(self) -> str:
        if self._csrf is None:
            page = self.get("/login").get_data(as_text=True)
            if "csrf_token" not in page:
                page = self.get("/").get_data(as_text=True)
            match = _TOKEN_RE.search(page)
            assert match, "no CSRF token on the page"
            self._csrf = match.group(1) or match.group(2)
        return self._csrf

    def submit(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf())
        return self.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = PASSWORD):
        response = self.submit("/login", {"email": email, "password": password})
        self._csrf = None  # sign-in starts a fresh session
        return response


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from app import create_app
    from app.config import _normalise_db_url

    workdir = tempfile.mkdtemp(prefix="careloop-test-")
    if PG_PROBLEM is None:
        app_url, owner_url = _normalise_db_url(svc.APP_URL), _normalise_db_url(svc.OWNER_URL)
    else:
        app_url = owner_url = f"sqlite:///{workdir}/test.db"
    redis_url = svc.REDIS_URL if REDIS_PROBLEM is None else None
    application = create_app({
        "TESTING": True,
        "CARELOOP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": app_url,
        "DATABASE_OWNER_URL": owner_url,
        "REDIS_URL": redis_url,
        "DATABASE_TRANSACTION_POOLING": bool(svc.PGBOUNCER_PORT),
        "RQ_NAMESPACE": svc.RQ_NAMESPACE,
        "STORAGE_URL": f"file://{workdir}/storage",
        "SECRET_KEY": "test-secret-key-" + secrets.token_hex(16),
        "DATA_KEY": "test data key",
    })
    application.test_client_class = HostClient
    with application.app_context():
        upgrade()
        if PG_PROBLEM is None:
            from tenants.citus import REFERENCE_TABLES
            from tenants.db import db

            colocation.watch(db.engine, {t.name for t in db.metadata.sorted_tables
                                         if "tenant_id" in t.c and t.name not in REFERENCE_TABLES})
    yield application
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def make_tenant(app):
    """make_tenant(name=..., timezone=...) -> a clinic with an owner account."""
    from tenants.services import create_tenant

    def make(name: str | None = None, slug: str | None = None, timezone: str = CLINIC_TZ):
        slug = slug or "t" + secrets.token_hex(5)
        with app.app_context():
            tenant = create_tenant(slug, name or f"Clinic {slug}", admin_email=f"owner@{slug}.test",
                                   admin_password=PASSWORD, timezone=timezone)
            return SimpleNamespace(id=tenant.id, slug=slug, name=tenant.name, host=f"{slug}.localhost",
                                   owner_email=f"owner@{slug}.test")

    return make


@pytest.fixture
def make_staff(app):
    from app.auth import services as staff
    from tenants.context import tenant_context
    from tenants.db import db

    def make(tenant, role: str, email: str | None = None):
        email = email or f"{role}-{secrets.token_hex(3)}@{tenant.slug}.test"
        with app.app_context(), tenant_context(tenant.id):
            user = staff.add_staff(email, f"{role} user", role, PASSWORD)
            db.session.commit()
            return SimpleNamespace(id=user.id, email=email, role=role)

    return make


@pytest.fixture
def make_patient(app):
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    counter = iter(range(10_000_000))

    def make(tenant, name: str = "张明华", sex: str = "M", birth_date=date(1980, 5, 17),
             mobile: str | None = None, id_number: str = "", **extra):
        mobile = mobile or f"139{next(counter) + secrets.randbelow(10**7):08d}"[:11]
        data = patients.PatientData(name=name, sex=sex, birth_date=birth_date, mobile=mobile,
                                    id_number=id_number, **extra)
        with app.app_context(), tenant_context(tenant.id):
            patient = patients.enrol(data, consent_version="test")
            db.session.commit()
            return SimpleNamespace(id=patient.id, card_no=patient.card_no, name=patient.name, mobile=mobile)

    return make


@pytest.fixture
def client_for(app):
    def make(tenant=None, email: str | None = None, host: str | None = None, password: str = PASSWORD) -> HostClient:
        client = app.test_client()
        client.host = host or (tenant.host if tenant else "localhost")
        if email:
            response = client.login(email, password)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make
