"""The indexes the dashboard's range queries need, declared on the tables
they serve (the capabilities own the tables; the dashboard is what reads
them by date). Each leads with tenant_id and carries the few columns its
aggregate reads, so PostgreSQL answers from the index alone where the
visibility map allows. Created by migration 9d1f3b5c7e2a."""
from sqlalchemy import Index

from app.booking import services as booking
from app.followups import services as followups
from app.notifications import services as notifications
from app.patients import services as patients
from app.records import services as records

Order, Patient, Observation, Notification = booking.Order, patients.Patient, records.Observation, \
    notifications.Notification
FollowupTask, FollowupRecord = followups.FollowupTask, followups.FollowupRecord
ABNORMAL_FLAGS = ("L", "H", "LL", "HH", "A")  # "N" is normal, "" not judged

INDEXES = (
    Index("ix_patients_tenant_created", Patient.tenant_id, Patient.created_at,
          postgresql_include=["archived_at"]),
    Index("ix_patients_tenant_open", Patient.tenant_id, postgresql_where=Patient.archived_at.is_(None)),  # active cards
    Index("ix_booking_orders_tenant_paid", Order.tenant_id, Order.paid_at,
          postgresql_where=Order.paid_at.is_not(None),
          postgresql_include=["package_id", "package_name", "status", "price_fen"]),
    Index("ix_followup_tasks_tenant_due", FollowupTask.tenant_id, FollowupTask.due_date,
          postgresql_include=["assignee_id", "status"]),
    Index("ix_followup_records_tenant_created", FollowupRecord.tenant_id, FollowupRecord.created_at,
          postgresql_include=["staff_id", "result"]),
    # the abnormal-rate figure: the abnormal results by date pick the ten indicators, then only their results
    # are counted, each a range of the second index (created by migration a4c6e8f0b2d5)
    Index("ix_observations_tenant_abnormal_observed", Observation.tenant_id, Observation.observed_at,
          postgresql_where=Observation.superseded_by.is_(None) & Observation.flag.in_(ABNORMAL_FLAGS),
          postgresql_include=["indicator_id"]),
    Index("ix_observations_tenant_indicator_observed", Observation.tenant_id, Observation.indicator_id,
          Observation.observed_at, postgresql_where=Observation.superseded_by.is_(None)),
    Index("ix_notifications_tenant_created", Notification.tenant_id, Notification.created_at,
          postgresql_include=["channel", "status"]),
)
