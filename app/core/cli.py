"""What every capability's commands share: ``--tenant SLUG`` and the
output of the daily commands that run in every clinic (cron reads the exit
code)."""
from collections.abc import Callable
from datetime import time

import click

from app.core import clock
from tenants.models import Tenant
from tenants.services import tenant_by_slug


def tenant_option(*, required: bool = True):
    """``--tenant SLUG``: the command's clinic (the value arrives as ``slug``)."""
    return click.option("--tenant", "slug", required=required, help="The clinic's slug.")


def _clock_time(_ctx, _param, value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("a clinic clock time like 07:00") from exc


def after_option(default: str):
    """``--after HH:MM``: act in a clinic only once its own clock has passed
    this time. Run such a command every hour and each clinic gets it in its
    own morning (the work is idempotent per clinic day)."""
    return click.option("--after", "after", default=default, show_default=True, callback=_clock_time,
                        help="Act in a clinic once its local time has passed this (HH:MM).")


def once_clinic_time(after: time, work: Callable[[], object]) -> Callable[[], object]:
    """``work`` for one clinic, or "not yet" while the clinic's clock is before ``after``."""
    def run():
        return work() if clock.now().time() >= after else "not yet"
    return run


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
