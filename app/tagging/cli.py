"""``flask --app wsgi tagging evaluate --tenant SLUG [--rule ID]`` and ``install-pack``."""
import time

import click
from flask.cli import AppGroup

from tenants.context import tenant_context
from tenants.db import db
from tenants.services import tenant_by_slug

tagging_cli = AppGroup("tagging", help="Tag rules and tags.")


def _tenant(slug: str):
    tenant = tenant_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"no clinic with slug {slug!r}")
    return tenant


@tagging_cli.command("evaluate")
@click.option("--tenant", "slug", required=True, help="The clinic's slug.")
@click.option("--rule", "rule_ids", type=int, multiple=True, help="Only this rule (repeatable).")
def evaluate_command(slug: str, rule_ids: tuple[int, ...]):
    """Re-evaluate tag rules over every patient of a clinic, in SQL."""
    from app.tagging import rules, services

    with tenant_context(_tenant(slug).id):
        for rule_id in rule_ids:
            if rules.get(rule_id) is None:
                raise click.ClickException(f"no tag rule {rule_id} in this clinic")
        started = time.perf_counter()
        runs = services.evaluate_rules(list(rule_ids) or None, commit=True)
        db.session.commit()
        names = {r.id: r.name for r in rules.list_rules()}
    for run in runs:
        click.echo(f"{run.rule_id} {names.get(run.rule_id, '')}: {run.matched} patients "
                   f"(+{run.added} −{run.removed})")
    click.echo(f"evaluated {len(runs)} rules in {time.perf_counter() - started:.1f} s")


@tagging_cli.command("install-pack")
@click.option("--tenant", "slug", required=True)
def install_command(slug: str):
    """Add the default rules a clinic is missing (they are then evaluated)."""
    from app.tagging import rules, services

    with tenant_context(_tenant(slug).id):
        added = rules.install_pack()
        db.session.commit()
        services.evaluate_rules(None, commit=True)
    click.echo(f"added {added} rules")
