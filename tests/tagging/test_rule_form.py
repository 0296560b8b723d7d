"""The rule form: checks beside each field with the input kept, htmx
rows and preview, confirmation for a rule that tags nearly everyone."""
import re

import pytest
from sqlalchemy import func, select

from app.tagging.models import TagRule
from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.postgres
GLUCOSE, SBP = "14771-0", "8480-6"
HX = {"HX-Request": "true"}


def _form(**fields):
    data = {"name": "测试规则", "tag": "测试标签", "op": "and", "active": "y", "g0-op": "and",
            "g0-c0-source": "indicator", "g0-c0-code": GLUCOSE, "g0-c0-measure": "latest", "g0-c0-cmp": ">=",
            "g0-c0-value": "7.0", "g0-c0-unit": "mmol/L", "action": "save"}
    data.update({k.replace("__", "-"): v for k, v in fields.items()})
    return data


def _rule_count(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalar(select(func.count()).select_from(TagRule))


def _error_of(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field)}-error">([^<]*)</p>', page)
    return match.group(1) if match else ""


@pytest.fixture
def admin(make_tenant, client_for):
    tenant = make_tenant()
    return tenant, client_for(tenant, tenant.owner_email)


def test_unknown_indicator_is_refused_beside_the_field(app, admin):
    tenant, client = admin
    client.submit("/lang/en")
    before = _rule_count(app, tenant)
    response = client.submit("/tagging/rules/new", _form(g0__c0__code="99999-9", name="我的规则"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Unknown indicator 99999-9" in _error_of(page, "g0-c0-code")
    assert 'value="99999-9" selected' in page and 'value="我的规则"' in page  # the admin's input is kept
    assert _rule_count(app, tenant) == before


def test_contradictory_bounds_are_refused(app, admin):
    tenant, client = admin
    client.submit("/lang/en")
    data = _form(g0__c0__cmp=">", g0__c0__value="10", **{
        "g0__c1__source": "indicator", "g0__c1__code": GLUCOSE, "g0__c1__measure": "latest", "g0__c1__cmp": "<",
        "g0__c1__value": "5", "g0__c1__unit": "mmol/L"})
    response = client.submit("/tagging/rules/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "contradicts condition 1" in _error_of(page, "g0-c1-value")
    assert 'name="g0-c1-value" value="5"' in page
    # the same bounds in an "any of" group are fine (a value below 5 or above 10)
    response = client.submit("/tagging/rules/new", dict(data, **{"g0-op": "or"}))
    assert response.status_code == 302
    # and so are the same conditions in two groups joined by "any group"


def test_unit_that_cannot_be_converted_is_refused(app, admin):
    tenant, client = admin
    client.submit("/lang/en")
    response = client.submit("/tagging/rules/new", _form(g0__c0__unit="mg", g0__c0__value="126"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "mg cannot be converted to mmol/L" in _error_of(page, "g0-c0-unit")
    assert 'name="g0-c0-unit" value="mg"' in page
    ok = client.submit("/tagging/rules/new", _form(g0__c0__unit="mg/dL", g0__c0__value="126"))
    assert ok.status_code == 302


def test_missing_pieces_are_all_named_at_once(app, admin):
    tenant, client = admin
    client.submit("/lang/en")
    response = client.submit("/tagging/rules/new", _form(name="", tag="", g0__c0__value="abc", g0__c0__cmp="~"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _error_of(page, "name") and _error_of(page, "tag")
    assert _error_of(page, "g0-c0-value") == "Please enter a number."
    assert _error_of(page, "g0-c0-cmp")
    no_conditions = {k: v for k, v in _form().items() if not k.startswith("g0-c0")}
    page = client.submit("/tagging/rules/new", no_conditions).get_data(as_text=True)
    assert _error_of(page, "condition") == "Please add at least one condition."


def test_htmx_adds_and_removes_rows_keeping_input(admin):
    _tenant, client = admin
    client.submit("/lang/en")
    response = client.submit("/tagging/rules/new", _form(action="add-cond-0", g0__c0__value="6.5"), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.lstrip().startswith("<form")  # the partial only
    assert 'name="g0-c1-source"' in page and 'name="g0-c0-value" value="6.5"' in page
    response = client.submit("/tagging/rules/new", _form(action="add-group"), headers=HX)
    assert 'name="g1-c0-source"' in response.get_data(as_text=True)
    # switching a condition to age shows the age fields
    response = client.submit("/tagging/rules/new", _form(action="refresh", g0__c0__source="age"), headers=HX)
    page = response.get_data(as_text=True)
    assert 'name="g0-c0-code"' not in page and 'aria-label="Age in years"' in page
    response = client.submit("/tagging/rules/new", _form(action="del-cond-0-0"), headers=HX)
    assert 'name="g0-c0-source"' not in response.get_data(as_text=True)


def test_preview_counts_and_lists_matching_patients(app, admin, make_patient, give):
    tenant, client = admin
    client.submit("/lang/en")
    high = make_patient(tenant, name="高血糖甲")
    make_patient(tenant, name="正常乙")
    give(tenant, high.id, GLUCOSE, 8.0)
    response = client.submit("/tagging/rules/preview", _form(action="preview"), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 of 2 patients" in page and "高血糖甲" in page and "正常乙" not in page
    assert _rule_count(app, tenant) == 10  # a preview saves nothing
    bad = client.submit("/tagging/rules/preview", _form(g0__c0__code="nope"), headers=HX)
    assert bad.status_code == 400 and bad.headers["HX-Retarget"] == "#rule-form"
    assert "Unknown indicator nope" in bad.get_data(as_text=True)
    # without htmx the preview button renders the whole page with the preview in it
    page = client.submit("/tagging/rules/new", _form(action="preview")).get_data(as_text=True)
    assert "<html" in page and "1 of 2 patients" in page


def test_rule_tagging_nearly_everyone_asks_for_confirmation(app, admin, make_patient):
    tenant, client = admin
    client.submit("/lang/en")
    for _ in range(3):
        make_patient(tenant)
    everyone = {"g0-c0-source": "age", "g0-c0-cmp": ">=", "g0-c0-value": "0"}
    data = {k: v for k, v in _form().items() if not k.startswith("g0-c0")} | everyone
    response = client.submit("/tagging/rules/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "3 of 3 patients" in page and 'name="confirm"' in page
    assert _rule_count(app, tenant) == 10
    assert client.submit("/tagging/rules/new", dict(data, confirm="y")).status_code == 302
    assert _rule_count(app, tenant) == 11


def test_editing_a_pack_rule_shows_its_conditions(app, admin):
    tenant, client = admin
    with app.app_context(), tenant_context(tenant.id):
        rule = db.session.scalar(select(TagRule).where(TagRule.pack_key == "central_obesity"))
    page = client.get(f"/tagging/rules/{rule.id}").get_data(as_text=True)
    assert re.search(r'<select id="op" name="op"><option value="and">[^<]*</option><option selected value="or">', page)
    assert 'name="g1-c1-value" value="85"' in page and 'name="g0-c0-choice"' in page
    # saved unchanged, it keeps its version
    form = {"name": rule.name, "tag": "中心型肥胖", "op": "or", "active": "y", "action": "save",
            "g0-op": "and", "g0-c0-source": "sex", "g0-c0-choice": "M",
            "g0-c1-source": "indicator", "g0-c1-code": "8280-0", "g0-c1-measure": "latest", "g0-c1-cmp": ">=",
            "g0-c1-value": "90", "g0-c1-unit": "cm",
            "g1-op": "and", "g1-c0-source": "sex", "g1-c0-choice": "F",
            "g1-c1-source": "indicator", "g1-c1-code": "8280-0", "g1-c1-measure": "latest", "g1-c1-cmp": ">=",
            "g1-c1-value": "85", "g1-c1-unit": "cm"}
    assert client.submit(f"/tagging/rules/{rule.id}", form).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        saved = db.session.get(TagRule, (tenant.id, rule.id))
        assert saved.version == 1 and saved.condition["items"][1]["items"][1]["value"] == 85


def test_only_admins_edit_rules(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    doctor = client_for(tenant, make_staff(tenant, "doctor").email)
    assert doctor.get("/tagging/rules").status_code == 403
    assert doctor.submit("/tagging/rules/new", _form()).status_code == 403
    front = client_for(tenant, make_staff(tenant, "front_desk").email)
    assert front.submit("/patients/1/tags", {"name": "x"}).status_code == 403
