"""Behind PgBouncer's transaction pooling (make test runs this file, the isolation tests and the route walk
through it too): the tenant setting lives and dies with its transaction, and nothing relies on a server
connection staying with the client."""
import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy import text

from tenants.context import tenant_context
from tenants.db import db
from tests import services as svc

pytestmark = pytest.mark.postgres


def test_the_app_role_connects_where_the_run_says(app):
    with app.app_context():
        url = db.engine.url
        assert url.port == int(svc.PGBOUNCER_PORT or 5432)
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        assert options.get("connect_args", {}).get("prepare_threshold", 0) is (None if svc.PGBOUNCER_PORT else 0)
    if svc.PGBOUNCER_PORT:
        with psycopg.connect(f"postgresql://careloop_owner:careloop@127.0.0.1:{svc.PGBOUNCER_PORT}/pgbouncer",
                             autocommit=True, row_factory=dict_row) as console:
            console.prepare_threshold = None
            assert svc.DB_NAME in {row["database"] for row in console.execute("SHOW POOLS")}
            config = {row["key"]: row["value"] for row in console.execute("SHOW CONFIG")}
            assert config["pool_mode"] == "transaction"
            modes = {row["name"]: row["pool_mode"] for row in console.execute("SHOW DATABASES")}
            assert modes.get(svc.DB_NAME) in ("transaction", None), modes  # None: the wildcard's default mode


def test_the_tenant_setting_ends_with_its_transaction(app, make_tenant):
    tenant = make_tenant()
    with app.app_context():
        with tenant_context(tenant.id):
            assert db.session.scalar(text("SELECT current_setting('app.tenant_id', true)")) == str(tenant.id)
            db.session.commit()
        # the next transaction, on whatever server connection PgBouncer hands out, starts without it
        assert db.session.scalar(text("SELECT coalesce(current_setting('app.tenant_id', true), '')")) == ""
        db.session.rollback()


def test_a_statement_run_many_times_needs_no_server_side_preparation(app, make_tenant, make_patient):
    tenant = make_tenant()
    make_patient(tenant)
    with app.app_context(), tenant_context(tenant.id):
        for _ in range(12):  # psycopg prepares a statement on the server after five runs unless told not to
            assert db.session.scalar(text("SELECT count(*) FROM patients")) == 1
            db.session.commit()
