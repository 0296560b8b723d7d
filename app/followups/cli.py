"""``flask --app wsgi followups digest`` and ``followups remind``: run both
every hour (cron); each clinic gets them once a day, in its own morning."""
from flask.cli import AppGroup

from app.core.cli import after_option, echo_every_clinic, once_clinic_time
from app.followups.digest import send_tenant
from app.followups.notices import remind_patients
from tenants.services import for_each_active_tenant

followups_cli = AppGroup("followups", help="Follow-up plans and tasks.")


@followups_cli.command("digest")
@after_option("07:00")
def digest_command(after):
    """Send each person with follow-ups due today or overdue a digest (in-app and email)."""
    echo_every_clinic(for_each_active_tenant(once_clinic_time(after, send_tenant), lock="followups digest"))


@followups_cli.command("remind")
@after_option("09:00")
def remind_command(after):
    """Remind patients of tomorrow's follow-up calls and visits (plans that ask for it)."""
    echo_every_clinic(for_each_active_tenant(once_clinic_time(after, remind_patients), lock="followups remind"))

