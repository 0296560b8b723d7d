"""``flask --app wsgi notifications sweep``."""
import click
from flask.cli import AppGroup

from app.notifications.jobs import sweep

notifications_cli = AppGroup("notifications", help="The notification outbox.")


@notifications_cli.command("sweep")
def sweep_command():
    """Re-queue due messages and recover sends whose worker died."""

    totals = sweep(reschedule=False)
    click.echo(", ".join(f"{key} {value}" for key, value in totals.items()))
