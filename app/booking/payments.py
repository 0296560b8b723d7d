"""Payment providers behind one small interface.

A provider decides an order's first state and how it gets paid. Only
``pay_at_clinic`` exists: the order waits as "pay_at_clinic" and staff
mark it paid at the desk. An online provider (WeChat Pay, Alipay) would
register itself here with ``online = True``, answer ``checkout`` with the
address to send the patient to, and mark the order paid from its verified
callback; nothing here pretends to take money online.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class PaymentProvider:
    key: str
    label: object
    initial_status: str
    online: bool = False
    staff_can_mark_paid: bool = True

    def checkout(self, order) -> str | None:
        """Where to send the patient to pay now; None: nothing to do online."""
        return None


_REGISTRY: dict[str, PaymentProvider] = {}


def register(provider: PaymentProvider) -> PaymentProvider:
    _REGISTRY[provider.key] = provider
    return provider


def provider(key: str) -> PaymentProvider:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown payment provider {key!r}") from None


def available() -> list[PaymentProvider]:
    return list(_REGISTRY.values())


register(PaymentProvider("pay_at_clinic", _l("Pay at the clinic"), initial_status="pay_at_clinic"))
