"""audit: an exam report keeps the API token that sent it

Revision ID: d5f7b9c1e3a4
Revises: 5e7a1c3b9d20
Create Date: 2026-12-05 07:00:00

Runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

revision = 'd5f7b9c1e3a4'
down_revision = '5e7a1c3b9d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exam_reports') as batch:
        batch.add_column(sa.Column('api_token_id', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('exam_reports') as batch:
        batch.drop_column('api_token_id')
