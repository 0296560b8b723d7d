"""interventions: the advice library (items and their versions) and patients' advice sheets

Revision ID: 4e6a8c0b2d71
Revises: c7e1a3f5b9d2
Create Date: 2026-12-06 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = '4e6a8c0b2d71'
down_revision = 'c7e1a3f5b9d2'
branch_labels = None
depends_on = None

TABLES = ('advice_items', 'advice_item_versions', 'advice_sheets')


def upgrade():
    op.create_table(
        'advice_items',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('current_version', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('pack_key', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_advice_items_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_advice_items')),
        sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_advice_items_tenant_id_key')),
    )
    op.create_table(
        'advice_item_versions',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('item_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('title_zh', sa.String(length=120), nullable=False),
        sa.Column('title_en', sa.String(length=120), nullable=False),
        sa.Column('body_zh', sa.Text(), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('conditions', sa.JSON(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('saved_by', sa.BigInteger(), nullable=True),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_advice_item_versions_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'item_id'], ['advice_items.tenant_id', 'advice_items.id'],
                                name=op.f('fk_advice_item_versions_tenant_id_item_id_advice_items'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_advice_item_versions')),
        sa.UniqueConstraint('tenant_id', 'item_id', 'version', name=op.f('uq_advice_item_versions_tenant_id_item_id_version')),
    )
    op.create_table(
        'advice_sheets',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('entries', sa.JSON(), nullable=False),
        sa.Column('numbers', sa.JSON(), nullable=False),
        sa.Column('composed_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('released_by', sa.BigInteger(), nullable=True),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_advice_sheets_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_advice_sheets_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_advice_sheets')),
    )
    with op.batch_alter_table('advice_sheets', schema=None) as batch_op:
        batch_op.create_index('ix_advice_sheets_tenant_patient', ['tenant_id', 'patient_id', 'created_at'],
                              unique=False)
        batch_op.create_index('uq_advice_sheets_tenant_patient_draft', ['tenant_id', 'patient_id'], unique=True,
                              postgresql_where=sa.text("status = 'draft'"), sqlite_where=sa.text("status = 'draft'"))
    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
