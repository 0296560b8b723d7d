"""patients: search keys with both spellings of ü (吕 lv and lu, 女 nv and nu) for the patients whose name has a lü or nü syllable

Revision ID: d8e2f4a6c1b3
Revises: 4e6a8c0b2d71
Create Date: 2026-12-06 02:00:00

A data migration; the schema does not change. New and changed cards get
both spellings from app.patients.search_terms; here the cards stored before
get them too. Only the patients whose name has a lü or nü reading are
rebuilt: their keys are deleted and written again as terms_for() makes them
now. On PostgreSQL the tables are under FORCE ROW LEVEL SECURITY, so each
clinic's rows are read with ``app.tenant_id`` set for this transaction,
clinic by clinic. Downgrade leaves the extra keys: they only find more.
"""
from alembic import op
import sqlalchemy as sa

from app.patients.search_terms import has_u_variant, terms_for

revision = 'd8e2f4a6c1b3'
down_revision = '4e6a8c0b2d71'
branch_labels = None
depends_on = None

BATCH = 5000


def _rebuild(bind, tenant_id: int) -> None:
    rows = bind.execute(sa.text("SELECT id, name, card_no, mobile_last4 FROM patients WHERE tenant_id = :t"),
                        {"t": tenant_id}).all()
    wanted = [row for row in rows if has_u_variant(row.name)]
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start:start + BATCH]
        bind.execute(sa.text("DELETE FROM patient_search_terms WHERE tenant_id = :t AND patient_id = :p"),
                     [{"t": tenant_id, "p": row.id} for row in batch])
        bind.execute(sa.text("INSERT INTO patient_search_terms (tenant_id, term, patient_id) VALUES (:t, :term, :p)"),
                     [{"t": tenant_id, "term": term, "p": row.id}
                      for row in batch for term in sorted(terms_for(row.name, row.card_no, row.mobile_last4 or ""))])


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
        if postgres:  # row-level security: this clinic's rows, for the rest of this transaction
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        _rebuild(bind, tenant_id)
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade():
    pass
