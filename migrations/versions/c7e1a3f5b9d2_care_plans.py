"""interventions: care plans (intervention and TCM conditioning) and the patient's ticks of their actions

Revision ID: c7e1a3f5b9d2
Revises: a4c6e8f0b2d5
Create Date: 2026-12-06 08:40:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'c7e1a3f5b9d2'
down_revision = 'a4c6e8f0b2d5'
branch_labels = None
depends_on = None

PLANS, TICKS = 'care_plans', 'care_plan_adherence'


def upgrade():
    op.create_table(
        PLANS,
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('template_key', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('responsible_id', sa.BigInteger(), nullable=True),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('goals', sa.JSON(), nullable=False),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('basis', sa.JSON(), nullable=False),
        sa.Column('scheduled', sa.JSON(), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('outcome_note', sa.Text(), nullable=False),
        sa.Column('started_by', sa.BigInteger(), nullable=True),
        sa.Column('closed_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_plans_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_care_plans_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_plans')),
    )
    op.create_index('ix_care_plans_tenant_patient_status', PLANS, ['tenant_id', 'patient_id', 'status'],
                    unique=False)
    rls.enable(op, PLANS)
    rls.grant_app_role(op, PLANS)

    op.create_table(
        TICKS,
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('plan_id', sa.BigInteger(), nullable=False),
        sa.Column('action_key', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_care_plan_adherence_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'plan_id'], ['care_plans.tenant_id', 'care_plans.id'],
                                name=op.f('fk_care_plan_adherence_tenant_id_plan_id_care_plans'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_care_plan_adherence')),
        sa.UniqueConstraint('tenant_id', 'plan_id', 'action_key', 'day',
                            name=op.f('uq_care_plan_adherence_tenant_id_plan_id_action_key_day')),
    )
    rls.enable(op, TICKS)
    rls.grant_app_role(op, TICKS)


def downgrade():
    op.drop_table(TICKS)
    op.drop_table(PLANS)
