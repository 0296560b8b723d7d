"""``flask --app wsgi followups digest`` and ``followups remind``: run both daily in the morning (cron)."""
from flask.cli import AppGroup

from app.core.cli import echo_every_clinic
from app.followups.digest import send_all
from app.followups.notices import remind_all

followups_cli = AppGroup("followups", help="Follow-up plans and tasks.")


@followups_cli.command("digest")
def digest_command():
    """Send each person with follow-ups due today or overdue a digest (in-app and email)."""

    echo_every_clinic(send_all())


@followups_cli.command("remind")
def remind_command():
    """Remind patients of tomorrow's follow-up calls and visits (plans that ask for it)."""

    echo_every_clinic(remind_all())
