"""The pack's plan templates and the TCM conditioning pack load and are checked:
every fixed target cites a source or is left to staff, codes are catalogue codes."""
import copy

import pytest

from app.interventions import plan_templates
from app.interventions.plan_templates import TemplateProblem


def test_every_template_loads_with_sources_for_its_targets():
    templates = plan_templates.intervention_templates()
    assert {"hypertension", "diabetes", "prediabetes", "overweight", "dyslipidaemia"} <= set(templates)
    for template in templates.values():
        assert template["goals"] and template["actions"]
        for goal in template["goals"]:
            assert goal.get("staff_set") or goal["source"] in plan_templates.sources()
            if goal.get("relative_pct") is not None:
                assert goal.get("staff_set"), "a relative change claims no guideline"
    assert templates["hypertension"]["goals"][0]["source"] == "cn_htn_2018"


@pytest.mark.parametrize("change, problem", [
    (lambda t: t["goals"][0].pop("source"), "cites a source"),
    (lambda t: t["goals"][0].update(code="0000-0"), "indicator catalogue"),
    (lambda t: t["goals"][0].update(comparator="about"), "comparator"),
    (lambda t: t["goals"][0].update(relative_pct=-5), "not both"),
    (lambda t: t["actions"][0].update(per_week=9), "per_week"),
    (lambda t: t["actions"][0].update(kind="magic"), "kind"),
    (lambda t: t["actions"].append(dict(t["actions"][0])), "unique"),
])
def test_a_bad_template_is_refused(change, problem):
    template = copy.deepcopy(plan_templates.template("hypertension"))
    change(template)
    with pytest.raises(TemplateProblem, match=problem):
        plan_templates.check(template)


def test_the_conditioning_pack_has_advice_for_every_constitution():
    pack = plan_templates.conditioning_pack()
    assert len(pack["constitutions"]) == 9 and pack["sources"]
    for spec in pack["constitutions"].values():
        assert set(spec["advice"]) == set(plan_templates.ADVICE)
    exercise = " ".join(spec["advice"]["exercise"]["zh"] for spec in pack["constitutions"].values())
    assert "八段锦" in exercise and "太极" in exercise
