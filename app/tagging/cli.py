"""``flask --app wsgi tagging evaluate (--tenant SLUG [--rule ID] | --all)`` and ``install-pack``."""
import time

import click
from flask.cli import AppGroup

from app.core.cli import echo_every_clinic, tenant_from, tenant_option
from app.tagging import rules, services
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import for_each_active_tenant

tagging_cli = AppGroup("tagging", help="Tag rules and tags.")



@tagging_cli.command("evaluate")
@tenant_option(required=False)
@click.option("--all", "every", is_flag=True, help="Every active clinic (the daily run).")
@click.option("--rule", "rule_ids", type=int, multiple=True, help="Only this rule (repeatable).")
def evaluate_command(slug: str | None, every: bool, rule_ids: tuple[int, ...]):
    """Re-evaluate tag rules over every patient of a clinic, in SQL."""

    if bool(slug) == every:
        raise click.UsageError("give --tenant SLUG or --all")
    if every and rule_ids:
        raise click.UsageError("--rule needs --tenant: rule ids belong to one clinic")
    if slug:
        with tenant_context(tenant_from(slug).id):
            _evaluate(rule_ids)
    else:
        echo_every_clinic(for_each_active_tenant(lambda: _evaluate(()), lock="tagging evaluate"),
                          lambda slug, seconds: f"{slug}: {seconds:.1f} s")


def _evaluate(rule_ids: tuple[int, ...]) -> float:
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
    seconds = time.perf_counter() - started
    click.echo(f"evaluated {len(runs)} rules in {seconds:.1f} s")
    return seconds


@tagging_cli.command("install-pack")
@tenant_option()
def install_command(slug: str):
    """Add the default rules a clinic is missing (they are then evaluated)."""

    with tenant_context(tenant_from(slug).id):
        added = rules.install_pack()
        db.session.commit()
        services.evaluate_rules(None, commit=True)
    click.echo(f"added {added} rules")
