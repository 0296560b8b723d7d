"""Hostile values posted to every advice form and action answer no server error (the security
no-500 crawl covers the same forms clinic-wide; this is the quick one for the advice routes)."""

from sqlalchemy import select

from app.interventions.advice_models import AdviceItem, AdviceSheet
from tenants.context import tenant_context
from tenants.db import db

HOSTILE = ["inf", "NaN", "-1", "99999999999999999999", "\x00", "x" * 5000, "", "<script>", "{bmi}{nope}", "１２"]

def test_hostile_values_never_answer_a_server_error(app, advised, make_staff, client_for):
    tenant, person = advised
    admin = make_staff(tenant, "admin")
    client = client_for(tenant, admin.email)
    assert client.submit(f"/patients/{person.id}/advice/compose").status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        sheet_id = db.session.scalar(select(AdviceSheet.id))
        item_id = db.session.scalar(select(AdviceItem.id))
    base = f"/patients/{person.id}/advice/{sheet_id}"
    for v in HOSTILE:
        for url in (f"{base}/entries/0", f"/advice/library/{item_id}", "/advice/library/new"):
            r = client.submit(url, {"title": v, "body": v, "category": v, "title_zh": v, "title_en": v, "body_zh": v,
                                    "body_en": v, "source": v, "tags": v, "age_min": v, "age_max": v, "sex": v,
                                    "chosen": [v, "risk:bp_grade:grade_1"], "active": v})
            assert r.status_code < 500, (url, v, r.status_code)
        for url in (f"{base}/entries/99", f"{base}/entries/0/edit", f"{base}/entries/0"):
            assert client.get(url).status_code < 500
    assert client.submit(f"{base}/entries/0/remove").status_code < 500
    assert client.submit(f"{base}/recompose").status_code < 500
    assert client.submit(f"{base}/release").status_code < 500
    assert client.submit(f"{base}/release").status_code < 500
    assert client.submit(f"{base}/recompose").status_code < 500
    assert client.submit(f"{base}/entries/0/remove").status_code < 500
    assert client.submit(f"{base}/entries/0", {"title": "a", "body": "b"}).status_code < 500
    assert client.submit("/advice/library/install").status_code == 302
    assert client.get(f"{base}").status_code == 200
    assert client.get("/advice/library").status_code == 200
