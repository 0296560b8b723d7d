"""KDIGO GFR category from an eGFR, given or computed by the CKD-EPI 2021
creatinine equation (race-free) with the constants of the model definition.
The eGFR is returned to three significant figures and the category read off
that value.
Contributions name the eGFR's origin: the given value or the equation."""
from app.risk.ranges import pick


def ckd_epi(equation: dict, creatinine_umol_l: float, age: int, sex: str) -> float:
    """eGFR in mL/min/1.73 m² from serum creatinine in µmol/L."""
    ratio = creatinine_umol_l / equation["creatinine_umol_per_mg_dl"] / equation["kappa"][sex]
    egfr = (equation["factor"] * min(ratio, 1) ** equation["alpha"][sex] * max(ratio, 1) ** equation["upper_exponent"]
            * equation["age_base"] ** age)
    return egfr * equation["female_factor"] if sex == "female" else egfr


def compute(definition: dict, values: dict) -> tuple[float, dict, str]:
    equation = definition["model"]["equation"]
    if "egfr" in values:
        egfr, origin = values["egfr"], "given"
    else:
        egfr, origin = ckd_epi(equation, values["creatinine"], values["age"], values["sex"]), equation["name"]
    egfr = float(f"{egfr:.3g}")
    return egfr, {"egfr": origin}, pick(definition["model"]["ranges"], egfr)["band"]
