"""The application's database role reads the platform tables (``tenants``,
``domains``: the host-to-clinic map, which has no row-level security) and
cannot write them; creating or suspending a clinic goes through the owner
role (DATABASE_OWNER_URL), from the command line."""
import secrets

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from tenants.db import db
from tenants.models import Domain, Tenant

pytestmark = pytest.mark.postgres

WRITES = {
    "insert a clinic": "INSERT INTO tenants (id, slug, name, card_prefix, active, created_at) "
                       "VALUES (4242, 'rogue', 'Rogue', 'RO', true, now())",
    "rename a clinic": "UPDATE tenants SET name = 'Taken over'",
    "suspend a clinic": "UPDATE tenants SET active = false",
    "delete a clinic": "DELETE FROM tenants WHERE slug = 'nosuch'",
    "point a host at a clinic": "INSERT INTO domains (host, tenant_id) "
                                "SELECT 'evil.example.org', id FROM tenants LIMIT 1",
    "move a host": "UPDATE domains SET tenant_id = tenant_id",
    "drop a host": "DELETE FROM domains WHERE host = 'nosuch.example.org'",
}


@pytest.mark.parametrize("what", sorted(WRITES))
def test_the_app_role_cannot_write_the_platform_tables(app, make_tenant, what):
    make_tenant()
    with app.app_context():
        assert db.session.execute(text("SELECT current_user")).scalar() == "careloop_app"
        with pytest.raises(ProgrammingError, match="permission denied"):
            db.session.execute(text(WRITES[what]))
        db.session.rollback()


def test_the_app_role_cannot_become_the_owner(app):
    with app.app_context():
        with pytest.raises(ProgrammingError, match="permission denied"):
            db.session.execute(text("SET ROLE careloop_owner"))
        db.session.rollback()


def test_the_app_role_still_reads_them(app, make_tenant, client_for):
    tenant = make_tenant("读得到的诊所")
    with app.app_context():
        assert db.session.scalar(select(Tenant.name).where(Tenant.id == tenant.id)) == "读得到的诊所"
        db.session.scalars(select(Domain)).all()
    assert "读得到的诊所" in client_for(tenant).get("/login").get_data(as_text=True)


def test_creating_a_clinic_goes_through_the_owner_role(app, client_for):
    slug = "own" + secrets.token_hex(4)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", slug, "--name", "命令行诊所", "--admin-email",
                                 f"owner@{slug}.test", "--admin-password", "correct-horse-battery",
                                 "--domain", f"{slug}.example.cn"])
    assert result.exit_code == 0, result.output
    client = client_for(host=f"{slug}.example.cn", email=f"owner@{slug}.test")
    assert client.get("/patients").status_code == 200


def test_suspending_a_clinic_goes_through_the_command_line(app, make_tenant, client_for):
    tenant = make_tenant()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "suspend", tenant.slug])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Tenant.active).where(Tenant.id == tenant.id)) is False
    result = runner.invoke(args=["tenants", "resume", tenant.slug])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Tenant.active).where(Tenant.id == tenant.id)) is True
    assert runner.invoke(args=["tenants", "suspend", "no-such-clinic"]).exit_code != 0
