"""What a rule's evaluation says when it is done (a sentence, in the language
of whoever started it, counts never negative) and the patient counts of the
rules page (live, not the count of the last clinic-wide run)."""
import re

import pytest
from sqlalchemy import select

from app.core.jobs import JobRun
from app.tagging.evaluation import RuleRun
from app.tagging.jobs import run_summary
from app.tagging.models import TagRule
from tenants.context import tenant_context
from tenants.db import db
from tests.tagging.test_evaluation import GLUCOSE, _drain

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.time_sensitive]

FORM = {"name": "血糖很高", "tag": "高血糖", "op": "and", "active": "y", "g0-op": "and",
        "g0-c0-source": "indicator", "g0-c0-code": GLUCOSE, "g0-c0-measure": "latest", "g0-c0-cmp": ">=",
        "g0-c0-value": "8.0", "g0-c0-unit": "mmol/L", "action": "save"}


def _last_message(app, tenant) -> str:
    with app.app_context(), tenant_context(tenant.id):
        run = db.session.scalars(select(JobRun).where(JobRun.kind == "tag_rules")
                                 .order_by(JobRun.created_at.desc(), JobRun.id.desc())).first()
        assert run.status == "finished"
        return run.message


def _count_cell(page: str, rule_name: str) -> str:
    row = re.search(rf"{rule_name}</a>.*?</tr>", page, re.S).group(0)
    return re.sub(r"<[^>]+>", " ", re.findall(r"<td>(.*?)</td>", row, re.S)[1]).split()[0]


def test_saving_a_rule_says_what_changed_in_a_sentence(app, make_tenant, make_patient, give, client_for):
    t = make_tenant()
    high, low = make_patient(t).id, make_patient(t).id
    give(t, high, GLUCOSE, 9.0)
    give(t, low, GLUCOSE, 5.0)
    _drain(app)
    client = client_for(t, t.owner_email)
    assert client.submit("/tagging/rules/new", FORM).status_code == 302
    _drain(app)
    assert _last_message(app, t) == "规则“血糖很高”：符合规则的患者 1 人（新增 1 人，移除 0 人）。"
    with app.app_context(), tenant_context(t.id):
        rule_id = db.session.scalar(select(TagRule.id).where(TagRule.name == "血糖很高"))
    client.submit("/lang/en")
    assert client.submit(f"/tagging/rules/{rule_id}", dict(FORM, **{"g0-c0-value": "10"})).status_code == 302
    _drain(app)
    assert _last_message(app, t) == "Rule “血糖很高”: 0 patients match (0 added, 1 removed)."
    page = client.get("/tagging/rules").get_data(as_text=True)
    assert "Done. Rule “血糖很高”: 0 patients match (0 added, 1 removed)." in page
    assert client.submit(f"/tagging/rules/{rule_id}", dict(FORM, **{"g0-c0-value": "8.5"})).status_code == 302
    _drain(app)
    assert _last_message(app, t) == "Rule “血糖很高”: 1 patient matches (1 added, 0 removed)."
    # the same rule saved again: nothing added, nothing removed, and never a negative count
    client.submit("/lang/zh_CN")
    assert client.submit(f"/tagging/rules/{rule_id}", dict(FORM, **{"g0-c0-value": "8.6"})).status_code == 302
    _drain(app)
    message = _last_message(app, t)
    assert message == "规则“血糖很高”：符合规则的患者 1 人（新增 0 人，移除 0 人）。"
    assert "完成。规则“血糖很高”" in client.get("/tagging/rules").get_data(as_text=True)


def test_many_rules_are_summed_up(app):
    runs = [RuleRun(i, 2, 1, 0, f"r{i}") for i in range(5)]
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            assert run_summary(runs) == "5 rules re-evaluated: 5 tags added, 0 taken off."
            assert run_summary([]) == "No rule to evaluate."
        with force_locale("zh_CN"):
            assert run_summary(runs) == "已重新评估 5 条规则：新增标签 5 个，移除 0 个。"


def test_rules_page_counts_follow_each_patients_evaluation(app, make_tenant, make_patient, give, client_for,
                                                          evaluate):
    """A patient's own evaluation (after a new result) tags or untags them between clinic-wide runs:
    the rules page counts the tags as they are."""
    t = make_tenant()
    high, low = make_patient(t).id, make_patient(t).id
    give(t, high, GLUCOSE, 9.0)
    give(t, low, GLUCOSE, 5.0)
    _drain(app)
    client = client_for(t, t.owner_email)
    assert client.submit("/tagging/rules/new", FORM).status_code == 302
    assert _count_cell(client.get("/tagging/rules").get_data(as_text=True), "血糖很高") == "—"  # not run yet
    _drain(app)
    assert _count_cell(client.get("/tagging/rules").get_data(as_text=True), "血糖很高") == "1"
    give(t, low, GLUCOSE, 9.5)
    evaluate(t, low)
    assert _count_cell(client.get("/tagging/rules").get_data(as_text=True), "血糖很高") == "2"
    give(t, high, GLUCOSE, 5.0)
    give(t, low, GLUCOSE, 5.0)
    evaluate(t, high)
    evaluate(t, low)
    assert _count_cell(client.get("/tagging/rules").get_data(as_text=True), "血糖很高") == "0"
