"""clinic profile: the clinic's address, phone and logo (clinic_profiles, one row per clinic, under row-level security); a follow-up plan's questions or script for the call

Revision ID: 9b4e2d6f8a1c
Revises: c2e4a6b8d0f1
Create Date: 2026-12-06 01:30:00

Runs on PostgreSQL and SQLite. A clinic without a row has recorded none of them.
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = '9b4e2d6f8a1c'
down_revision = 'c2e4a6b8d0f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'clinic_profiles',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('logo_key', sa.String(length=200), nullable=False),
        sa.Column('logo_mime', sa.String(length=20), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_clinic_profiles_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_clinic_profiles')),
    )
    rls.enable(op, 'clinic_profiles')
    rls.grant_app_role(op, 'clinic_profiles')
    with op.batch_alter_table('followup_plans') as batch:
        batch.add_column(sa.Column('script', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('followup_plans') as batch:
        batch.drop_column('script')
    op.drop_table('clinic_profiles')
