"""reports: printed health reports (one row per PDF printed for a patient's exam) and their release to the patient's portal

Revision ID: f3d6a111be80
Revises: d8e2f4a6c1b3
Create Date: 2026-12-06 17:00:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'f3d6a111be80'
down_revision = 'd8e2f4a6c1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'health_reports',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('exam_date', sa.Date(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('storage_key', sa.String(length=300), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('printed_by', sa.BigInteger(), nullable=True),
        sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('released_by', sa.BigInteger(), nullable=True),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_health_reports_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_health_reports_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_health_reports')),
    )
    with op.batch_alter_table('health_reports', schema=None) as batch_op:
        batch_op.create_index('ix_health_reports_tenant_patient', ['tenant_id', 'patient_id', 'exam_date'],
                              unique=False)
    rls.enable(op, 'health_reports')
    rls.grant_app_role(op, 'health_reports')


def downgrade():
    op.drop_table('health_reports')
