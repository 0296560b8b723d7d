"""The built-in condition sources: indicator results, age, sex, health
history items and habits. Each compiles a leaf to SQL through
app.tagging.compiler; see app.tagging.conditions for the interface."""
from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, not_, or_, select

from app.core import clock
from app.patients import services as patients
from app.records import services as records
from app.tagging.conditions import (
    CMP,
    FLAGS,
    Compiled,
    RuleError,
    Source,
    _when,
    compare,
    fmt,
    integer,
    number,
    register,
)

# ------------------------------------------------------------- indicators

MEASURES = {
    "latest": _l("latest value"),
    "persist": _l("each of the last N values"),
    "change": _l("change since the previous value"),
    "change_pct": _l("change since the previous value, %"),
    "flag": _l("flag of the latest value"),
}


class IndicatorSource(Source):
    """An indicator from the catalogue: its latest value (optionally no older
    than N days), its flag, a value holding over the last N checkups, or the
    change since the previous checkup. Thresholds may be written in any unit
    the catalogue converts; they are compared in the catalogue unit."""

    key = "indicator"
    label = _l("Indicator result")
    fields = ("code", "measure", "cmp", "value", "unit", "days", "count", "flags")

    def validate(self, leaf, indicators):
        errors: dict[str, str] = {}
        out: dict[str, Any] = {"source": self.key, "code": str(leaf.get("code") or "").strip()}
        indicator = indicators.get(out["code"])
        if not out["code"]:
            errors["code"] = _("Please choose an indicator.")
        elif indicator is None:
            errors["code"] = _("Unknown indicator %(code)s: it is not in this clinic's catalogue.", code=out["code"])
        measure = leaf.get("measure") or "latest"
        if measure not in MEASURES:
            errors["measure"] = _("Please choose what to compare.")
        out["measure"] = measure
        if measure == "flag":
            flags = leaf.get("flags") or []
            flags = [flags] if isinstance(flags, str) else list(flags)
            out["flags"] = [f for f in FLAGS if f in flags]
            if not out["flags"]:
                errors["flags"] = _("Please tick at least one flag.")
        else:
            out["cmp"] = self._cmp(leaf, errors)
            out["value"] = number(leaf.get("value"))
            if out["value"] is None:
                errors["value"] = _("Please enter a number.")
            if measure != "change_pct":
                unit = records.catalogue.normalise_unit(str(leaf.get("unit") or ""))
                out["unit"] = unit or (indicator.unit if indicator else "")
                if indicator is not None:
                    try:
                        records.catalogue.convert(1.0, out["unit"], indicator)
                    except records.catalogue.CatalogueError:
                        errors["unit"] = _("%(unit)s cannot be converted to %(target)s; the catalogue knows %(units)s.",
                                           unit=out["unit"], target=indicator.unit or "—",
                                           units=", ".join([indicator.unit, *(indicator.alt_units or {})]) or "—")
        if measure in ("latest", "flag") and str(leaf.get("days") or "").strip():
            out["days"] = integer(leaf.get("days"))
            if out["days"] is None or not 1 <= out["days"] <= 3650:
                errors["days"] = _("Days must be a whole number from 1 to 3650.")
        if measure == "persist":
            out["count"] = integer(leaf.get("count"))
            if out["count"] is None or not 2 <= out["count"] <= 20:
                errors["count"] = _("The number of checkups must be from 2 to 20.")
        if errors:
            raise RuleError(errors)
        return out

    def threshold(self, leaf, indicator) -> float:
        """The leaf's number in the catalogue unit (a factor, so it holds for changes too)."""
        if leaf["measure"] == "change_pct":
            return leaf["value"]
        return records.catalogue.convert(leaf["value"], leaf.get("unit") or indicator.unit, indicator)

    def bounds(self, leaf, indicators):
        if leaf["measure"] == "flag":
            return None
        key = ("indicator", leaf["code"], leaf["measure"], leaf.get("count"))
        return key, leaf["cmp"], self.threshold(leaf, indicators[leaf["code"]])

    def compile(self, leaf, compiler):
        indicator = compiler.indicators[leaf["code"]]
        measure = leaf["measure"]
        if measure == "flag":
            latest = compiler.nth(indicator.id, 1, numeric=False)
            test = latest.c.flag.in_(leaf["flags"])
            if leaf.get("days"):
                test = and_(test, latest.c.observed_at >= compiler.days_ago(leaf["days"]))
            return Compiled(test, {"v": latest.c.value, "f": latest.c.flag, "at": latest.c.observed_at})
        threshold = self.threshold(leaf, indicator)
        if measure == "latest":
            latest = compiler.nth(indicator.id, 1)
            test = compare(latest.c.value, leaf["cmp"], threshold)
            if leaf.get("days"):
                test = and_(test, latest.c.observed_at >= compiler.days_ago(leaf["days"]))
            return Compiled(test, {"v": latest.c.value, "f": latest.c.flag, "at": latest.c.observed_at})
        if measure in ("change", "change_pct"):
            latest, previous = compiler.nth(indicator.id, 1), compiler.nth(indicator.id, 2)
            delta = latest.c.value - previous.c.value
            if measure == "change_pct":
                delta = case((previous.c.value != 0, delta * 100.0 / previous.c.value))
            return Compiled(compare(delta, leaf["cmp"], threshold),
                            {"v": latest.c.value, "at": latest.c.observed_at, "pv": previous.c.value,
                             "pat": previous.c.observed_at})
        window = compiler.last_n(indicator.id, leaf["count"], leaf["cmp"], threshold)
        test = and_(window.c.n == leaf["count"], window.c.ok == leaf["count"])
        return Compiled(test, {"n": window.c.n, "min": window.c.vmin, "max": window.c.vmax,
                               "from": window.c.first_at, "to": window.c.last_at})

    def describe(self, leaf, indicators):
        indicator = indicators.get(leaf.get("code"))
        name = records.labels.indicator_name(indicator) if indicator else leaf.get("code", "?")
        measure = leaf.get("measure", "latest")
        if measure == "flag":
            flags = "/".join(records.flag_words(f) or f for f in leaf.get("flags") or [])
            text = _("%(name)s: latest value flagged %(flags)s", name=name, flags=flags)
        else:
            unit = "%" if measure == "change_pct" else records.unit_display(
                leaf.get("unit") or (indicator.unit if indicator else ""), str(get_locale()))
            limit = f"{CMP.get(leaf.get('cmp'), leaf.get('cmp'))} {fmt(leaf.get('value'))} {unit}".strip()
            text = {
                "latest": _("%(name)s latest value %(limit)s", name=name, limit=limit),
                "persist": _("%(name)s %(limit)s in each of the last %(n)s values", name=name, limit=limit,
                             n=leaf.get("count")),
                "change": _("%(name)s changed by %(limit)s since the previous value", name=name, limit=limit),
                "change_pct": _("%(name)s changed by %(limit)s since the previous value", name=name, limit=limit),
            }.get(measure, name)
        if leaf.get("days"):
            text += " " + _("(within %(days)d days)", days=leaf["days"])
        return text

    def explain(self, leaf, evidence, indicators):
        indicator = indicators.get(leaf.get("code"))
        unit = records.unit_display(indicator.unit, str(get_locale())) if indicator else ""

        def shown(value):  # the indicator's decimals, as everywhere a result is shown
            if indicator is not None and isinstance(value, int | float) and not isinstance(value, bool):
                return records.format_value(value, indicator.decimals)
            return fmt(value)

        measure = leaf.get("measure")
        if measure in ("latest", "flag"):
            words = records.flag_words(evidence.get("f"))
            flag = f" [{words or evidence['f']}]" if evidence.get("f") else ""
            return _("%(value)s %(unit)s%(flag)s on %(date)s", value=shown(evidence.get("v")), unit=unit, flag=flag,
                     date=_when(evidence.get("at")))
        if measure in ("change", "change_pct"):
            return _("%(previous)s on %(then)s → %(value)s %(unit)s on %(date)s", previous=shown(evidence.get("pv")),
                     then=_when(evidence.get("pat")), value=shown(evidence.get("v")), unit=unit,
                     date=_when(evidence.get("at")))
        return _("%(n)s values from %(low)s to %(high)s %(unit)s, %(first)s to %(last)s", n=evidence.get("n"),
                 low=shown(evidence.get("min")), high=shown(evidence.get("max")), unit=unit,
                 first=_when(evidence.get("from")), last=_when(evidence.get("to")))


