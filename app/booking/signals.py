"""What the booking capability tells the others (see app/core/events.py)."""
from app.core import events

order_completed = events.define(
    "order-completed", "A booked exam was completed: order_id, patient_id, label (the order number).")
order_placed = events.define(
    "order-placed", "An exam was booked (portal or staff): order_id, patient_id, package_id, day.")
