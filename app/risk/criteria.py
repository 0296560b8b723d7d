"""Criteria counts (metabolic syndrome): each criterion is met when any of
its inputs crosses its cut-off, and the condition is present when at least
``needed`` criteria are met.

A criterion whose deciding inputs have no value is unknown. The result is
given only when the unknowns cannot change it (three criteria already met,
or too few left to reach three); otherwise the inputs of the unknown
criteria are what is needed. Inputs marked ``optional`` (a treatment read
from the health history) can make a criterion met but their absence does
not make it unknown. Contributions: for each input with a value, whether it
meets its criterion's cut-off."""
from dataclasses import dataclass

MET, NOT_MET = "criterion_met", "criterion_not_met"


@dataclass
class Verdict:
    met: int
    contributions: dict[str, str]
    band: str | None
    needed: list[str]      # inputs that would decide it, when it is undecided


def compute(definition: dict, values: dict) -> Verdict:
    model = definition["model"]
    met = unknown = 0
    contributions: dict[str, str] = {}
    needed: list[str] = []
    for criterion in model["criteria"]:
        undecided = []  # inputs without a value whose absence leaves this criterion unknown
        hit_any = False
        for test in criterion["any"]:
            hit = _meets(test, values)
            if hit is None:
                if not test.get("optional"):
                    undecided.append(test["input"])
                continue
            contributions[test["input"]] = MET if hit else NOT_MET
            hit_any = hit_any or hit
        if hit_any:
            met += 1
        elif undecided:
            unknown += 1
            needed += [name for name in undecided if name not in needed]
    if met >= model["needed"]:
        return Verdict(met, contributions, model["present"], [])
    if met + unknown < model["needed"]:
        return Verdict(met, contributions, model["absent"], [])
    return Verdict(met, contributions, None, needed)


def _meets(test: dict, values: dict) -> bool | None:
    """``{"input", "at_least": x}``, ``{"input", "below": x}`` (x a number, or one by sex) or ``{"input", "is": b}``."""
    value = values.get(test["input"])
    if value is None:
        return None
    if "is" in test:
        return value is test["is"]
    compare = "at_least" if "at_least" in test else "below"
    cut = test[compare]
    if isinstance(cut, dict):
        if values.get("sex") not in cut:
            return None
        cut = cut[values["sex"]]
    return value >= cut if compare == "at_least" else value < cut
