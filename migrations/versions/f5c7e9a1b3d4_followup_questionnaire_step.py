"""follow-ups: a plan step can send a questionnaire (plans name it; tasks keep when its link went out)

Revision ID: f5c7e9a1b3d4
Revises: e4b6d8f0a2c3
Create Date: 2026-12-06 02:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'f5c7e9a1b3d4'
down_revision = 'e4b6d8f0a2c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('followup_plans') as batch:
        batch.add_column(sa.Column('questionnaire_key', sa.String(length=40), nullable=False, server_default=''))
    with op.batch_alter_table('followup_tasks') as batch:
        batch.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('followup_tasks') as batch:
        batch.drop_column('sent_at')
    with op.batch_alter_table('followup_plans') as batch:
        batch.drop_column('questionnaire_key')
