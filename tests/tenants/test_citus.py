"""Ready for Citus: every clinic table can be distributed by tenant_id and co-located with the others."""
import re

import pytest
import sqlalchemy as sa

from tenants import citus

pytestmark = pytest.mark.postgres


@pytest.fixture
def owner(app):
    engine = sa.create_engine(app.config["DATABASE_OWNER_URL"])
    with engine.connect() as connection:
        yield connection
        connection.rollback()
    engine.dispose()


def test_every_clinic_table_keys_and_references_by_tenant_id(owner):
    assert citus.problems(owner) == []
    schema = citus.tables(owner)
    clinic = citus.distributed_tables(schema)
    assert len(clinic) > 60 and "patients" in clinic and "observations" in clinic
    assert all("tenant_id" in schema[t] for t in clinic)


def test_a_key_without_tenant_id_is_named(owner):
    owner.execute(sa.text("CREATE TABLE citus_probe (tenant_id bigint, id bigint, patient_id bigint, code text, "
                          "PRIMARY KEY (id), UNIQUE (code))"))
    owner.execute(sa.text("CREATE UNIQUE INDEX citus_probe_partial ON citus_probe (patient_id) WHERE code IS NULL"))
    owner.execute(sa.text("ALTER TABLE citus_probe ADD CONSTRAINT citus_probe_patient "
                          "FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)"))
    owner.execute(sa.text("CREATE TABLE citus_loose (id bigint PRIMARY KEY)"))
    found = citus.problems(owner)
    assert any(p.startswith("citus_probe.citus_probe_pkey: primary key (id) lacks tenant_id") for p in found), found
    assert any("citus_probe_code_key: unique constraint (code) lacks tenant_id" in p for p in found), found
    assert any("citus_probe_partial: unique index (patient_id) lacks tenant_id" in p for p in found), found
    assert not any("citus_probe_patient" in p for p in found), found  # carries tenant_id: fine
    assert any(p.startswith("citus_loose: no tenant_id column") for p in found), found

    owner.execute(sa.text("CREATE TABLE citus_child (tenant_id bigint, id bigint, probe_id bigint, "
                          "PRIMARY KEY (tenant_id, id))"))
    owner.execute(sa.text("ALTER TABLE citus_probe ADD UNIQUE (id)"))
    owner.execute(sa.text("ALTER TABLE citus_child ADD CONSTRAINT citus_child_probe "
                          "FOREIGN KEY (probe_id) REFERENCES citus_probe (id)"))
    assert any(p.startswith("citus_child.citus_child_probe: foreign key (probe_id) to citus_probe (id) does not "
                            "carry tenant_id") for p in citus.problems(owner))


def test_the_plan_makes_reference_tables_then_colocated_clinic_tables_after_what_they_refer_to(owner):
    statements = citus.plan(owner)
    reference = [re.search(r"create_reference_table\('(\w+)'\)", s).group(1) for s in statements
                 if "create_reference_table" in s]
    distributed = [re.search(r"create_distributed_table\('(\w+)', 'tenant_id'", s).group(1) for s in statements
                   if "create_distributed_table" in s]
    assert reference == ["tenants", "domains"]
    assert sorted(distributed) == citus.distributed_tables(citus.tables(owner))
    anchor = distributed[0]
    assert all(f"colocate_with => '{anchor}'" in s for s in statements if "create_distributed_table" in s
               and f"('{anchor}'," not in s)
    position = {t: i for i, t in enumerate(distributed)}
    for key in citus.keys(owner):
        if key.kind == "foreign key" and key.table in position and key.referenced_table in position \
                and key.table != key.referenced_table:
            assert position[key.referenced_table] < position[key.table], key


def test_flask_db_citus_plan_prints_the_statements(app):
    result = app.test_cli_runner().invoke(args=["db", "citus-plan"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("SELECT create_reference_table('tenants');")
    assert "SELECT create_distributed_table('patients', 'tenant_id'" in result.output
    assert lines[-1].startswith("-- alembic_version stays on the coordinator")


def test_the_statement_check_tells_a_co_located_join_from_one_that_is_not():
    from tests.colocation import problems

    clinic = {"patients", "observations"}
    matched = ("SELECT 1 FROM patients JOIN observations AS o ON o.tenant_id = patients.tenant_id "
               "AND o.patient_id = patients.id WHERE patients.tenant_id = %(t)s::BIGINT")
    filtered = ("SELECT 1 FROM patients JOIN observations ON observations.patient_id = patients.id "
                "AND observations.tenant_id = %(a)s::BIGINT WHERE patients.tenant_id = %(b)s::BIGINT")
    correlated = ("SELECT 1 FROM patients WHERE patients.tenant_id = %(t)s::BIGINT AND EXISTS (SELECT * "
                  "FROM observations WHERE observations.patient_id = patients.id)")
    copied = ("INSERT INTO observations (tenant_id, patient_id) SELECT patients.tenant_id, patients.id "
              "FROM patients WHERE patients.tenant_id = %(t)s::BIGINT")
    assert problems(matched, {"t": 1}, clinic) == []
    assert problems(filtered, {"a": 1, "b": 1}, clinic) == []
    assert problems(filtered, {"a": 1, "b": 2}, clinic)  # two clinics' rows in one join
    assert problems(correlated, {"t": 1}, clinic)  # the subquery is tied to no clinic
    assert problems(copied, {"t": 1}, clinic) == []  # an INSERT's target is written, not read
