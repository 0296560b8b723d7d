"""What other capabilities use of the health records, in one place: storing
and reading results (results.py), the indicator catalogue, trends and their
charts, abnormal-result alerts, report import, the signals records sends, and
bundle_entries: where a capability registers a FHIR resource type it files
from the lab Bundles posted to the sync API.

The models are here for other capabilities' SQL that reads them (tag rules,
plan triggers); only records writes them.
"""
from app.records import (  # noqa: F401
    alerts,
    api_tokens,
    attention,
    bundle_entries,
    catalogue,
    charts,
    importer,
    labels,
    releases,
    trends,
)
from app.records.exam_days import is_exam_result, last_exam_days, patients_examined_on  # noqa: F401  (reports' exams)
from app.records.labels import flag_words  # noqa: F401  (a flag in words: 偏高, 危急偏低)
from app.records.latest import Latest, latest_values  # noqa: F401  (the newest current value per code)
from app.records.lookup import search_indicators  # noqa: F401  (by name, code or pinyin: package items)
from app.records.many import store_for_patients  # noqa: F401  (store_many for many patients at once)
from app.records.models import ExamReport, Indicator, Observation  # noqa: F401
from app.records.results import (  # noqa: F401
    Stored,
    Value,
    derive,
    entry_moment,
    history,
    indicator_by_code,
    previous_flags,
    previous_value,
    store,
    store_many,
)
from app.records.signals import report_imported, results_stored  # noqa: F401  (others listen)
from app.records.units import display as unit_display  # noqa: F401  (mm[Hg] as mmHg)
from app.records.units import number as format_value  # noqa: F401  (a value rounded to decimals for display)
