"""portal: accounts lose their session nonce (portal sessions are server-side rows now)

Revision ID: f7b9d1e3a5c6
Revises: cea644e9580e
Create Date: 2026-12-05 09:00:00

Runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

revision = 'f7b9d1e3a5c6'
down_revision = 'cea644e9580e'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column('portal_accounts', 'session_nonce')


def downgrade():
    op.add_column('portal_accounts', sa.Column('session_nonce', sa.String(length=32), nullable=False,
                                               server_default=''))
