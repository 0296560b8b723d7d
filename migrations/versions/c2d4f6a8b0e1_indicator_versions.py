"""records: indicators carry a kind and the fingerprint of the pack entry they were set from; admins' saves of an indicator's limits are kept as versions

Revision ID: c2d4f6a8b0e1
Revises: b2d4f6a8c0e1
Create Date: 2026-12-05 22:30:00

Runs on PostgreSQL and SQLite. Existing rows become numeric with no
fingerprint: the next catalogue update (``flask records catalogue-update``)
brings the new pack's names, ranges and limits to the pack indicators a
clinic has not edited (before this revision no page could edit them).
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'c2d4f6a8b0e1'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('indicators') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=10), nullable=False, server_default='numeric'))
        batch.add_column(sa.Column('pack_fingerprint', sa.String(length=64), nullable=False, server_default=''))
    op.create_table(
        'indicator_versions',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('indicator_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('ranges', sa.JSON(), nullable=False),
        sa.Column('critical', sa.JSON(), nullable=False),
        sa.Column('plausible', sa.JSON(), nullable=False),
        sa.Column('source_note', sa.Text(), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id', 'indicator_id'], ['indicators.tenant_id', 'indicators.id'],
                                name=op.f('fk_indicator_versions_tenant_id_indicator_id_indicators'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_indicator_versions_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_indicator_versions')),
        sa.UniqueConstraint('tenant_id', 'indicator_id', 'version',
                            name=op.f('uq_indicator_versions_tenant_id_indicator_id_version')),
    )
    rls.enable(op, 'indicator_versions')
    rls.grant_app_role(op, 'indicator_versions')


def downgrade():
    op.drop_table('indicator_versions')
    with op.batch_alter_table('indicators') as batch:
        batch.drop_column('pack_fingerprint')
        batch.drop_column('kind')
