"""risk: stored assessments of patients, with inputs and their provenance

Revision ID: a7c9e1b3d5f7
Revises: c3d5e7f9a1b2
Create Date: 2026-12-06 05:40:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'a7c9e1b3d5f7'
down_revision = 'c3d5e7f9a1b2'
branch_labels = None
depends_on = None

TABLE = 'risk_assessments'


def upgrade():
    op.create_table(
        TABLE,
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('model', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('value_text', sa.String(length=40), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('band', sa.String(length=30), nullable=True),
        sa.Column('inputs', sa.JSON(), nullable=False),
        sa.Column('missing', sa.JSON(), nullable=False),
        sa.Column('contributions', sa.JSON(), nullable=False),
        sa.Column('what_if', sa.JSON(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('is_current', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_risk_assessments_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_risk_assessments_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_risk_assessments')),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index('ix_risk_assessments_tenant_patient_model',
                              ['tenant_id', 'patient_id', 'model', 'computed_at'], unique=False)
        batch_op.create_index('uq_risk_assessments_tenant_patient_model_current', ['tenant_id', 'patient_id', 'model'],
                              unique=True, postgresql_where=sa.text('is_current'), sqlite_where=sa.text('is_current'))
        batch_op.create_index('ix_risk_assessments_tenant_model_band', ['tenant_id', 'model', 'band'], unique=False)
    rls.enable(op, TABLE)
    rls.grant_app_role(op, TABLE)


def downgrade():
    op.drop_table(TABLE)
