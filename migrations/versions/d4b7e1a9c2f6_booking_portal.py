"""booking and portal: exam packages, capacity rules and counters, orders and their events; patient portal accounts and sign-in codes

Revision ID: d4b7e1a9c2f6
Revises: c8f2f4b9325e
Create Date: 2026-11-30 02:30:00

Written by hand (from the models); runs on PostgreSQL and SQLite.
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

TABLES = ("exam_packages", "booking_settings", "slot_templates", "slot_overrides", "closed_days", "slot_counters",
          "day_counters", "package_day_counters", "booking_orders", "booking_order_events", "portal_accounts",
          "portal_signin_codes", "portal_signin_events")


# revision identifiers, used by Alembic.
revision = 'd4b7e1a9c2f6'
down_revision = 'c8f2f4b9325e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('booking_settings',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('cutoff_days', sa.Integer(), nullable=False),
    sa.Column('cutoff_time', sa.Time(), nullable=False),
    sa.Column('cancel_cutoff_days', sa.Integer(), nullable=False),
    sa.Column('cancel_cutoff_time', sa.Time(), nullable=False),
    sa.Column('daily_capacity', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_booking_settings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_booking_settings'))
    )
    op.create_table('closed_days',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_closed_days_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_closed_days')),
    sa.UniqueConstraint('tenant_id', 'day', name=op.f('uq_closed_days_tenant_id_day'))
    )
    op.create_table('day_counters',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_day_counters_within_capacity')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_day_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'day', name=op.f('pk_day_counters'))
    )
    op.create_table('exam_packages',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('age_min', sa.Integer(), nullable=True),
    sa.Column('age_max', sa.Integer(), nullable=True),
    sa.Column('fasting', sa.Boolean(), nullable=False),
    sa.Column('no_alcohol', sa.Boolean(), nullable=False),
    sa.Column('preparation', sa.Text(), nullable=False),
    sa.Column('daily_limit', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_exam_packages_price_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_exam_packages_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_exam_packages')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_exam_packages_tenant_id_name'))
    )
    with op.batch_alter_table('exam_packages', schema=None) as batch_op:
        batch_op.create_index('ix_exam_packages_tenant_active', ['tenant_id', 'active', 'category'], unique=False)

    op.create_table('portal_signin_codes',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('mobile_index', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_portal_signin_codes_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_portal_signin_codes'))
    )
    with op.batch_alter_table('portal_signin_codes', schema=None) as batch_op:
        batch_op.create_index('ix_portal_signin_codes_tenant_mobile', ['tenant_id', 'mobile_index', 'created_at'], unique=False)

    op.create_table('portal_signin_events',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('mobile_index', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_portal_signin_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_portal_signin_events'))
    )
    with op.batch_alter_table('portal_signin_events', schema=None) as batch_op:
        batch_op.create_index('ix_portal_signin_events_tenant_ip', ['tenant_id', 'kind', 'ip', 'at'], unique=False)
        batch_op.create_index('ix_portal_signin_events_tenant_mobile', ['tenant_id', 'kind', 'mobile_index', 'at'], unique=False)

    op.create_table('slot_counters',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_slot_counters_within_capacity')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_slot_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'start', name=op.f('pk_slot_counters'))
    )
    op.create_table('slot_overrides',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_slot_overrides_capacity_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_slot_overrides_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_slot_overrides')),
    sa.UniqueConstraint('tenant_id', 'day', 'start', name=op.f('uq_slot_overrides_tenant_id_day_start'))
    )
    op.create_table('slot_templates',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_slot_templates_capacity_not_negative')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_slot_templates_weekday_range')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_slot_templates_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_slot_templates')),
    sa.UniqueConstraint('tenant_id', 'weekday', 'start', name=op.f('uq_slot_templates_tenant_id_weekday_start'))
    )
    op.create_table('booking_orders',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_no', sa.String(length=24), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('package_id', sa.BigInteger(), nullable=False),
    sa.Column('package_name', sa.String(length=80), nullable=False),
    sa.Column('patient_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('payment_provider', sa.String(length=20), nullable=False),
    sa.Column('payment_ref', sa.String(length=80), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_booking_orders_price_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'package_id'], ['exam_packages.tenant_id', 'exam_packages.id'], name=op.f('fk_booking_orders_tenant_id_package_id_exam_packages')),
    sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'], name=op.f('fk_booking_orders_tenant_id_patient_id_patients')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_booking_orders_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_booking_orders')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name=op.f('uq_booking_orders_tenant_id_idempotency_key')),
    sa.UniqueConstraint('tenant_id', 'order_no', name=op.f('uq_booking_orders_tenant_id_order_no'))
    )
    with op.batch_alter_table('booking_orders', schema=None) as batch_op:
        batch_op.create_index('ix_booking_orders_tenant_day', ['tenant_id', 'day', 'start'], unique=False)
        batch_op.create_index('ix_booking_orders_tenant_patient', ['tenant_id', 'patient_id', 'day'], unique=False)

    op.create_table('package_day_counters',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('package_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_package_day_counters_within_capacity')),
    sa.ForeignKeyConstraint(['tenant_id', 'package_id'], ['exam_packages.tenant_id', 'exam_packages.id'], name=op.f('fk_package_day_counters_tenant_id_package_id_exam_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_package_day_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'package_id', 'day', name=op.f('pk_package_day_counters'))
    )
    op.create_table('portal_accounts',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('mobile_index', sa.String(length=64), nullable=False),
    sa.Column('mobile_enc', sa.LargeBinary(), nullable=False),
    sa.Column('patient_id', sa.BigInteger(), nullable=True),
    sa.Column('session_nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_signin_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'patient_id'], ['patients.tenant_id', 'patients.id'], name=op.f('fk_portal_accounts_tenant_id_patient_id_patients'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_portal_accounts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_portal_accounts')),
    sa.UniqueConstraint('tenant_id', 'mobile_index', name=op.f('uq_portal_accounts_tenant_id_mobile_index'))
    )
    op.create_table('booking_order_events',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_type', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['booking_orders.tenant_id', 'booking_orders.id'], name=op.f('fk_booking_order_events_tenant_id_order_id_booking_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_booking_order_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_booking_order_events'))
    )
    with op.batch_alter_table('booking_order_events', schema=None) as batch_op:
        batch_op.create_index('ix_booking_order_events_tenant_order', ['tenant_id', 'order_id', 'at'], unique=False)

    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    with op.batch_alter_table('booking_order_events', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_order_events_tenant_order')
    op.drop_table('booking_order_events')
    op.drop_table('portal_accounts')
    op.drop_table('package_day_counters')
    with op.batch_alter_table('booking_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_orders_tenant_patient')
        batch_op.drop_index('ix_booking_orders_tenant_day')
    op.drop_table('booking_orders')
    op.drop_table('slot_templates')
    op.drop_table('slot_overrides')
    op.drop_table('slot_counters')
    with op.batch_alter_table('portal_signin_events', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_signin_events_tenant_mobile')
        batch_op.drop_index('ix_portal_signin_events_tenant_ip')
    op.drop_table('portal_signin_events')
    with op.batch_alter_table('portal_signin_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_signin_codes_tenant_mobile')
    op.drop_table('portal_signin_codes')
    with op.batch_alter_table('exam_packages', schema=None) as batch_op:
        batch_op.drop_index('ix_exam_packages_tenant_active')
    op.drop_table('exam_packages')
    op.drop_table('day_counters')
    op.drop_table('closed_days')
    op.drop_table('booking_settings')
