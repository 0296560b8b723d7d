"""ü typed either way: 吕 as lv or lu, 女 as nv or nu; v for ü after j, q, x, y."""
from datetime import date

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.patients import services
from app.patients.search_terms import normalise_query, terms_for
from tenants.context import tenant_context
from tests import services as svc

BEFORE = "4e6a8c0b2d71"  # the revision before the u spellings


def test_terms_hold_both_spellings_of_u_after_l_and_n():
    assert {"lvming", "luming", "lm", "ming"} <= terms_for("吕明", "DE000001", "1234")
    assert {"nv", "nu"} <= terms_for("女", "DE000002", "1234")
    assert {"lve", "lue"} <= terms_for("略", "DE000003", "1234")
    assert "lu" not in terms_for("王明", "DE000004", "1234")
    assert normalise_query("Xv Ming") == "xuming" and normalise_query("lü") == "lv"
    assert normalise_query("lv") == "lv" and normalise_query("XV000123") == "xv000123"  # a card number stays


def test_search_finds_u_names_by_either_spelling(app, make_tenant, make_patient):
    tenant = make_tenant()
    lv = make_patient(tenant, name="吕明")
    nv = make_patient(tenant, name="女", sex="F")
    xu = make_patient(tenant, name="徐立")
    lu = make_patient(tenant, name="卢明")
    with app.app_context(), tenant_context(tenant.id):
        def found(query):
            return {p.id for p in services.search(query).patients}

        for query in ("lvming", "luming", "LvMing", "lüming", "lm"):
            assert lv.id in found(query), query
        assert found("lvming") == {lv.id}  # v says ü: 卢 (lu) is not a match
        assert found("luming") == {lv.id, lu.id}
        assert nv.id in found("nv") and nv.id in found("nu")
        assert found("xvli") == found("xuli") == {xu.id}


@pytest.mark.postgres
def test_migration_adds_the_u_spelling_to_stored_cards(app):
    """Cards stored before keep their old keys; the migration rebuilds those with a lü/nü name."""
    from app import create_app
    from app.config import _normalise_db_url
    from tenants.db import db
    from tenants.services import create_tenant

    name = f"{svc.DB_NAME}_u"
    maintenance = svc.OWNER_URL.rsplit("/", 1)[0] + "/postgres"
    owner_url, app_url = (url.rsplit("/", 1)[0] + f"/{name}" for url in (svc.OWNER_URL, svc.APP_URL))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute("GRANT USAGE ON SCHEMA public TO careloop_app")
    keep = ("TESTING", "CARELOOP_ENV", "REDIS_URL", "RQ_NAMESPACE", "STORAGE_URL", "SECRET_KEY", "DATA_KEY")
    migrated = create_app({**{k: app.config[k] for k in keep}, "SQLALCHEMY_DATABASE_URI": _normalise_db_url(app_url),
                           "DATABASE_OWNER_URL": _normalise_db_url(owner_url)})
    try:
        with migrated.app_context():
            try:
                upgrade(revision=BEFORE)
                tenant_id = create_tenant("u" + svc.RUN_ID[:8].lower(), "迁移诊所").id
                with tenant_context(tenant_id):
                    lv, wang = (services.enrol(services.PatientData(name=who, sex="M", birth_date=date(1980, 1, 2),
                                                                    mobile=mobile), consent_version="t")
                                for who, mobile in (("吕明", "13900000001"), ("王五", "13900000002")))
                    db.session.commit()
                    lv_id, wang_id = lv.id, wang.id
                with psycopg.connect(owner_url, autocommit=True) as conn:  # the keys the old code wrote
                    conn.execute("ALTER TABLE patient_search_terms NO FORCE ROW LEVEL SECURITY")
                    conn.execute("DELETE FROM patient_search_terms WHERE term LIKE 'lu%%'")
                    conn.execute("ALTER TABLE patient_search_terms FORCE ROW LEVEL SECURITY")
                with tenant_context(tenant_id):
                    assert services.search("luming").patients == []
                    wang_terms = _terms(db, wang_id)
                db.session.remove()
                upgrade()  # as the owner, under FORCE ROW LEVEL SECURITY
                with tenant_context(tenant_id):
                    assert [p.id for p in services.search("luming").patients] == [lv_id]
                    assert [p.id for p in services.search("lvming").patients] == [lv_id]
                    assert _terms(db, wang_id) == wang_terms
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _terms(db, patient_id):
    from app.patients.models import PatientSearchTerm

    return set(db.session.scalars(sa.select(PatientSearchTerm.term).where(PatientSearchTerm.patient_id == patient_id)))
