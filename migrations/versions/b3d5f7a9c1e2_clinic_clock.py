"""clinic clock: each clinic's time zone in its own row (clinic_clocks, under row-level security); booking and notification settings lose their own; SQLite keeps times with their UTC offset

Revision ID: b3d5f7a9c1e2
Revises: a7c3e5f9b2d1
Create Date: 2026-12-05 04:00:00

Runs on PostgreSQL and SQLite. The settings' own time zones were never
editable (every clinic had Asia/Shanghai), so nothing is copied: a clinic
without a clinic_clocks row runs on Asia/Shanghai.
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'b3d5f7a9c1e2'
down_revision = 'a7c3e5f9b2d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'clinic_clocks',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_clinic_clocks_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_clinic_clocks')),
    )
    rls.enable(op, 'clinic_clocks')
    rls.grant_app_role(op, 'clinic_clocks')
    for table in ('booking_settings', 'notification_settings'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('timezone')
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':  # stored text gains the offset it always meant
        inspector = sa.inspect(bind)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if isinstance(column['type'], sa.DateTime):
                    name = column['name']
                    op.execute(f'UPDATE "{table}" SET "{name}" = "{name}" || \'+00:00\' '
                               f'WHERE "{name}" IS NOT NULL AND "{name}" NOT LIKE \'%+00:00\'')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        inspector = sa.inspect(bind)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if isinstance(column['type'], sa.DateTime):
                    name = column['name']
                    op.execute(f'UPDATE "{table}" SET "{name}" = substr("{name}", 1, length("{name}") - 6) '
                               f'WHERE "{name}" LIKE \'%+00:00\'')
    for table in ('booking_settings', 'notification_settings'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('timezone', sa.String(length=40), nullable=False,
                                       server_default='Asia/Shanghai'))
    op.drop_table('clinic_clocks')
