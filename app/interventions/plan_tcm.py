"""A TCM conditioning plan from the patient's latest constitution result.

The questionnaire stores each type's converted score as an observation
(CL-TCM-*). Per ZYYXH/T157-2009 (the determination of its tables): a biased type is the
patient's (yes) at 40 or more and a tendency at 30-39; the balanced type is
yes at 60 or more with every other type below 30, basically yes with every
other below 40. The main constitutions are the yes types, highest first;
the plan carries the advice of the main and the tendency types."""
from dataclasses import dataclass
from datetime import date

from app.core import clock
from app.interventions import plan_templates
from app.interventions.plan_start import Draft
from app.records import services as records

CODES = {
    "balanced": "CL-TCM-PINGHE", "qi_deficiency": "CL-TCM-QIXU", "yang_deficiency": "CL-TCM-YANGXU",
    "yin_deficiency": "CL-TCM-YINXU", "phlegm_dampness": "CL-TCM-TANSHI", "damp_heat": "CL-TCM-SHIRE",
    "blood_stasis": "CL-TCM-XUEYU", "qi_stagnation": "CL-TCM-QIYU", "inherited_special": "CL-TCM-TEBING",
}
YES, TENDENCY, BALANCED = 40, 30, 60  # ZYYXH/T157-2009, as in the questionnaire pack's bands


@dataclass
class Constitution:
    main: list[str]      # constitution keys, highest score first
    tendency: list[str]
    scores: dict[str, float]
    on: date | None      # the day of the result


def classify(scores: dict[str, float]) -> tuple[list[str], list[str]]:
    biased = {k: v for k, v in scores.items() if k != "balanced"}
    balanced = scores.get("balanced")
    ranked = sorted(biased, key=lambda k: -biased[k])
    main = [k for k in ranked if biased[k] >= YES]
    tendency = [k for k in ranked if TENDENCY <= biased[k] < YES]
    if balanced is not None and balanced >= BALANCED and not main:
        # balanced (every other <30) or basically balanced (every other <40): the tendencies still get advice
        main = ["balanced"]
    return main, tendency


def latest(patient_id: int) -> Constitution | None:
    """The newest constitution result: the scores stored at its time (one submission)."""
    found = records.latest_values(CODES.values(), [patient_id]).get(patient_id, {})
    if not found:
        return None
    newest = max(v.observed_at for v in found.values())
    scores = {key: found[code].value for key, code in CODES.items()
              if code in found and found[code].observed_at == newest}
    main, tendency = classify(scores)
    return Constitution(main, tendency, scores, clock.local_date(newest))


def draft(constitution: Constitution, locale: str, *, today: date | None = None) -> Draft:
    """One action per heading and constitution (main, then tendency), the advice's text in both languages."""
    today = today or clock.today()
    pack = plan_templates.conditioning_pack()
    actions = []
    for role, keys in (("main", constitution.main), ("tendency", constitution.tendency)):
        for key in keys:
            spec = pack["constitutions"][key]
            for heading, action in pack["actions"].items():
                actions.append({"key": f"{key}-{heading}"[:40], "kind": action["kind"], "per_week": action["per_week"],
                                **{k: action[k] for k in ("minutes", "source") if action.get(k)},
                                "text": spec["advice"][heading], "constitution": key, "role": role,
                                "on": True})
    template = {"key": pack["key"], "months": pack["months"], "checkin_days": pack["checkin_days"]}
    names = [plan_templates.text(pack["constitutions"][k]["name"], locale) for k in constitution.main]
    title = plan_templates.text(pack["title"], locale) + (f" ({'、'.join(names)})" if names else "")
    basis = {"main": constitution.main, "tendency": constitution.tendency,
             "scores": constitution.scores, "on": constitution.on.isoformat() if constitution.on else None}
    result = Draft(template, title[:120], [], actions, basis)
    return result
