"""seal what identifies a person at rest: a card's email, address and emergency contact; an unmatched report's parsed content and the sender's hint of who it is

Revision ID: e6a8c0d2f4b5
Revises: d5f7b9c1e3a4
Create Date: 2026-12-05 08:00:00

Runs on PostgreSQL and SQLite. The values are sealed with the data key
(app/core/crypto.py, AES-GCM with the clinic as associated data), clinic by
clinic (on PostgreSQL the tables are under FORCE ROW LEVEL SECURITY: each
clinic's rows are seen with app.tenant_id set for the transaction). An empty
text becomes NULL. Needs the deployment's DATA_KEY, like the app.
"""
import json

from alembic import op
import sqlalchemy as sa

from app.core import crypto

revision = 'e6a8c0d2f4b5'
down_revision = 'd5f7b9c1e3a4'
branch_labels = None
depends_on = None

# table -> [(column, kind, old type)]: kind "text" or "json"
SEALED = {
    'patients': [('email', 'text', sa.String(254)), ('address', 'text', sa.String(200)),
                 ('emergency_name', 'text', sa.String(50)), ('emergency_phone', 'text', sa.String(20))],
    'exam_reports': [('pending', 'json', sa.JSON()), ('patient_hint', 'text', sa.String(200))],
}


def _clinics(bind):
    postgres = bind.dialect.name == 'postgresql'
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
        if postgres:
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        yield tenant_id
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def _seal(value, kind: str, tenant_id: int):
    if kind == 'json':
        if value is None:
            return None
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return crypto.encrypt(text, tenant_id)
    return crypto.encrypt(value, tenant_id) if value else None


def _open(blob, kind: str, tenant_id: int):
    text = crypto.decrypt(blob, tenant_id)
    if kind == 'json':
        return None if text is None else text
    return text or ''


def upgrade():
    bind = op.get_bind()
    for table, columns in SEALED.items():
        for name, _kind, _type in columns:
            op.add_column(table, sa.Column(f'{name}_sealed', sa.LargeBinary(), nullable=True))
    for tenant_id in _clinics(bind):
        for table, columns in SEALED.items():
            names = [name for name, _kind, _type in columns]
            rows = bind.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table} WHERE tenant_id = :t"),
                                {"t": tenant_id}).all()
            for row in rows:
                values = {f"v{i}": _seal(row[i + 1], kind, tenant_id) for i, (_n, kind, _t) in enumerate(columns)}
                sets = ", ".join(f"{name}_sealed = :v{i}" for i, name in enumerate(names))
                bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE tenant_id = :t AND id = :id"),
                             dict(values, t=tenant_id, id=row[0]))
    for table, columns in SEALED.items():
        for name, _kind, _type in columns:
            op.drop_column(table, name)
            op.alter_column(table, f'{name}_sealed', new_column_name=name)


def downgrade():
    bind = op.get_bind()
    for table, columns in SEALED.items():
        for name, _kind, old_type in columns:
            op.add_column(table, sa.Column(f'{name}_plain', old_type, nullable=True))
    for tenant_id in _clinics(bind):
        for table, columns in SEALED.items():
            names = [name for name, _kind, _type in columns]
            rows = bind.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table} WHERE tenant_id = :t"),
                                {"t": tenant_id}).all()
            for row in rows:
                values = {f"v{i}": _open(row[i + 1], kind, tenant_id) for i, (_n, kind, _t) in enumerate(columns)}
                cast = bind.dialect.name == 'postgresql'
                sets = ", ".join(f"{name}_plain = CAST(:v{i} AS JSON)" if cast and kind == 'json' else
                                 f"{name}_plain = :v{i}" for i, (name, kind, _t) in enumerate(columns))
                bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE tenant_id = :t AND id = :id"),
                             dict(values, t=tenant_id, id=row[0]))
    for table, columns in SEALED.items():
        for name, _kind, _type in columns:
            op.drop_column(table, name)
            op.alter_column(table, f'{name}_plain', new_column_name=name)
