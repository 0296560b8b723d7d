"""The patient list filtered by tags; one clinic's rules and tags stay its own
(ORM guard and row-level security on the new tables)."""
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.tagging.models import ManualTag, PatientTag, Tag, TagRule
from tenants.context import tenant_context
from tenants.db import db
from tests.tagging.conftest import leaf, only

pytestmark = pytest.mark.postgres
UA, GLUCOSE = "14933-6", "14771-0"


def _tag(app, tenant, name):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(Tag.id).where(Tag.name == name))


def _names(page: str, *candidates) -> set:
    return {name for name in candidates if name in page.split("<tbody>", 1)[1]}


def test_patient_list_filters_by_tags(app, make_tenant, make_patient, give, evaluate, client_for):
    t = make_tenant()
    gout = make_patient(t, name="痛风甲")
    gout_vip = make_patient(t, name="痛风乙")
    plain = make_patient(t, name="普通丙")
    for p in (gout, gout_vip):
        give(t, p.id, UA, 500)
        evaluate(t, p.id)
    evaluate(t, plain.id)
    client = client_for(t, t.owner_email)
    client.submit(f"/patients/{gout_vip.id}/tags", {"name": "VIP"})
    client.submit(f"/patients/{plain.id}/tags", {"name": "VIP"})
    uric, vip = _tag(app, t, "高尿酸血症"), _tag(app, t, "VIP")
    everyone = ("痛风甲", "痛风乙", "普通丙")

    page = client.get("/patients").get_data(as_text=True)
    assert _names(page, *everyone) == set(everyone) and 'name="tag"' in page
    assert "高尿酸血症" in page.split("<tbody>", 1)[1]  # tags shown on the rows
    page = client.get(f"/patients?tag={uric}").get_data(as_text=True)
    assert _names(page, *everyone) == {"痛风甲", "痛风乙"}
    page = client.get(f"/patients?tag={vip}").get_data(as_text=True)  # a manual tag filters the same way
    assert _names(page, *everyone) == {"痛风乙", "普通丙"}
    page = client.get(f"/patients?tag={uric}&tag={vip}").get_data(as_text=True)  # every ticked tag
    assert _names(page, *everyone) == {"痛风乙"}
    page = client.get(f"/patients?tag={uric}&q=痛风甲", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _names(page, *everyone) == {"痛风甲"} and "<html" not in page
    page = client.get("/patients?tag=notanumber&tag=123").get_data(as_text=True)  # unknown tags are ignored
    assert _names(page, *everyone) == set(everyone)


def test_rules_and_tags_of_one_clinic_are_invisible_to_another(app, make_tenant, make_patient, make_rule, give,
                                                              evaluate, client_for):
    a, b = make_tenant(), make_tenant()
    pa = make_patient(a, name="甲诊所病人")
    give(a, pa.id, GLUCOSE, 9.5)
    rule_a = make_rule(a, only(leaf(GLUCOSE, ">=", 9)), name="甲方秘密规则", tag="甲方秘密标签")
    evaluate(a, pa.id)
    client_a = client_for(a, a.owner_email)
    client_a.submit(f"/patients/{pa.id}/tags", {"name": "甲方手工标签"})
    tag_a = _tag(app, a, "甲方秘密标签")

    client_b = client_for(b, b.owner_email)
    for url in ("/tagging/rules", "/patients", f"/patients?tag={tag_a}", "/tagging/rules/new"):
        page = client_b.get(url).get_data(as_text=True)
        assert "甲方秘密规则" not in page and "甲方秘密标签" not in page and "甲方手工标签" not in page, url
    assert client_b.get(f"/tagging/rules/{rule_a}").status_code == 404
    assert client_b.submit(f"/tagging/rules/{rule_a}/delete").status_code == 404
    assert client_b.submit(f"/patients/{pa.id}/tags", {"name": "x"}).status_code == 404
    assert client_b.submit(f"/patients/{pa.id}/tags/{tag_a}/remove").status_code == 404
    with app.app_context(), tenant_context(b.id):
        from app.tagging import services

        services.evaluate_rules(None)  # B's clinic-wide run never touches A's rows
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(PatientTag)) == 0
        assert services.evaluate_patient(pa.id).added == []  # A's patient is no patient of B
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(TagRule).where(TagRule.id == rule_a)) == 0
    with app.app_context(), tenant_context(a.id):
        assert db.session.scalar(select(func.count()).select_from(PatientTag).where(PatientTag.rule_id == rule_a)) == 1
        assert db.session.scalar(select(func.count()).select_from(ManualTag)) == 1


def test_row_level_security_on_the_tag_tables(app, make_tenant, make_patient, give, evaluate, client_for):
    a, b = make_tenant(), make_tenant()
    pa = make_patient(a)
    give(a, pa.id, UA, 480)
    evaluate(a, pa.id)
    client_for(a, a.owner_email).submit(f"/patients/{pa.id}/tags", {"name": "甲标签"})
    tables = ("tags", "tag_rules", "patient_tags", "patient_manual_tags")
    with app.app_context():
        connection = db.session.connection()
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.id)})
        seen_by_a = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
        assert all(seen_by_a.values()), seen_by_a
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(b.id)})
        leaked = {t: connection.execute(text(f"SELECT count(*) FROM {t} WHERE tenant_id = :a"), {"a": a.id}).scalar()
                  for t in tables}
        assert leaked == dict.fromkeys(tables, 0)
        connection.execute(text("SELECT set_config('app.tenant_id', '', true)"))
        assert connection.execute(text("SELECT count(*) FROM patient_tags")).scalar() == 0
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(b.id)})
        with pytest.raises(DBAPIError):  # WITH CHECK: no row for another clinic
            connection.execute(text("INSERT INTO tags (tenant_id, id, name, name_en, colour, created_at) "
                                    "VALUES (:a, 1, 'x', '', 'teal', now())"), {"a": a.id})
        db.session.rollback()
        rows = db.session.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(:n)"),
            {"n": list(tables)}).all()
        assert len(rows) == 4 and all(r.relrowsecurity and r.relforcerowsecurity for r in rows)
        db.session.rollback()
