"""Values computed from others: BMI and eGFR (CKD-EPI 2021)."""
import math

BMI_CODE, HEIGHT_CODE, WEIGHT_CODE = "39156-5", "8302-2", "29463-7"
EGFR_CODE, CREATININE_CODE = "98979-8", "14682-9"


def bmi(height_cm: float, weight_kg: float) -> float | None:
    if not height_cm or height_cm <= 0 or weight_kg <= 0:
        return None
    metres = height_cm / 100
    return weight_kg / (metres * metres)


def egfr_ckd_epi_2021(creatinine_umol_l: float, age: int, sex: str) -> float | None:
    """Inker et al., NEJM 2021;385:1737 (race-free CKD-EPI creatinine equation).
    Adults only."""
    if creatinine_umol_l <= 0 or age < 18 or sex not in ("M", "F"):
        return None
    scr = creatinine_umol_l / 88.4  # mg/dL
    female = sex == "F"
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr / kappa
    value = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938 ** age
    return value * (1.012 if female else 1.0)


def ckd_stage(egfr: float) -> str:
    """KDIGO G stages."""
    for limit, stage in ((90, "G1"), (60, "G2"), (45, "G3a"), (30, "G3b"), (15, "G4")):
        if egfr >= limit:
            return stage
    return "G5" if not math.isnan(egfr) else ""
