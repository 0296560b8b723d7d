"""follow-ups: plans remind the patient the day before a call or visit; tasks indexed by enrolment

Revision ID: a7c3e5f9b2d1
Revises: f1a2b3c4d5e6
Create Date: 2026-11-30 06:00:00

Runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

revision = 'a7c3e5f9b2d1'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('followup_plans') as batch:
        batch.add_column(sa.Column('remind_patient', sa.Boolean(), nullable=False, server_default=sa.false()))
    # cancelling a plan's pending tasks finds them by enrolment
    op.create_index('ix_followup_tasks_tenant_enrolment', 'followup_tasks', ['tenant_id', 'enrolment_id'])


def downgrade():
    op.drop_index('ix_followup_tasks_tenant_enrolment', table_name='followup_tasks')
    with op.batch_alter_table('followup_plans') as batch:
        batch.drop_column('remind_patient')
