"""``flask --app wsgi booking remind``: run it every hour (cron); each clinic
sends tomorrow's reminders once, after its own booking cut-off."""
from flask.cli import AppGroup

from app.booking.jobs import remind_tenant
from app.core.cli import after_option, echo_every_clinic, once_clinic_time
from tenants.context import require_tenant_id
from tenants.services import for_each_active_tenant

booking_cli = AppGroup("booking", help="Exam bookings.")
REMIND_LOCK = "booking remind"  # each clinic's reminders run under it (tenants.services.lock_clinic_work)


@booking_cli.command("remind")
@after_option("18:00")
def remind_command(after):
    """Send tomorrow's reminders (with the preparation instructions)."""
    echo_every_clinic(for_each_active_tenant(once_clinic_time(after, lambda: remind_tenant(require_tenant_id())),
                                             lock=REMIND_LOCK))
