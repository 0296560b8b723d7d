"""booking: a patient holds at most one order of a package per day (partial unique index over the statuses that hold a place); duplicates already stored are cancelled first

Revision ID: 6dd0f33376ec
Revises: c4e6a8b0d2f3
Create Date: 2026-12-06 03:00:00

Runs on PostgreSQL and SQLite. Before the index can exist, each clinic's
duplicates (two or more orders of one patient, package and day that hold a
place) are resolved: the order kept is the paid one, else the first booked;
the others are cancelled, their places given back to the counters, and an
order event (actor "system") says why. No message goes to the patient: they
keep the order of that package on that day. On PostgreSQL the tables are
under FORCE ROW LEVEL SECURITY, so the owner sees a clinic's rows only with
``app.tenant_id`` set for this transaction (set_config(..., true)), clinic by
clinic.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from tenants.ids import new_id

revision = '6dd0f33376ec'
down_revision = 'c4e6a8b0d2f3'
branch_labels = None
depends_on = None

INDEX = 'uq_booking_orders_one_per_day'
HOLDING = "('confirmed', 'paid', 'pay_at_clinic', 'pending_payment')"  # the statuses that hold a place
HOLDING_SQL = f"status IN {HOLDING}"
NOTE = ("重复预约，升级时取消：该患者当天已有此套餐的订单 {kept}。"
        "Cancelled by an upgrade as a duplicate: the patient holds order {kept} of this package on this day.")
PAID_NOTE = " 此订单已付款，请退款。This order was paid: please refund it."


def _moment(bind):
    """Now, as this database stores a moment (SQLite: text with its offset)."""
    now = datetime.now(timezone.utc)
    if bind.dialect.name == 'sqlite':
        return now.strftime('%Y-%m-%d %H:%M:%S.%f+00:00')
    return now


def _duplicates(bind, tenant_id: int) -> dict:
    rows = bind.execute(sa.text(f"""
        SELECT o.id, o.patient_id, o.package_id, o.day, o.start, o.status, o.order_no, o.paid_at, o.created_at
        FROM booking_orders o
        JOIN (SELECT patient_id, package_id, day FROM booking_orders
              WHERE tenant_id = :t AND status IN {HOLDING}
              GROUP BY patient_id, package_id, day HAVING count(*) > 1) d
          ON d.patient_id = o.patient_id AND d.package_id = o.package_id AND d.day = o.day
        WHERE o.tenant_id = :t AND o.status IN {HOLDING}"""), {"t": tenant_id}).mappings().all()
    groups: dict = {}
    for row in rows:
        groups.setdefault((row['patient_id'], row['package_id'], row['day']), []).append(row)
    return groups


def _cancel(bind, tenant_id: int, order, kept, moment) -> None:
    key = {"t": tenant_id, "id": order['id'], "day": order['day'], "start": order['start'],
           "package": order['package_id']}
    bind.execute(sa.text("UPDATE booking_orders SET status = 'cancelled', updated_at = :at "
                         "WHERE tenant_id = :t AND id = :id"), dict(key, at=moment))
    bind.execute(sa.text("UPDATE slot_counters SET booked = booked - 1 "
                         "WHERE tenant_id = :t AND day = :day AND start = :start AND booked > 0"), key)
    bind.execute(sa.text("UPDATE day_counters SET booked = booked - 1 "
                         "WHERE tenant_id = :t AND day = :day AND booked > 0"), key)
    bind.execute(sa.text("UPDATE package_day_counters SET booked = booked - 1 "
                         "WHERE tenant_id = :t AND package_id = :package AND day = :day AND booked > 0"), key)
    note = NOTE.format(kept=kept['order_no']) + (PAID_NOTE if order['paid_at'] is not None else "")
    bind.execute(sa.text(
        "INSERT INTO booking_order_events (tenant_id, id, order_id, kind, from_status, to_status, actor_type, "
        "actor_id, note, at) VALUES (:t, :event, :id, 'status', :status, 'cancelled', 'system', NULL, :note, :at)"),
        dict(key, event=new_id(), status=order['status'], note=note[:300], at=moment))


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    moment = _moment(bind)
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
        if postgres:  # row-level security: this clinic's rows, for the rest of this transaction
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        for group in _duplicates(bind, tenant_id).values():
            group.sort(key=lambda o: (o['paid_at'] is None, o['created_at'], o['id']))
            kept = group[0]
            for order in group[1:]:
                _cancel(bind, tenant_id, order, kept, moment)
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))
    op.create_index(INDEX, 'booking_orders', ['tenant_id', 'patient_id', 'package_id', 'day'], unique=True,
                    postgresql_where=sa.text(HOLDING_SQL), sqlite_where=sa.text(HOLDING_SQL))


def downgrade():
    op.drop_index(INDEX, table_name='booking_orders')
