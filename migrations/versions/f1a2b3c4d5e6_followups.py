"""follow-ups: plans, enrolments, tasks (with a version counter), records, call recordings

Revision ID: f1a2b3c4d5e6
Revises: d4b7e1a9c2f6
Create Date: 2026-12-02 09:00:00

Written by hand (from the models); runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'f1a2b3c4d5e6'
down_revision = 'd4b7e1a9c2f6'
branch_labels = None
depends_on = None

TABLES = ("followup_plans", "followup_enrolments", "followup_tasks", "followup_records", "followup_recordings")
TZ = sa.DateTime(timezone=True)


def _keys(table, *links):
    """tenant FK, (tenant_id, id) PK and composite FKs to other tenant tables."""
    items = [sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants')),
             sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{table}'))]
    for column, target, ondelete in links:
        items.append(sa.ForeignKeyConstraint(['tenant_id', column], [f'{target}.tenant_id', f'{target}.id'],
                                             name=op.f(f'fk_{table}_tenant_id_{column}_{target}'), ondelete=ondelete))
    return items


def _ids():
    return [sa.Column('tenant_id', sa.BigInteger(), nullable=False), sa.Column('id', sa.BigInteger(), nullable=False)]


def upgrade():
    op.create_table('followup_plans', *_ids(),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('trigger', sa.String(20), nullable=False),
        sa.Column('trigger_tag', sa.String(40), nullable=False),
        sa.Column('schedule', sa.String(10), nullable=False),
        sa.Column('interval_days', sa.Integer(), nullable=True),
        sa.Column('duration_months', sa.Integer(), nullable=True),
        sa.Column('offsets', sa.JSON(), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('pack_key', sa.String(40), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('updated_at', TZ, nullable=False),
        *_keys('followup_plans'),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_followup_plans_tenant_id_name')))
    op.create_index('ix_followup_plans_tenant_trigger', 'followup_plans', ['tenant_id', 'trigger', 'active'])

    op.create_table('followup_enrolments', *_ids(),
        sa.Column('plan_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('started_by', sa.String(200), nullable=False),
        sa.Column('reason', sa.String(200), nullable=False),
        sa.Column('started_at', TZ, nullable=False),
        sa.Column('ended_at', TZ, nullable=True),
        *_keys('followup_enrolments', ('plan_id', 'followup_plans', 'CASCADE'), ('patient_id', 'patients', 'CASCADE')))
    op.create_index('uq_followup_enrolments_active', 'followup_enrolments', ['tenant_id', 'plan_id', 'patient_id'],
                    unique=True, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
    op.create_index('ix_followup_enrolments_tenant_patient', 'followup_enrolments', ['tenant_id', 'patient_id'])

    op.create_table('followup_tasks', *_ids(),
        sa.Column('enrolment_id', sa.BigInteger(), nullable=True),
        sa.Column('plan_id', sa.BigInteger(), nullable=True),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('assignee_id', sa.BigInteger(), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('failed_attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('escalated_to', sa.BigInteger(), nullable=True),
        sa.Column('escalated_at', TZ, nullable=True),
        sa.Column('cancel_reason', sa.String(200), nullable=False),
        sa.Column('completed_at', TZ, nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        *_keys('followup_tasks', ('patient_id', 'patients', 'CASCADE'),
               ('enrolment_id', 'followup_enrolments', 'CASCADE')))
    op.create_index('ix_followup_tasks_tenant_assignee', 'followup_tasks', ['tenant_id', 'assignee_id', 'status', 'due_date'])
    op.create_index('ix_followup_tasks_tenant_patient', 'followup_tasks', ['tenant_id', 'patient_id', 'due_date'])
    op.create_index('ix_followup_tasks_tenant_status_due', 'followup_tasks', ['tenant_id', 'status', 'due_date'])

    op.create_table('followup_records', *_ids(),
        sa.Column('task_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('staff_id', sa.BigInteger(), nullable=True),
        sa.Column('result', sa.String(15), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('measures', sa.JSON(), nullable=False),
        sa.Column('next_date', sa.Date(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        *_keys('followup_records', ('task_id', 'followup_tasks', 'CASCADE'), ('patient_id', 'patients', 'CASCADE')))
    op.create_index('ix_followup_records_tenant_task', 'followup_records', ['tenant_id', 'task_id'])

    op.create_table('followup_recordings', *_ids(),
        sa.Column('record_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('original_key', sa.String(200), nullable=False),
        sa.Column('original_format', sa.String(8), nullable=False),
        sa.Column('play_key', sa.String(200), nullable=True),
        sa.Column('play_mime', sa.String(40), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('duration_seconds', sa.Float(), nullable=True),
        sa.Column('filename', sa.String(200), nullable=False),
        sa.Column('uploaded_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        *_keys('followup_recordings', ('record_id', 'followup_records', 'CASCADE'),
               ('patient_id', 'patients', 'CASCADE')))
    op.create_index('ix_followup_recordings_tenant_record', 'followup_recordings', ['tenant_id', 'record_id'])

    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
