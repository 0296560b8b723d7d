"""The guard and row-level security keep each clinic's rows to itself."""
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.patients.models import Patient
from tenants.context import NoTenantError, tenant_context
from tenants.db import db
from tenants.scoping import TenantOwned


@pytest.fixture
def two_clinics(make_tenant, make_patient):
    a, b = make_tenant("Clinic A"), make_tenant("Clinic B")
    pa = make_patient(a, name="甲病人")
    pb = make_patient(b, name="乙病人")
    return a, b, pa, pb


def test_query_without_tenant_raises(app, two_clinics):
    with app.app_context(), pytest.raises(NoTenantError):
        db.session.scalars(select(Patient)).all()


def test_orm_sees_only_current_tenant(app, two_clinics):
    a, b, pa, pb = two_clinics
    with app.app_context(), tenant_context(a.id):
        names = db.session.scalars(select(Patient.name)).all()
        assert names == ["甲病人"]
        # naming the other tenant's row explicitly still finds nothing
        assert db.session.scalar(select(Patient).where(Patient.tenant_id == b.id)) is None
        assert db.session.scalar(select(Patient).where(Patient.id == pb.id)) is None


def test_orm_insert_for_other_tenant_raises(app, two_clinics):
    a, b, pa, pb = two_clinics
    with app.app_context(), tenant_context(a.id):
        patient = db.session.scalar(select(Patient).where(Patient.id == pa.id))
        from app.patients.models import HealthHistoryItem

        db.session.add(HealthHistoryItem(tenant_id=b.id, patient_id=pb.id, kind="allergy", description="x"))
        with pytest.raises(NoTenantError):
            db.session.flush()
        db.session.rollback()
        assert patient is not None


def test_orm_bulk_update_is_scoped(app, two_clinics):
    a, b, pa, pb = two_clinics
    from sqlalchemy import update

    with app.app_context(), tenant_context(a.id):
        db.session.execute(update(Patient).values(address="moved"))
        db.session.commit()
    with app.app_context(), tenant_context(b.id):
        assert db.session.scalar(select(Patient.address).where(Patient.id == pb.id)) == ""


@pytest.mark.postgres
def test_app_role_cannot_bypass_rls(app):
    with app.app_context():
        row = db.session.execute(text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(row) == (False, False)
        owners = db.session.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")).scalar()
        assert owners == 0


@pytest.mark.postgres
def test_every_tenant_table_has_forced_rls(app):
    tenant_tables = {m.local_table.name for m in db.Model.registry.mappers if issubclass(m.class_, TenantOwned)}
    assert {"patients", "staff_users", "audit_events", "patient_search_terms"} <= tenant_tables
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(:names)"),
            {"names": list(tenant_tables)}).all()
    assert {r.relname for r in rows} == tenant_tables
    assert all(r.relrowsecurity and r.relforcerowsecurity for r in rows)


@pytest.mark.postgres
def test_raw_sql_is_confined_by_rls(app, two_clinics):
    a, b, pa, pb = two_clinics
    with app.app_context(), tenant_context(a.id):
        conn = db.session.connection()
        assert conn.execute(text("SELECT count(*) FROM patients")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM patients WHERE tenant_id = :b"), {"b": b.id}).scalar() == 0
        changed = conn.execute(text("UPDATE patients SET name = 'hijacked' WHERE tenant_id = :b"), {"b": b.id})
        assert changed.rowcount == 0
        deleted = conn.execute(text("DELETE FROM patient_search_terms WHERE tenant_id = :b"), {"b": b.id})
        assert deleted.rowcount == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            conn.execute(text("INSERT INTO tenant_counters (tenant_id, name, value) VALUES (:b, 'x', 1)"),
                         {"b": b.id})
        db.session.rollback()
    with app.app_context(), tenant_context(b.id):
        assert db.session.scalar(select(Patient.name).where(Patient.id == pb.id)) == "乙病人"


@pytest.mark.postgres
def test_no_tenant_setting_sees_nothing_and_does_not_leak(app, two_clinics):
    a, b, pa, pb = two_clinics
    with app.app_context():
        with tenant_context(a.id):
            assert db.session.execute(text("SELECT count(*) FROM patients")).scalar() == 1
            db.session.commit()
        # a new transaction on the same pooled connection, no tenant: nothing
        assert db.session.execute(text("SELECT count(*) FROM patients")).scalar() == 0
        setting = db.session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
        assert setting in (None, "")


@pytest.mark.postgres
def test_audit_trail_is_append_only_for_the_app(app, two_clinics):
    a, *_ = two_clinics
    with app.app_context(), tenant_context(a.id):
        assert db.session.execute(text("SELECT count(*) FROM audit_events")).scalar() >= 1
        with pytest.raises(DBAPIError, match="permission denied"):
            db.session.execute(text("UPDATE audit_events SET action = 'x'"))
        db.session.rollback()
        with pytest.raises(DBAPIError, match="permission denied"):
            db.session.execute(text("DELETE FROM audit_events"))
        db.session.rollback()


def test_counts_per_tenant(app, two_clinics):
    a, b, *_ = two_clinics
    with app.app_context(), tenant_context(b.id):
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 1
