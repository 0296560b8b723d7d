"""questionnaire satisfaction: automatic survey settings, the once-per-N-days gate, service-recovery cases

Revision ID: e4b6d8f0a2c3
Revises: d3f5a7c9e1b2
Create Date: 2026-12-06 02:00:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'e4b6d8f0a2c3'
down_revision = 'd3f5a7c9e1b2'
branch_labels = None
depends_on = None

TABLES = ('questionnaire_survey_settings', 'questionnaire_survey_gates', 'questionnaire_recovery_cases')


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'))


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint(['tenant_id', column], [f'{target}.tenant_id', f'{target}.id'],
                                   name=op.f(f'fk_{table}_tenant_id_{column}_{target}'), ondelete=ondelete)


def upgrade():
    op.create_table(
        'questionnaire_survey_settings',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('questionnaire_key', sa.String(length=40), nullable=False),
        sa.Column('after_exam', sa.Boolean(), nullable=False),
        sa.Column('after_followup', sa.Boolean(), nullable=False),
        sa.Column('delay_hours', sa.Integer(), nullable=False),
        sa.Column('every_days', sa.Integer(), nullable=False),
        sa.Column('low_item', sa.String(length=40), nullable=False),
        sa.Column('low_below', sa.Float(), nullable=True),
        sa.Column('updated_by', sa.BigInteger(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _tenant_fk('questionnaire_survey_settings'),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_questionnaire_survey_settings')),
    )
    op.create_table(
        'questionnaire_survey_gates',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        _tenant_fk('questionnaire_survey_gates'),
        _fk('questionnaire_survey_gates', 'patient_id', 'patients', 'CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'patient_id', name=op.f('pk_questionnaire_survey_gates')),
    )
    op.create_table(
        'questionnaire_recovery_cases',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('response_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('recommend', sa.Float(), nullable=True),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('item_value', sa.Float(), nullable=True),
        sa.Column('comment', sa.LargeBinary(), nullable=True),
        sa.Column('order_id', sa.BigInteger(), nullable=True),
        sa.Column('task_id', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('resolution', sa.LargeBinary(), nullable=True),
        sa.Column('closed_by', sa.BigInteger(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _tenant_fk('questionnaire_recovery_cases'),
        _fk('questionnaire_recovery_cases', 'response_id', 'questionnaire_responses', 'CASCADE'),
        _fk('questionnaire_recovery_cases', 'patient_id', 'patients', 'CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_questionnaire_recovery_cases')),
        sa.UniqueConstraint('tenant_id', 'response_id',
                            name=op.f('uq_questionnaire_recovery_cases_tenant_id_response_id')),
    )
    op.create_index('ix_questionnaire_recovery_cases_tenant_status', 'questionnaire_recovery_cases',
                    ['tenant_id', 'status', 'created_at'])
    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
