"""``flask --app wsgi questionnaires send-plan-steps`` and ``remind-intake``:
run both every hour (cron). Each clinic sends the questionnaires of follow-up
plan steps due today, and reminds tomorrow's patients of their unfilled intake
forms (one reminder per order, however often it runs), once its own clock has
passed ``--after``."""
from flask.cli import AppGroup

from app.core.cli import after_option, echo_every_clinic, once_clinic_time
from app.questionnaires.intake import remind
from app.questionnaires.plan_steps import send_due
from tenants.services import for_each_active_tenant

questionnaires_cli = AppGroup("questionnaires", help="Questionnaires and intake forms.")


@questionnaires_cli.command("send-plan-steps")
@after_option("09:00")
def send_plan_steps_command(after):
    """Send the questionnaires of follow-up plan steps due today (or before, not sent yet)."""
    echo_every_clinic(for_each_active_tenant(once_clinic_time(after, send_due), lock="questionnaires send-plan-steps"))


@questionnaires_cli.command("remind-intake")
@after_option("10:00")
def remind_intake_command(after):
    """Remind patients booked for tomorrow whose package's intake form is not submitted."""
    echo_every_clinic(for_each_active_tenant(once_clinic_time(after, remind), lock="questionnaires remind-intake"))
