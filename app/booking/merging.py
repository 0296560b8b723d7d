"""A self-registered card merged into an existing card: its orders move."""
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.booking.models import Order
from app.booking.orders import HOLDING
from app.core import events
from app.patients import services as patients
from tenants.db import db


def _cards_merged(_tenant_id: int, *, source_id: int, target_id: int, **_signal) -> None:
    held = {(o.package_id, o.day): o for o in db.session.scalars(select(Order).where(
        Order.patient_id == target_id, Order.status.in_(HOLDING)))}
    clashes = [(o, held[(o.package_id, o.day)]) for o in db.session.scalars(select(Order).where(
        Order.patient_id == source_id, Order.status.in_(HOLDING))) if (o.package_id, o.day) in held]
    if clashes:  # one order of a package per patient and day: the desk cancels one first
        moving, kept = clashes[0]
        raise patients.MergeRefused(_(
            "Both cards hold %(package)s on %(date)s (orders %(a)s and %(b)s): cancel one of them first.",
            package=moving.package_name, date=moving.day.isoformat(), a=moving.order_no, b=kept.order_no))
    db.session.execute(update(Order).where(Order.patient_id == source_id).values(patient_id=target_id)
                       .execution_options(synchronize_session="fetch"))


def listen() -> None:
    events.connect(patients.cards_merged, _cards_merged)
