"""The migration that groups alerts: down, a grouped alert keeps its first
result (one alert per result, as before); up again, each alert of the
revision before becomes an alert of one item, in a group of its own, with
its report, and a critical one without a deadline (never escalated). On
PostgreSQL (migrated as the owner under FORCE ROW LEVEL SECURITY, read back
as the app role) and on SQLite."""
import secrets
from datetime import date

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from tests import services as svc

BEFORE = "c2d4f6a8b0e1"  # the revision before the grouped alerts


def _app_on(session_app, app_url: str, owner_url: str):
    from app import create_app

    keep = ("TESTING", "CARELOOP_ENV", "REDIS_URL", "RQ_NAMESPACE", "STORAGE_URL", "SECRET_KEY", "DATA_KEY")
    return create_app({**{k: session_app.config[k] for k in keep}, "SQLALCHEMY_DATABASE_URI": app_url,
                       "DATABASE_OWNER_URL": owner_url})


def _seed(report) -> dict:
    from app.patients import services as patients
    from app.records import importer
    from app.records.models import Alert
    from tenants.context import tenant_context
    from tenants.db import db
    from tenants.services import create_tenant

    tenant_id = create_tenant("mig" + secrets.token_hex(4), "迁移诊所").id
    with tenant_context(tenant_id):
        person = patients.enrol(patients.PatientData(name="迁移者", sex="M", birth_date=date(1970, 1, 2),
                                                     mobile="13900000003"), consent_version="t")
        importer.import_parsed([report(person.card_no, [("14771-0", "30", "mmol/L", "HH", "final"),
                                                        ("14927-8", "3.0", "mmol/L", "", "final")], key="m1")])
        db.session.commit()
        [alert] = db.session.scalars(select(Alert))
        assert alert.item_count == 2
        return {"tenant": tenant_id, "alert": alert.id, "report": alert.report_id}


def _check(ids: dict) -> None:
    from app.records.models import Alert, AlertItem, Observation
    from tenants.context import tenant_context
    from tenants.db import db

    with tenant_context(ids["tenant"]):
        [alert] = db.session.scalars(select(Alert))
        [item] = db.session.scalars(select(AlertItem))
        observation = db.session.scalar(select(Observation).where(Observation.id == item.observation_id))
        assert (alert.id, alert.report_id, alert.group_key, alert.item_count) == \
            (ids["alert"], ids["report"], f"legacy:{ids['alert']}", 1)
        assert (alert.kind, alert.due_at, alert.status) == ("critical", None, "open")
        assert alert.critical_at == alert.created_at
        assert (item.alert_id, item.kind, item.flag, observation.flag) == (alert.id, "critical", "HH", "HH")


def _round_trip(report) -> None:
    from tenants.db import db

    upgrade()
    ids = _seed(report)
    db.session.remove()
    downgrade(revision=BEFORE)
    upgrade()
    _check(ids)
    db.session.remove()


@pytest.mark.postgres
def test_alerts_migrate_down_and_up_on_postgresql(app, report):
    name = f"{svc.DB_NAME}_alerts"
    maintenance = svc.OWNER_URL.rsplit("/", 1)[0] + "/postgres"
    owner_url, app_url = (url.rsplit("/", 1)[0] + f"/{name}" for url in (svc.OWNER_URL, svc.APP_URL))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA public TO careloop_app")
    from app.config import _normalise_db_url
    from tenants.db import db

    migrated = _app_on(app, _normalise_db_url(app_url), _normalise_db_url(owner_url))
    try:
        with migrated.app_context():
            try:
                _round_trip(report)
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_alerts_migrate_down_and_up_on_sqlite(app, tmp_path, report):
    from tenants.db import db

    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    migrated = _app_on(app, url, url)
    with migrated.app_context():
        try:
            _round_trip(report)
        finally:
            db.session.remove()
            db.engine.dispose()
