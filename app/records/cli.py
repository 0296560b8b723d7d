"""``flask --app wsgi records import FILE --tenant SLUG`` and catalogue set-up."""
from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.cli import echo_every_clinic, tenant_from, tenant_option
from app.records import alerts, importer, releases
from app.records.catalogue import sync_pack
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import for_each_active_tenant

records_cli = AppGroup("records", help="Exam reports and the indicator catalogue.")



@records_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@tenant_option()
def import_command(path: Path, slug: str):
    """Import an HL7 v2, FHIR JSON, CSV or XLSX file."""

    tenant = tenant_from(slug)
    with tenant_context(tenant.id):
        summary = importer.import_file(path.read_bytes(), path.name, commit_every=200)
        db.session.commit()
    click.echo(f"imported {summary.imported} reports, {summary.results} results; {summary.duplicates} duplicates; "
               f"{summary.unmatched} unmatched; {len(summary.errors)} errors")
    for error in summary.errors:
        click.echo(f"  {error}", err=True)
    if summary.errors and not (summary.imported or summary.unmatched or summary.duplicates):
        raise SystemExit(1)


@records_cli.command("install-catalogue")
@tenant_option()
def install_command(slug: str):
    """Add the default indicators a clinic is missing (and update the ones it has not edited)."""

    with tenant_context(tenant_from(slug).id):
        click.echo(_describe(_sync()))


@records_cli.command("catalogue-update")
@tenant_option(required=False)
@click.option("--all", "every", is_flag=True, help="Every active clinic (after an upgrade).")
def update_command(slug: str | None, every: bool):
    """Bring the indicator pack to a clinic: new indicators are added, pack indicators the clinic has not
    edited get the pack's names, ranges and limits, edited ones keep the clinic's values."""

    if bool(slug) == every:
        raise click.UsageError("give --tenant SLUG or --all")
    if slug:
        with tenant_context(tenant_from(slug).id):
            click.echo(_describe(_sync()))
    else:
        echo_every_clinic(for_each_active_tenant(_sync, lock="records catalogue-update"),
                          lambda slug, outcome: f"{slug}: {_describe(outcome)}")


def _sync():
    outcome = sync_pack()
    db.session.commit()
    return outcome


def _describe(outcome) -> str:
    kept = f" ({', '.join(outcome.kept)})" if outcome.kept else ""
    return f"added {outcome.added} indicators, updated {outcome.updated}, kept {len(outcome.kept)} edited{kept}"


@records_cli.command("release-due")
def release_due_command():
    """Release the exam days whose results are all normal once the clinic's hours have passed (run hourly
    from cron; clinics that release by hand are left alone)."""
    echo_every_clinic(for_each_active_tenant(releases.release_due, lock="records release-due"),
                      lambda slug, count: f"{slug}: released {count} exam days")


@records_cli.command("escalate-critical")
def escalate_critical_command():
    """Escalate critical values not acknowledged in time (run every few minutes from cron)."""
    echo_every_clinic(for_each_active_tenant(alerts.escalate_due, lock="records escalate-critical"))

