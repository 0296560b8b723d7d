"""clinic profile: the name the clinic shows (its own; the platform's registered name in tenants stays as it is)
and its logo's size in pixels (the top bar reserves the logo's box before it loads)

Revision ID: c3d5e7f9a1b2
Revises: e8b0c2d4f6a8
Create Date: 2026-12-07 09:00:00

Runs on PostgreSQL and SQLite. Empty: the clinic shows its registered name.
"""
from alembic import op
import sqlalchemy as sa

revision = 'c3d5e7f9a1b2'
down_revision = 'e8b0c2d4f6a8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clinic_profiles') as batch:
        batch.add_column(sa.Column('display_name', sa.String(length=120), nullable=False, server_default=''))
        batch.add_column(sa.Column('logo_width', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('logo_height', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('clinic_profiles') as batch:
        batch.drop_column('logo_height')
        batch.drop_column('logo_width')
        batch.drop_column('display_name')
