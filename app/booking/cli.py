"""``flask --app wsgi booking remind``: run it daily (cron) after the cut-off."""
from flask.cli import AppGroup

from app.booking.jobs import remind_all
from app.core.cli import echo_every_clinic

booking_cli = AppGroup("booking", help="Exam bookings.")


@booking_cli.command("remind")
def remind_command():
    """Send tomorrow's reminders (with the preparation instructions)."""

    echo_every_clinic(remind_all())
