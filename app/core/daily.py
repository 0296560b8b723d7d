"""Output of the daily commands that run in every clinic (cron reads the exit code)."""
import click


def echo_every_clinic(run, describe=lambda slug, result: f"{slug} {result}") -> None:
    """Print what each clinic got; exit non-zero naming the clinics that failed."""
    click.echo(", ".join(describe(slug, result) for slug, result in run.done.items()) or "no clinics")
    if run.failed:
        raise click.ClickException("failed in " + "; ".join(f"{slug}: {why}" for slug, why in run.failed.items()))
