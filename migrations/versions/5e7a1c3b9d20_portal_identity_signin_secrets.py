"""portal identity and sign-in codes: self-registered cards, merged cards, outbox secrets kept sealed until the send

Revision ID: 5e7a1c3b9d20
Revises: 6dd0f33376ec
Create Date: 2026-12-07 03:00:00

Runs on PostgreSQL and SQLite.

- patients.self_registered: a card opened by the patient online, whose
  identity the front desk has not yet checked; patients.merged_into_id: a
  card merged into another (kept, archived, for its history).
- notifications.secret_enc / secret_until: a message that carries a secret
  (a sign-in code) stores its body and parameters redacted; the real ones
  are sealed with the data key until the send and wiped after it.
- Sign-in code messages already stored lose their code: body and parameters
  are redacted in place (they cannot be sent again: their secret is gone).
  On PostgreSQL the outbox is under FORCE ROW LEVEL SECURITY, so this goes
  clinic by clinic with ``app.tenant_id`` set for the transaction.
"""
import json
import re

from alembic import op
import sqlalchemy as sa

revision = '5e7a1c3b9d20'
down_revision = '6dd0f33376ec'
branch_labels = None
depends_on = None

MASK = '******'


def _redact_stored_codes(bind) -> None:
    postgres = bind.dialect.name == 'postgresql'
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
        if postgres:
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        rows = bind.execute(sa.text(
            "SELECT id, subject, body_text, provider_params FROM notifications "
            "WHERE tenant_id = :t AND template_key = 'signin_code'"), {"t": tenant_id}).mappings().all()
        for row in rows:
            params = row['provider_params']
            params = json.loads(params) if isinstance(params, str) else dict(params or {})
            if 'code' in params:
                params['code'] = MASK
            bind.execute(sa.text(
                "UPDATE notifications SET subject = :subject, body_text = :body, provider_params = :params, "
                "status = CASE WHEN status IN ('pending', 'sending') THEN 'cancelled' ELSE status END "
                "WHERE tenant_id = :t AND id = :id"),
                {"t": tenant_id, "id": row['id'], "subject": re.sub(r"\d{4,8}", MASK, row['subject'] or ''),
                 "body": re.sub(r"\d{4,8}", MASK, row['body_text'] or ''), "params": json.dumps(params)})
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def upgrade():
    # plain ALTER TABLE ... ADD COLUMN on both databases: a batch copy of
    # patients would trip SQLite's foreign keys from the rows that point at it
    op.add_column('patients', sa.Column('self_registered', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('patients', sa.Column('merged_into_id', sa.BigInteger(), nullable=True))
    op.add_column('notifications', sa.Column('secret_enc', sa.LargeBinary(), nullable=True))
    op.add_column('notifications', sa.Column('secret_until', sa.DateTime(timezone=True), nullable=True))
    _redact_stored_codes(op.get_bind())


def downgrade():
    for table, column in (('notifications', 'secret_until'), ('notifications', 'secret_enc'),
                          ('patients', 'merged_into_id'), ('patients', 'self_registered')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')  # SQLite 3.35+ and PostgreSQL
