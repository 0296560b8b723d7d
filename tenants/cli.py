"""``flask --app wsgi tenants create|suspend|resume|list``: platform
changes, made as the database owner (DATABASE_OWNER_URL)."""
import click
from flask.cli import AppGroup

from tenants import citus
from tenants.db import db
from tenants.services import TenantError, create_tenant, list_tenants, set_active

tenants_cli = AppGroup("tenants", help="Create and list clinics (tenants).")


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The clinic's display name.")
@click.option("--admin-email", required=True, help="Sign-in of the clinic's owner account.")
@click.option("--admin-password", required=True, help="At least 10 characters.")
@click.option("--domain", "domains", multiple=True, help="A custom host name (repeatable).")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="The clinic's IANA time zone.")
def create_command(slug, name, admin_email, admin_password, domains, timezone):
    try:
        tenant = create_tenant(
            slug, name, domains=tuple(domains), timezone=timezone, admin_email=admin_email,
            admin_password=admin_password,
        )
    except (TenantError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {tenant.slug} ({tenant.name}), id {tenant.id}")


@tenants_cli.command("suspend")
@click.argument("slug")
def suspend_command(slug):
    """Take a clinic offline: its addresses answer 404 and its daily work stops."""
    try:
        tenant = set_active(slug, False)
    except TenantError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"suspended {tenant.slug}")


@tenants_cli.command("resume")
@click.argument("slug")
def resume_command(slug):
    """Bring a suspended clinic back."""
    try:
        tenant = set_active(slug, True)
    except TenantError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"resumed {tenant.slug}")


@tenants_cli.command("list")
def list_command():
    for tenant in list_tenants():
        hosts = ", ".join(d.host for d in tenant.domains)
        state = "" if tenant.active else " [inactive]"
        click.echo(f"{tenant.slug}\t{tenant.name}{state}\t{hosts}")


@click.command("citus-plan")
def citus_plan_command():
    """Print the Citus statements that distribute the current schema by clinic (reference tables first,
    then every clinic table by tenant_id, co-located); refuse while a key would stand in the way."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("the plan reads PostgreSQL's catalogs: set DATABASE_URL to PostgreSQL")
    with db.engine.connect() as connection:
        trouble = citus.problems(connection)
        statements = citus.plan(connection)
    if trouble:
        raise click.ClickException("not ready for distribution by tenant_id:\n  " + "\n  ".join(trouble))
    for statement in statements:
        click.echo(statement)
