"""Query-count fixtures: a clinic, its staff, fast seeding of patients, and
``same_count``, which asks a page for 20 and then for 200 of its rows."""
from datetime import date, timedelta

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.querycount import difference, statements_of

SMALL, LARGE = 20, 200


@pytest.fixture
def same_count(app):
    """same_count(client, url, seed, shows=...): ``seed(n)`` adds n rows; the GET of
    ``url`` runs as many statements with 20 rows as with 200, and shows ``shows``
    then. Returns both counts."""

    def check(client, url: str, seed, *, shows: str = "", **kwargs) -> tuple[int, int]:
        seed(SMALL)
        # each count follows a GET of its own: caches filled once, and the session's last-seen time
        # written once a while (seeding takes a while), are not rows
        statements_of(app, client, url, **kwargs)
        few = statements_of(app, client, url, **kwargs)
        seed(LARGE - SMALL)
        statements_of(app, client, url, **kwargs)
        many = statements_of(app, client, url, **kwargs)
        assert len(few) == len(many), f"{url}: {len(few)} statements for {SMALL} rows, {len(many)} for " \
                                      f"{LARGE}\n{difference(few, many)}"
        if shows:  # the page does list the rows
            assert shows in client.get(url, **kwargs).get_data(as_text=True), f"{url} does not show {shows!r}"
        print(f"\n{url}: {len(few)} statements for {SMALL} rows, {len(many)} for {LARGE}")
        return len(few), len(many)

    return check


def add_patients(app, tenant, n: int, **extra) -> list[int]:
    """n new cards in one transaction, through the patients capability."""
    from app.patients import services as patients

    ids = []
    with app.app_context(), tenant_context(tenant.id):
        start = db.session.scalar(db.select(db.func.count()).select_from(patients.Patient)) or 0
        for i in range(start, start + n):
            data = patients.PatientData(name=f"测试{i:04d}", sex="MF"[i % 2],
                                        birth_date=date(1950, 1, 1) + timedelta(days=97 * i % 18000),
                                        mobile=f"138{tenant.id % 1000:03d}{i:05d}", **extra)
            ids.append(patients.enrol(data, consent_version="test").id)
        db.session.commit()
    return ids


def clinic_now():
    from app.core import clock

    return clock.utcnow().replace(microsecond=0)


def add_results(app, tenant, patient_ids, values: list[tuple[str, str, str]], *, days_apart: int = 0) -> None:
    """Store ``values`` [(LOINC code, value, unit)] for each patient through the records capability, as
    typed-in values are (their abnormal ones raise alerts), one patient after the other in one transaction;
    ``days_apart`` spreads repeated calls over earlier days."""
    from app.patients import services as patients
    from app.records import services as records

    with app.app_context(), tenant_context(tenant.id):
        indicators = {code: records.indicator_by_code(code) for code, _v, _u in values}
        at = clinic_now() - timedelta(days=days_apart)
        for patient_id in patient_ids:
            patient = patients.get(patient_id)
            stored = records.store_many(patient, [records.Value(indicators[code], value, unit, at)
                                                  for code, value, unit in values])
            fresh = [s.observation for s in stored if s.outcome == "new" and s.observation is not None]
            records.alerts.raise_for(patient, fresh + records.derive(patient, at))
        db.session.commit()


def add_alerts(app, tenant, n: int, **extra) -> list[int]:
    """n patients with a critical blood pressure (an open alert each, and a tag)."""
    ids = add_patients(app, tenant, n, **extra)
    add_results(app, tenant, ids, [("8480-6", "190", "mm[Hg]"), ("8462-4", "125", "mm[Hg]")])
    return ids
