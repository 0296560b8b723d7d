import json
import re

import pytest
from sqlalchemy import select

from tests.booking.conftest import make_package  # noqa: F401  (shared fixture)
from tests.notifications.conftest import as_tenant  # noqa: F401


@pytest.fixture
def last_code(app, monkeypatch):
    """The newest sign-in code texted to ``mobile``: the outbox keeps it only
    sealed until the send (its stored body is masked) and forgets it after,
    so this opens the seal as the send job does, or, once it is sent, reads
    what the SMS channel was handed (as the patient's phone would)."""
    from app.core import crypto
    from app.notifications import channels
    from app.notifications.models import Notification
    from tenants.context import tenant_context
    from tenants.db import db

    delivered: dict[tuple[int, str], str] = {}
    send_sms = channels.send_sms

    def recording(row, phone, on_stage):
        delivered[(row.tenant_id, phone)] = row.body_text
        return send_sms(row, phone, on_stage)

    monkeypatch.setattr(channels, "send_sms", recording)

    def read(tenant, mobile: str) -> str:
        with app.app_context(), tenant_context(tenant.id):
            rows = db.session.scalars(select(Notification).where(Notification.template_key == "signin_code")
                                      .order_by(Notification.created_at.desc(), Notification.id.desc())).all()
            for row in rows:
                if row.address_masked == mobile[:3] + "****" + mobile[-4:] and row.secret_enc:
                    text = json.loads(crypto.decrypt(row.secret_enc, row.tenant_id))["text"]
                    return re.search(r"(?:验证码为|code is) (\d{6})", text).group(1)
                if row.address_masked == mobile[:3] + "****" + mobile[-4:] and row.status == "sent":
                    found = re.search(r"(?:验证码为|code is) (\d{6})", delivered.get((tenant.id, mobile), ""))
                    if found:
                        return found.group(1)
        raise AssertionError("no code sent")

    return read


@pytest.fixture
def patient_client(client_for, last_code):
    """patient_client(tenant, mobile) -> a client signed in to the portal."""

    def make(tenant, mobile: str):
        client = client_for(tenant)
        token = _token(client.get("/portal/sign-in").get_data(as_text=True))
        response = client.post("/portal/sign-in", data={"mobile": mobile, "csrf_token": token})
        assert response.status_code == 200, response.get_data(as_text=True)[-800:]
        response = client.post("/portal/sign-in/code", data={"mobile": mobile, "code": last_code(tenant, mobile),
                                                             "csrf_token": token, "next": "/portal"})
        assert response.status_code == 302, response.get_data(as_text=True)[-800:]
        client.token = token
        return client

    return make


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
