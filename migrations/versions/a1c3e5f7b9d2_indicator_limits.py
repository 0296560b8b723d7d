"""records: indicators carry critical limits and plausible limits

Revision ID: a1c3e5f7b9d2
Revises: f7b9d1e3a5c6
Create Date: 2026-12-05 22:00:00

Runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

revision = 'a1c3e5f7b9d2'
down_revision = 'f7b9d1e3a5c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('indicators') as batch:
        batch.add_column(sa.Column('critical', sa.JSON(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('plausible', sa.JSON(), nullable=False, server_default='{}'))


def downgrade():
    with op.batch_alter_table('indicators') as batch:
        batch.drop_column('plausible')
        batch.drop_column('critical')
