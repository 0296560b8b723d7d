"""What every capability's commands share: ``--tenant SLUG`` and the
output of the daily commands that run in every clinic (cron reads the exit
code)."""
import click

from tenants.models import Tenant
from tenants.services import tenant_by_slug


def tenant_option(*, required: bool = True):
    """``--tenant SLUG``: the command's clinic (the value arrives as ``slug``)."""
    return click.option("--tenant", "slug", required=required, help="The clinic's slug.")


def tenant_from(slug: str) -> Tenant:
    tenant = tenant_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"no clinic with slug {slug!r}")
    return tenant


def echo_every_clinic(run, describe=lambda slug, result: f"{slug} {result}") -> None:
    """Print what each clinic got; exit non-zero naming the clinics that failed."""
    click.echo(", ".join(describe(slug, result) for slug, result in run.done.items()) or "no clinics")
    if run.failed:
        raise click.ClickException("failed in " + "; ".join(f"{slug}: {why}" for slug, why in run.failed.items()))
