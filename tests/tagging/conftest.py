"""Fixtures for tag rules: clinics with crafted patients and results."""
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.patients.models import Patient
from tenants.context import tenant_context
from tenants.db import db


def now() -> datetime:
    """The pinned clock's time, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def as_tenant(app):
    @contextmanager
    def enter(tenant):
        with app.app_context(), tenant_context(tenant.id):
            yield

    return enter


@pytest.fixture
def give(app):
    """give(tenant, patient_id, code, value, unit="", days_ago=0, flag="") stores one result."""
    from app.records import services as records

    def store(tenant, patient_id, code, value, unit="", days_ago=0, flag="", when=None):
        with app.app_context(), tenant_context(tenant.id):
            patient = db.session.get(Patient, (tenant.id, patient_id))
            indicator = records.indicator_by_code(code)
            at = when or now() - timedelta(days=days_ago)
            stored = records.store(patient, records.Value(indicator, str(value), unit or indicator.unit, at,
                                                          lab_flag=flag))
            db.session.commit()
            return stored.observation.id if stored.observation else None

    return store


@pytest.fixture
def tagged(app):
    """tagged(tenant, patient_id) -> {rule name: evidence} of a patient's automatic tags."""
    from app.tagging.models import PatientTag, TagRule

    def read(tenant, patient_id):
        with app.app_context(), tenant_context(tenant.id):
            rows = db.session.execute(select(TagRule.name, PatientTag.evidence).join(
                PatientTag, (PatientTag.rule_id == TagRule.id) & (PatientTag.tenant_id == TagRule.tenant_id))
                .where(PatientTag.patient_id == patient_id))
            return {name: evidence for name, evidence in rows}

    return read


@pytest.fixture
def evaluate(app):
    """evaluate(tenant, patient_id) runs the per-patient evaluation and commits."""
    from app.tagging import services

    def run(tenant, patient_id):
        with app.app_context(), tenant_context(tenant.id):
            changes = services.evaluate_patient(patient_id)
            db.session.commit()
            return changes

    return run


@pytest.fixture
def make_rule(app):
    """make_rule(tenant, condition, name=..., tag=...) saves a checked rule (no evaluation)."""
    from app.tagging import rules

    def make(tenant, condition, name="测试规则", tag="测试标签", active=True):
        with app.app_context(), tenant_context(tenant.id):
            draft = rules.RuleDraft(name=name, tag=tag, condition=condition, active=active)
            rule = rules.save(draft, rules.check(draft))
            db.session.commit()
            return rule.id

    return make


def leaf(code, cmp, value, unit="", measure="latest", **extra):
    return {"source": "indicator", "code": code, "measure": measure, "cmp": cmp, "value": value, "unit": unit,
            **extra}


def group(op, *items):
    return {"op": op, "items": list(items)}


def only(*leaves_, op="and"):
    """A rule of one group."""
    return group("and", group(op, *leaves_))


@pytest.fixture
def adult():
    return date(1980, 5, 17)


@pytest.fixture
def holds(app):
    """holds(tenant, rule_id, patient_ids) -> the patients the rule tags.
    Evaluates per patient and set-based, and checks both agree (evidence too)."""
    from sqlalchemy import delete

    from app.tagging import services
    from app.tagging.models import PatientTag

    def rows(rule_id=None):
        query = select(PatientTag.rule_id, PatientTag.patient_id, PatientTag.evidence)
        if rule_id is not None:
            query = query.where(PatientTag.rule_id == rule_id)
        return {(r.rule_id, r.patient_id): r.evidence for r in db.session.execute(query)}

    def check(tenant, rule_id, patient_ids):
        """rule_id None: every rule; returns {rule_id: patients} then."""
        with app.app_context(), tenant_context(tenant.id):
            for patient_id in patient_ids:
                services.evaluate_patient(patient_id)
            db.session.commit()
            one_by_one = rows(rule_id)
            wipe = delete(PatientTag)
            db.session.execute(wipe if rule_id is None else wipe.where(PatientTag.rule_id == rule_id))
            db.session.commit()
            services.evaluate_rules(None if rule_id is None else [rule_id])
            db.session.commit()
            set_based = rows(rule_id)
        assert one_by_one == set_based
        if rule_id is None:
            found = {}
            for rule, patient in set_based:
                found.setdefault(rule, set()).add(patient)
            return found
        return {patient for _rule, patient in set_based}

    return check
