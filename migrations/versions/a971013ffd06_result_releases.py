"""records: results reach the portal when released (an exam day at a time, by a doctor or automatically when
every result is normal after the clinic's hours); clinics' results stored before this stay shown

Revision ID: a971013ffd06
Revises: f3d6a111be80
Create Date: 2026-12-06 17:20:00

Each clinic gets its release settings with ``shown_before`` set to now: what its patients could read before
keeps showing. On PostgreSQL the tables are under FORCE ROW LEVEL SECURITY, so each clinic's row is written
with ``app.tenant_id`` set for this transaction, clinic by clinic.
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'a971013ffd06'
down_revision = 'f3d6a111be80'
branch_labels = None
depends_on = None

TABLES = ('result_releases', 'result_release_settings')


def upgrade():
    op.create_table(
        'result_releases',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('exam_date', sa.Date(), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('released_by', sa.BigInteger(), nullable=True),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_result_releases_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'],
                                name=op.f('fk_result_releases_tenant_id_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_result_releases')),
        sa.UniqueConstraint('tenant_id', 'patient_id', 'exam_date',
                            name=op.f('uq_result_releases_tenant_id_patient_id_exam_date')),
    )
    op.create_table(
        'result_release_settings',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('auto_release_hours', sa.Integer(), nullable=True),
        sa.Column('shown_before', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_result_release_settings_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_result_release_settings')),
    )
    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
        if postgres:  # row-level security: this clinic's row, for the rest of this transaction
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        bind.execute(sa.text("INSERT INTO result_release_settings (tenant_id, auto_release_hours, shown_before, "
                             "updated_at) VALUES (:t, NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"t": tenant_id})
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
