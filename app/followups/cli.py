"""``flask --app wsgi followups digest`` and ``followups remind``: run both daily in the morning (cron)."""
import click
from flask.cli import AppGroup

followups_cli = AppGroup("followups", help="Follow-up plans and tasks.")


@followups_cli.command("digest")
def digest_command():
    """Send each person with follow-ups due today or overdue a digest (in-app and email)."""
    from app.followups.digest import send_all

    totals = send_all()
    click.echo(", ".join(f"{slug} {count}" for slug, count in totals.items()) or "no clinics")


@followups_cli.command("remind")
def remind_command():
    """Remind patients of tomorrow's follow-up calls and visits (plans that ask for it)."""
    from app.followups.notices import remind_all

    totals = remind_all()
    click.echo(", ".join(f"{slug} {count}" for slug, count in totals.items()) or "no clinics")
