"""``flask --app wsgi booking remind``: run it daily (cron) after the cut-off."""
import click
from flask.cli import AppGroup

booking_cli = AppGroup("booking", help="Exam bookings.")


@booking_cli.command("remind")
def remind_command():
    """Send tomorrow's reminders (with the preparation instructions)."""
    from app.booking.jobs import remind_all

    totals = remind_all()
    click.echo(", ".join(f"{slug} {count}" for slug, count in totals.items()) or "no clinics")
