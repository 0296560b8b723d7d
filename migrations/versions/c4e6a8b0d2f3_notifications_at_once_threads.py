"""notifications: 'urgent' becomes 'at_once' (also what a patient has just done); messages of a thread supersede the thread's unsent ones

Revision ID: c4e6a8b0d2f3
Revises: b3d5f7a9c1e2
Create Date: 2026-12-05 05:00:00

Runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4e6a8b0d2f3'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('urgent', new_column_name='at_once')
        batch.add_column(sa.Column('thread_key', sa.String(length=120), nullable=False, server_default=''))
    op.create_index('ix_notifications_tenant_thread', 'notifications', ['tenant_id', 'thread_key'],
                    postgresql_where=sa.text("thread_key <> ''"))


def downgrade():
    op.drop_index('ix_notifications_tenant_thread', table_name='notifications')
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('thread_key')
        batch.alter_column('at_once', new_column_name='urgent')