# ------------------------------------------------------------ demographics

def years_before(day: date, years: int) -> date:
    """The latest birth date of someone who is ``years`` old on ``day``."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


class AgeSource(Source):
    """Age in whole years today, compiled to birth-date bounds (index-friendly,
    the same SQL on every database)."""

    key = "age"
    label = _l("Age")
    fields = ("cmp", "value")

    def validate(self, leaf, indicators):
        errors: dict[str, str] = {}
        out: dict[str, Any] = {"source": self.key, "cmp": self._cmp(leaf, errors), "value": integer(leaf.get("value"))}
        if out["value"] is None or not 0 <= out["value"] <= 130:
            errors["value"] = _("Age must be a whole number of years from 0 to 130.")
        if errors:
            raise RuleError(errors)
        return out

    def bounds(self, leaf, indicators):
        return ("age",), leaf["cmp"], leaf["value"]

    def compile(self, leaf, compiler):
        born, today, n = compiler.patients.c.birth_date, compiler.today, leaf["value"]
        at_least = born <= years_before(today, n)          # age >= n
        above = born <= years_before(today, n + 1)         # age >= n + 1
        test = {">=": at_least, ">": above, "<": not_(at_least), "<=": not_(above),
                "=": and_(at_least, not_(above)), "!=": or_(not_(at_least), above)}[leaf["cmp"]]
        return Compiled(test, {"born": born})

    def describe(self, leaf, indicators):
        return _("age %(cmp)s %(n)s", cmp=CMP.get(leaf.get("cmp"), ""), n=fmt(leaf.get("value")))

    def explain(self, leaf, evidence, indicators):
        born = evidence.get("born")
        if not born:
            return self.describe(leaf, indicators)
        born = date.fromisoformat(str(born)[:10])
        return _("age %(n)d (born %(born)s)", n=clock.age(born), born=born.isoformat())


class SexSource(Source):
    key = "sex"
    label = _l("Sex")
    fields = ("choice",)

    def validate(self, leaf, indicators):
        if leaf.get("choice") not in ("M", "F"):
            raise RuleError({"choice": _("Please choose a sex.")})
        return {"source": self.key, "choice": leaf["choice"]}

    def bounds(self, leaf, indicators):
        return ("sex",), "=", 1 if leaf["choice"] == "M" else 2

    def compile(self, leaf, compiler):
        return Compiled(compiler.patients.c.sex == leaf["choice"], {"sex": compiler.patients.c.sex})

    def describe(self, leaf, indicators):
        return _("sex is male") if leaf.get("choice") == "M" else _("sex is female")


class HistorySource(Source):
    """An item of the health history (past illness, surgery, allergy, family
    history, medication), optionally containing some words; or its absence."""

    key = "history"
    label = _l("Health history")
    fields = ("kind", "text", "present")

    def validate(self, leaf, indicators):
        errors = {}
        if leaf.get("kind") not in patients.HISTORY_KINDS:
            errors["kind"] = _("Please choose a kind of history item.")
        text = " ".join(str(leaf.get("text") or "").split())
        if len(text) > 60:
            errors["text"] = _("At most 60 characters.")
        if errors:
            raise RuleError(errors)
        present = leaf.get("present") not in (False, "0", "no", "false")
        return {"source": self.key, "kind": leaf["kind"], "text": text, "present": present}

    def to_form(self, leaf):
        return super().to_form(leaf) | {"present": "1" if leaf.get("present", True) not in (False, "0") else "0"}

    def compile(self, leaf, compiler):
        h = patients.HealthHistoryItem.__table__.alias()
        where = [h.c.tenant_id == compiler.tenant_id, h.c.patient_id == compiler.patients.c.id,
                 h.c.kind == leaf["kind"]]
        if leaf["text"]:
            where.append(h.c.description.icontains(leaf["text"], autoescape=True))
        if leaf["present"]:
            found = select(func.min(h.c.description)).where(*where).scalar_subquery()
            return Compiled(found.is_not(None), {"text": found})
        return Compiled(not_(exists().where(*where)), {})

    def describe(self, leaf, indicators):
        kind = patients.labels.HISTORY_KIND.get(leaf.get("kind"), leaf.get("kind"))
        words = leaf.get("text") or ""
        if leaf.get("present", True):
            return _("%(kind)s mentions “%(words)s”", kind=kind, words=words) if words else \
                _("has an entry in %(kind)s", kind=kind)
        return _("%(kind)s does not mention “%(words)s”", kind=kind, words=words) if words else \
            _("no entry in %(kind)s", kind=kind)

    def explain(self, leaf, evidence, indicators):
        if evidence.get("text"):
            return f"{self.describe(leaf, indicators)}: {evidence['text']}"
        return self.describe(leaf, indicators)


class LifestyleSource(Source):
    """Smoking, alcohol and exercise as recorded in the health history."""

    key = "lifestyle"
    label = _l("Habits")
    fields = ("habit", "choice")

    @staticmethod
    def options() -> dict:
        labels = patients.labels
        return {"smoking": labels.SMOKING, "alcohol": labels.ALCOHOL, "exercise": labels.EXERCISE}

    def validate(self, leaf, indicators):
        options = self.options()
        if leaf.get("habit") not in options:
            raise RuleError({"habit": _("Please choose a habit.")})
        if leaf.get("choice") not in options[leaf["habit"]] or not leaf.get("choice"):
            raise RuleError({"choice": _("Please choose a value.")})
        return {"source": self.key, "habit": leaf["habit"], "choice": leaf["choice"]}

    def bounds(self, leaf, indicators):
        return ("lifestyle", leaf["habit"]), "=", hash(leaf["choice"])

    def compile(self, leaf, compiler):
        column = compiler.patients.c[leaf["habit"]]
        return Compiled(column == leaf["choice"], {"v": column})

    def describe(self, leaf, indicators):
        options = self.options()
        habit = {"smoking": _("Smoking"), "alcohol": _("Alcohol"), "exercise": _("Exercise")}.get(leaf.get("habit"), "")
        return f"{habit}: {options.get(leaf.get('habit'), {}).get(leaf.get('choice'), leaf.get('choice'))}"


for _source in (IndicatorSource(), AgeSource(), SexSource(), HistorySource(), LifestyleSource()):
    register(_source)
