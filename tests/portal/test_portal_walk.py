"""Every portal and shop route, as a patient signed in at clinic A, aimed at
clinic B's objects (and at another patient of A): 403 or 404, nothing shown."""
from datetime import date, time

import pytest

from tests.booking.conftest import open_day
from tests.notifications.conftest import drain  # noqa: F401  (shared fixture)
from tests.test_route_walk import ARG_SAMPLES, _endpoints_with_methods, clinic_b  # noqa: F401  (fixture)

pytestmark = [pytest.mark.redis]
PORTAL = ("portal.", "shop.", "portal_advice.")


def _other_patients_objects(app, tenant, patient_id):
    """An order and a sent message of another patient of the same clinic."""
    from app.booking import services as booking
    from app.notifications import services as notifications
    from app.patients import services as patients
    from tenants.context import tenant_context
    from tenants.db import db

    with app.app_context(), tenant_context(tenant.id):
        patient = patients.get(patient_id)
        package = booking.save_package(booking.PackageData(name="邻居套餐", price="1", items="邻居项目"))
        order = booking.book(package.id, open_day(), time(7, 30), patient, idempotency_key="walk-neighbour")
        message = notifications.notify("report_ready", notifications.patient_recipient(patient), {
            "patient_name": patient.name, "clinic": tenant.name, "report": "邻居报告", "url": "https://x.test/"},
            idempotency_key="walk-neighbour", channels=("sms",), at_once=True)[0]
        db.session.commit()
        return {"order_id": order.id, "notification_id": message.id, "package_id": package.id}


def test_patient_walk_across_patients_and_clinics(app, make_tenant, make_patient, patient_client, clinic_b,
                                                  drain):
    b, b_ids, markers = clinic_b
    a = make_tenant("甲方诊所")
    me = make_patient(a, name="甲方本人", mobile="13912345670")
    neighbour = make_patient(a, name="甲方邻居", birth_date=date(1975, 3, 3), mobile="13912345671")
    neighbour_ids = _other_patients_objects(app, a, neighbour.id)
    drain()
    client = patient_client(a, me.mobile)
    token = client.token
    walked = 0
    for variant, ids in (("clinic B", b_ids), ("neighbour", dict(b_ids, **neighbour_ids))):
        for rule, method in _endpoints_with_methods(app):
            if not rule.endpoint.startswith(PORTAL) or rule.endpoint == "portal.sign_out":
                continue
            id_args = [arg for arg in rule.arguments if arg in ids]
            if variant == "neighbour" and not any(arg in neighbour_ids for arg in id_args):
                continue
            if rule.endpoint.startswith("shop.") and id_args == ["package_id"] and variant == "neighbour":
                continue  # the clinic's packages are public to its patients
            values = {arg: ids.get(arg, ARG_SAMPLES.get(arg)) for arg in rule.arguments}
            with app.test_request_context(base_url=f"http://{a.host}"):
                from flask import url_for

                url = url_for(rule.endpoint, **values)
            response = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            body = response.get_data(as_text=True)
            where = f"{variant} {method} {url}"
            if id_args:
                assert response.status_code in (403, 404), where + body[-600:]
            else:
                assert response.status_code in (200, 302, 400, 403, 404, 409), where
            leaked = [m for m in markers + ["甲方邻居", "邻居套餐", "邻居报告"] if m in body and not
                      (m == "邻居套餐" and rule.endpoint.startswith("shop."))]
            assert not leaked, f"{where} shows {leaked}"
            walked += 1
    assert walked > 10
    # the walk did not end the session or touch the neighbour's message
    assert "甲方本人" in client.get("/portal").get_data(as_text=True)
    other = patient_client(a, neighbour.mobile)
    assert 'class="badge"' in other.get("/portal/messages").get_data(as_text=True)
