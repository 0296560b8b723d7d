"""reports: printed health reports (one row per PDF printed for a patient's exam) and their release to the patient's portal; stage summaries (drafted, edited, signed, versioned); report batches; each clinic's report style

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

TABLES = ('report_batches', 'health_reports', 'stage_summaries', 'report_styles')


def upgrade():
    op.create_table(
        'report_batches',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('selection', sa.JSON(), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('output', sa.String(length=10), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('done_count', sa.Integer(), nullable=False),
        sa.Column('result_key', sa.String(length=300), nullable=False),
        sa.Column('result_name', sa.String(length=200), nullable=False),
        sa.Column('requested_by', sa.BigInteger(), nullable=True),
        sa.Column('run_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_report_batches_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_report_batches')),
    )
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
        sa.Column('batch_id', sa.BigInteger(), nullable=True),
        sa.Column('template_key', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_health_reports_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'batch_id'], ['report_batches.tenant_id', 'report_batches.id'],
                                name=op.f('fk_health_reports_tenant_id_batch_id_report_batches')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_health_reports_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_health_reports')),
    )
    with op.batch_alter_table('health_reports', schema=None) as batch_op:
        batch_op.create_index('ix_health_reports_tenant_patient', ['tenant_id', 'patient_id', 'exam_date'],
                              unique=False)
        batch_op.create_index('uq_health_reports_tenant_batch_patient', ['tenant_id', 'batch_id', 'patient_id'],
                              unique=True, postgresql_where=sa.text("batch_id IS NOT NULL"),
                              sqlite_where=sa.text("batch_id IS NOT NULL"))
    op.create_table(
        'stage_summaries',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('chain_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('period_kind', sa.String(length=12), nullable=False),
        sa.Column('plan_id', sa.BigInteger(), nullable=True),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('draft_text', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('signed_by', sa.BigInteger(), nullable=True),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_stage_summaries_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_stage_summaries_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_stage_summaries')),
        sa.UniqueConstraint('tenant_id', 'chain_id', 'version',
                            name=op.f('uq_stage_summaries_tenant_id_chain_id_version')),
    )
    with op.batch_alter_table('stage_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_stage_summaries_tenant_patient', ['tenant_id', 'patient_id', 'period_end'],
                              unique=False)
        batch_op.create_index('uq_stage_summaries_tenant_chain_draft', ['tenant_id', 'chain_id'], unique=True,
                              postgresql_where=sa.text("status = 'draft'"), sqlite_where=sa.text("status = 'draft'"))
    op.create_table(
        'report_styles',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('colour', sa.String(length=7), nullable=False),
        sa.Column('sections', sa.JSON(), nullable=False),
        sa.Column('sentences', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_report_styles_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_report_styles')),
    )
    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
