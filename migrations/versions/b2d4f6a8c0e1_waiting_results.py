"""records: results of a filed report that wait for their code to be mapped or their unit to be known

Revision ID: b2d4f6a8c0e1
Revises: a1c3e5f7b9d2
Create Date: 2026-12-05 22:30:00

Runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'b2d4f6a8c0e1'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'waiting_results',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('report_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('sender', sa.String(length=120), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('unit', sa.String(length=30), nullable=False),
        sa.Column('reason', sa.String(length=12), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_waiting_results_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'report_id'], ['exam_reports.tenant_id', 'exam_reports.id'],
                                name=op.f('fk_waiting_results_tenant_id_report_id_exam_reports'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_waiting_results_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_waiting_results')),
        sa.UniqueConstraint('tenant_id', 'report_id', 'key', name=op.f('uq_waiting_results_tenant_id_report_id_key')),
    )
    op.create_index('ix_waiting_results_tenant_sender_code', 'waiting_results', ['tenant_id', 'sender', 'code'])
    rls.enable(op, 'waiting_results')
    rls.grant_app_role(op, 'waiting_results')


def downgrade():
    op.drop_index('ix_waiting_results_tenant_sender_code', table_name='waiting_results')
    op.drop_table('waiting_results')
