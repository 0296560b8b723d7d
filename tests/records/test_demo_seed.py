"""The demo data a doctor would believe: adults keep their height, weights drift plausibly, and a few
patients' latest checkup holds a clearly critical value."""
import random
import secrets
from collections import defaultdict

from sqlalchemy import select

from app.records.models import Indicator, Observation
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import tenant_by_slug

HEIGHT, WEIGHT, SYSTOLIC, DIASTOLIC, POTASSIUM = "8302-2", "29463-7", "8480-6", "8462-4", "2823-3"
# Values clearly past any laboratory's critical limit (checked by value: the limits live in the catalogue)
CLEARLY_CRITICAL = {SYSTOLIC: 180, DIASTOLIC: 110, POTASSIUM: 6.2}


def _series(app, slug: str) -> dict[int, dict[str, list[float]]]:
    with app.app_context(), tenant_context(tenant_by_slug(slug).id):
        codes = {i.id: i.code for i in db.session.scalars(select(Indicator))}
        rows = db.session.scalars(select(Observation).where(Observation.superseded_by.is_(None))
                                  .order_by(Observation.patient_id, Observation.observed_at))
        out: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            out[row.patient_id][codes[row.indicator_id]].append(row.value)
        return out


def test_demo_results_look_like_real_people(app):
    from app.seed import seed_clinic

    slug = "demo" + secrets.token_hex(4)
    with app.app_context():
        assert seed_clinic(slug, "演示诊所", patient_count=15)
    series = _series(app, slug)
    assert len(series) == 15
    for values in series.values():
        heights, weights = values[HEIGHT], values[WEIGHT]
        assert len(heights) >= 2 and max(heights) - min(heights) <= 1.0  # adults: within a centimetre
        assert min(heights) >= 140 and max(heights) <= 200
        assert all(abs(b - a) <= 8 for a, b in zip(weights, weights[1:]))  # no jumps of a stone a year
        assert all(35 <= w <= 130 for w in weights)
        systolic, diastolic = values[SYSTOLIC], values[DIASTOLIC]
        assert all(d < s for s, d in zip(systolic, diastolic))
    critical = [(patient, code, v) for patient, values in series.items()
                for code, limit in CLEARLY_CRITICAL.items() for v in values.get(code, []) if v >= limit]
    assert critical, "no critical value among the demo results"


def test_the_same_seed_gives_the_same_baseline():
    from app.seed_records import baseline

    one, two = baseline(random.Random("demo"), "F", 66), baseline(random.Random("demo"), "F", 66)
    assert one == two and 145 <= one.height <= 175


def test_every_demo_patient_has_a_checkup_within_the_year(app):
    """Risk models read inputs up to a year old: the demo's latest checkup lies within the clinic's past year."""
    from app.core import clock
    from app.risk.models import RiskAssessment
    from app.seed import seed_clinic

    slug = "demo" + secrets.token_hex(4)
    with app.app_context():
        assert seed_clinic(slug, "演示诊所", patient_count=10)
        with tenant_context(tenant_by_slug(slug).id):
            today = clock.today()
            latest = db.session.execute(select(Observation.patient_id, db.func.max(Observation.observed_at))
                                        .group_by(Observation.patient_id)).all()
            assert len(latest) == 10
            ages = sorted((today - clock.local_date(moment)).days for _, moment in latest)
            assert ages[0] >= 0 and ages[-1] <= 365, ages
            weight = db.session.scalars(select(RiskAssessment).where(RiskAssessment.model == "weight_status",
                                                                     RiskAssessment.is_current)).all()
            assert len(weight) == 10 and all(row.status == "ok" for row in weight)
