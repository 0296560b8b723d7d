"""dashboard: indexes for counting by date (cards opened, orders paid, tasks due, contacts recorded, results observed, messages created), each leading with tenant_id

Revision ID: 9d1f3b5c7e2a
Revises: 9b4e2d6f8a1c
Create Date: 2026-12-06 02:00:00

Runs on PostgreSQL and SQLite (where INCLUDE and the partial conditions are
left out).
"""
from alembic import op
import sqlalchemy as sa

revision = '9d1f3b5c7e2a'
down_revision = '9b4e2d6f8a1c'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_patients_tenant_created', 'patients', ['tenant_id', 'created_at'], {'postgresql_include': ['archived_at']}),
    ('ix_booking_orders_tenant_paid', 'booking_orders', ['tenant_id', 'paid_at'],
     {'postgresql_where': sa.text('paid_at IS NOT NULL'),
      'postgresql_include': ['package_id', 'package_name', 'status', 'price_fen']}),
    ('ix_followup_tasks_tenant_due', 'followup_tasks', ['tenant_id', 'due_date'],
     {'postgresql_include': ['assignee_id', 'status']}),
    ('ix_followup_records_tenant_created', 'followup_records', ['tenant_id', 'created_at'],
     {'postgresql_include': ['staff_id', 'result']}),
    ('ix_observations_tenant_observed', 'observations', ['tenant_id', 'observed_at'],
     {'postgresql_where': sa.text('superseded_by IS NULL'), 'postgresql_include': ['indicator_id', 'flag']}),
    ('ix_notifications_tenant_created', 'notifications', ['tenant_id', 'created_at'],
     {'postgresql_include': ['channel', 'status']}),
)


def upgrade():
    for name, table, columns, options in INDEXES:
        op.create_index(name, table, columns, **options)


def downgrade():
    for name, table, _columns, _options in reversed(INDEXES):
        op.drop_index(name, table_name=table)
