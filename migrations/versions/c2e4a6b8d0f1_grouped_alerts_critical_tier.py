"""records: alerts grouped per patient and report with their items; the critical tier (acknowledgement with who was informed, a deadline, escalation); the clinic's alert settings and staff alert contacts

Revision ID: c2e4a6b8d0f1
Revises: c2d4f6a8b0e1
Create Date: 2026-12-05 22:30:00

Runs on PostgreSQL and SQLite. Each existing alert becomes an alert of one
item (its result), in a group of its own ("legacy:<id>"), so later results
of the same report start a new grouped alert. Existing critical alerts get
no deadline: they show in the banner until acknowledged but are never
escalated (their deadline would have passed long ago). The guarantee that a
result alerts once moves from alerts(tenant_id, observation_id) to
alert_items(tenant_id, observation_id).
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'c2e4a6b8d0f1'
down_revision = 'c2d4f6a8b0e1'
branch_labels = None
depends_on = None

NEW_TABLES = ('alert_items', 'alert_settings', 'alert_contacts')
OPEN = "status = 'open'"


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'))


def _each_clinic(bind, work):
    postgres = bind.dialect.name == 'postgresql'
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
        if postgres:  # row-level security: this clinic's rows, for the rest of this transaction
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        work(tenant_id)
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('report_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('group_key', sa.String(length=60), nullable=False, server_default=''))
        batch.add_column(sa.Column('item_count', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('informed', sa.String(length=12), nullable=False, server_default=''))
        batch.add_column(sa.Column('informed_name', sa.String(length=60), nullable=False, server_default=''))
        batch.add_column(sa.Column('critical_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('escalated_to', sa.JSON(), nullable=False, server_default='[]'))
    op.create_table(
        'alert_items',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('alert_id', sa.BigInteger(), nullable=False),
        sa.Column('observation_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('flag', sa.String(length=2), nullable=False),
        sa.Column('summary', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _tenant_fk('alert_items'),  # its key to alerts comes once alerts is rebuilt (SQLite would cascade)
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_alert_items')),
        sa.UniqueConstraint('tenant_id', 'observation_id', name=op.f('uq_alert_items_tenant_id_observation_id')),
    )
    op.create_index('ix_alert_items_tenant_alert', 'alert_items', ['tenant_id', 'alert_id'], unique=False)
    op.create_table(
        'alert_settings',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('ack_minutes', sa.Integer(), nullable=False),
        sa.Column('backup_doctor_id', sa.BigInteger(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _tenant_fk('alert_settings'),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_alert_settings')),
    )
    op.create_table(
        'alert_contacts',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('staff_id', sa.BigInteger(), nullable=False),
        sa.Column('backup_id', sa.BigInteger(), nullable=True),
        sa.Column('mobile', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id', 'staff_id'], ['staff_users.tenant_id', 'staff_users.id'],
                                name=op.f('fk_alert_contacts_tenant_id_staff_id_staff_users'), ondelete='CASCADE'),
        _tenant_fk('alert_contacts'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_alert_contacts')),
        sa.UniqueConstraint('tenant_id', 'staff_id', name=op.f('uq_alert_contacts_tenant_id_staff_id')),
    )
    for table in NEW_TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)

    def move(tenant_id):
        bind.execute(sa.text(
            "INSERT INTO alert_items (tenant_id, id, alert_id, observation_id, kind, flag, summary, created_at) "
            "SELECT a.tenant_id, a.id, a.id, a.observation_id, a.kind, COALESCE(o.flag, ''), a.summary, a.created_at "
            "FROM alerts a LEFT JOIN observations o ON o.tenant_id = a.tenant_id AND o.id = a.observation_id "
            "WHERE a.tenant_id = :t"), {"t": tenant_id})
        bind.execute(sa.text(
            "UPDATE alerts SET item_count = 1, group_key = 'legacy:' || CAST(id AS VARCHAR), "
            "report_id = (SELECT o.report_id FROM observations o "
            "             WHERE o.tenant_id = alerts.tenant_id AND o.id = alerts.observation_id), "
            "critical_at = CASE WHEN kind = 'critical' THEN created_at END "
            "WHERE tenant_id = :t"), {"t": tenant_id})

    _each_clinic(bind, move)
    with op.batch_alter_table('alerts') as batch:
        batch.drop_constraint('uq_alerts_tenant_id_observation_id', type_='unique')
        batch.drop_column('observation_id')
        batch.create_foreign_key(op.f('fk_alerts_tenant_id_report_id_exam_reports'), 'exam_reports',
                                 ['tenant_id', 'report_id'], ['tenant_id', 'id'], ondelete='CASCADE')
        batch.alter_column('group_key', server_default=None)
        batch.alter_column('item_count', server_default=None)
        batch.alter_column('informed', server_default=None)
        batch.alter_column('informed_name', server_default=None)
        batch.alter_column('escalated_to', server_default=None)
    with op.batch_alter_table('alert_items') as batch:
        batch.create_foreign_key(op.f('fk_alert_items_tenant_id_alert_id_alerts'), 'alerts',
                                 ['tenant_id', 'alert_id'], ['tenant_id', 'id'], ondelete='CASCADE')
    op.create_index('ix_alerts_tenant_created', 'alerts', ['tenant_id', 'created_at'], unique=False)
    op.create_index('uq_alerts_tenant_patient_group_open', 'alerts', ['tenant_id', 'patient_id', 'group_key'],
                    unique=True, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    """Back to one alert per result: a grouped alert keeps its first item's
    result (its other items are dropped with alert_items)."""
    bind = op.get_bind()
    op.drop_index('uq_alerts_tenant_patient_group_open', table_name='alerts')
    op.drop_index('ix_alerts_tenant_created', table_name='alerts')
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('observation_id', sa.BigInteger(), nullable=True))

    def back(tenant_id):
        bind.execute(sa.text(
            "UPDATE alerts SET observation_id = (SELECT MIN(i.observation_id) FROM alert_items i "
            "WHERE i.tenant_id = alerts.tenant_id AND i.alert_id = alerts.id) WHERE tenant_id = :t"),
            {"t": tenant_id})
        bind.execute(sa.text("DELETE FROM alerts WHERE tenant_id = :t AND observation_id IS NULL"), {"t": tenant_id})

    _each_clinic(bind, back)
    for table in ('alert_contacts', 'alert_settings', 'alert_items'):
        op.drop_table(table)
    with op.batch_alter_table('alerts') as batch:
        batch.drop_constraint(op.f('fk_alerts_tenant_id_report_id_exam_reports'), type_='foreignkey')
        batch.alter_column('observation_id', nullable=False)
        batch.create_unique_constraint('uq_alerts_tenant_id_observation_id', ['tenant_id', 'observation_id'])
        for column in ('escalated_to', 'escalated_at', 'due_at', 'critical_at', 'informed_name', 'informed',
                       'item_count', 'group_key', 'report_id'):
            batch.drop_column(column)
