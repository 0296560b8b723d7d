"""Compile a rule's condition tree to one SELECT over patients.

The SELECT returns ``patient_id`` and ``evidence`` (a JSON object per leaf:
``{"c0": {"ok": 1, "v": 145.0, "at": ...}, ...}``) for every matching patient.
The same statement serves a whole clinic (set-based, INSERT ... SELECT) and
one patient (``patient_id`` given: every derived table is filtered to that
patient too, so it costs a few index probes). Values of an indicator are
ranked newest first in a CTE; the leaves join the ranks they need.
"""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import JSON, BigInteger, FromClause, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from app.core import clock
from app.patients import services as patients
from app.records import services as records
from app.tagging import conditions
from tenants.db import UTCDateTime


class Compiler:
    """One compiler per tree: leaves register the derived tables they need.

    The patient and the "within N days" cut-offs are bound parameters
    (``patient_id``, ``since_<N>``) carrying this run's values, so a statement
    built once can run again for another patient or moment: pass
    ``params(patient_id, now)``. Ages compile to dates of ``today``.
    """

    def __init__(self, tenant_id: int, indicators: dict, *, patient_id: int | None = None,
                 now: datetime | None = None, dialect: str = "postgresql", prefix: str = ""):
        self.tenant_id, self.patient_id, self.indicators = tenant_id, patient_id, indicators
        self.now = (now or clock.utcnow()).astimezone(timezone.utc)
        self.today: date = clock.local_date(self.now, tenant_id)
        self.dialect, self.prefix = dialect, prefix or "t"
        self.patients = patients.Patient.__table__.alias(f"{self.prefix}_p")
        self.patient = None if patient_id is None else bindparam("patient_id", patient_id, type_=BigInteger)
        self.windows: set[int] = set()  # the N of every "within N days"
        self._joins: list = []
        self._ranked: dict = {}
        self._nth: dict = {}
        self._count = 0

    def _name(self, kind: str) -> str:
        self._count += 1
        return f"{self.prefix}_{kind}{self._count}"

    # ------------------------------------------------------ derived tables

    def ranked(self, indicator_id: int, numeric: bool = True):
        """A CTE of one indicator's current values, ranked newest first per patient."""
        key = (indicator_id, numeric)
        if key not in self._ranked:
            o = records.Observation.__table__.alias(self._name("o"))
            rank = func.row_number().over(partition_by=o.c.patient_id,
                                          order_by=(o.c.observed_at.desc(), o.c.id.desc()))
            where = [o.c.tenant_id == self.tenant_id, o.c.indicator_id == indicator_id, o.c.superseded_by.is_(None)]
            if numeric:
                where.append(o.c.value.is_not(None))
            if self.patient is not None:
                where.append(o.c.patient_id == self.patient)
            self._ranked[key] = (select(o.c.patient_id, o.c.value, o.c.flag, o.c.observed_at, rank.label("rn"))
                                 .where(*where).cte(self._name("r")))
        return self._ranked[key]

    def _join(self, derived) -> None:
        self._joins.append((derived, derived.c.patient_id == self.patients.c.id))

    def nth(self, indicator_id: int, n: int, numeric: bool = True):
        """The patient's n-th newest value (1 = latest) of an indicator."""
        key = (indicator_id, n, numeric)
        if key not in self._nth:
            ranked = self.ranked(indicator_id, numeric)
            derived = (select(ranked.c.patient_id, ranked.c.value, ranked.c.flag, ranked.c.observed_at)
                       .where(ranked.c.rn == n).subquery(self._name("n")))
            self._join(derived)
            self._nth[key] = derived
        return self._nth[key]

    def last_n(self, indicator_id: int, count: int, cmp: str, threshold: float):
        """How many of the last ``count`` values there are and how many meet ``cmp threshold``."""
        ranked = self.ranked(indicator_id)
        ok = func.sum(case((conditions.compare(ranked.c.value, cmp, threshold), 1), else_=0))
        derived = (select(ranked.c.patient_id, func.count().label("n"), ok.label("ok"),
                          func.min(ranked.c.value).label("vmin"), func.max(ranked.c.value).label("vmax"),
                          func.min(ranked.c.observed_at).label("first_at"),
                          func.max(ranked.c.observed_at).label("last_at"))
                   .where(ranked.c.rn <= count).group_by(ranked.c.patient_id).subquery(self._name("w")))
        self._join(derived)
        return derived

    def days_ago(self, days: int):
        self.windows.add(days)
        return bindparam(f"since_{days}", self.now - timedelta(days=days), type_=UTCDateTime())

    @staticmethod
    def params(windows, patient_id: int | None, now: datetime) -> dict:
        """Execution parameters for a statement built earlier."""
        values = {f"since_{days}": now - timedelta(days=days) for days in windows}
        return values | ({"patient_id": patient_id} if patient_id is not None else {})

    # ------------------------------------------------------------- JSON

    def json_object(self, pairs: dict):
        args = []
        for key, value in pairs.items():
            args += [literal_column(f"'{key}'"), value]
        if self.dialect == "postgresql":
            return func.jsonb_build_object(*args, type_=JSONB)
        return func.json_object(*args, type_=JSON)

    # ---------------------------------------------------------- compiling

    def compile(self, tree: dict):
        """(test, evidence) for a tree."""
        evidence = {}
        counter = iter(range(10_000))

        def walk(node: dict):
            if conditions.is_group(node):
                tests = [walk(item) for item in node["items"]]
                return (and_ if node.get("op") == "and" else or_)(*tests)
            position = next(counter)
            compiled = conditions.SOURCES[node["source"]].compile(node, self)
            evidence[f"c{position}"] = self.json_object(
                {"ok": case((compiled.test, 1), else_=0), **compiled.evidence})
            return compiled.test

        test = walk(tree)
        return test, self.json_object(evidence)

    def _from(self):
        joined: FromClause = self.patients
        for derived, on in self._joins:
            joined = joined.outerjoin(derived, on)
        return joined

    def _where(self, test) -> list:
        where = [self.patients.c.tenant_id == self.tenant_id, test]
        if self.patient is not None:
            where.append(self.patients.c.id == self.patient)
        return where

    def matches(self, tree: dict):
        """SELECT patient_id, evidence of the patients the tree holds for."""
        test, evidence = self.compile(tree)
        return (select(self.patients.c.id.label("patient_id"), evidence.label("evidence"))
                .select_from(self._from()).where(*self._where(test)))

    def matching_ids(self, tree: dict):
        """SELECT patient_id only (for counts and removals)."""
        test, _evidence = self.compile(tree)
        return select(self.patients.c.id.label("patient_id")).select_from(self._from()).where(*self._where(test))
