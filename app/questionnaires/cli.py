"""``flask --app wsgi questionnaires remind-intake``: run it every hour (cron);
each clinic reminds tomorrow's patients of their unfilled intake forms once its
own clock has passed ``--after`` (one reminder per order, however often it runs)."""
from flask.cli import AppGroup

from app.core.cli import after_option, echo_every_clinic, once_clinic_time
from app.questionnaires.intake import remind
from tenants.services import for_each_active_tenant

questionnaires_cli = AppGroup("questionnaires", help="Questionnaires and intake forms.")


@questionnaires_cli.command("remind-intake")
@after_option("10:00")
def remind_intake_command(after):
    """Remind patients booked for tomorrow whose package's intake form is not submitted."""
    echo_every_clinic(for_each_active_tenant(once_clinic_time(after, remind)))
