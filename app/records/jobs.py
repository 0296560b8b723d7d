"""RQ entry points of the records capability."""
import json

from flask_babel import force_locale

from app.core import audit, storage
from app.records import importer, labels
from app.records.parse_fhir import parse_fhir
from app.records.parsed import ParseError


def import_upload(progress, *, key: str, filename: str, mapping: dict | None = None, patient_id=None,
                  locale: str = "zh_CN") -> dict:
    """A large upload: parse, import report by report, show progress; the summary in the requester's language."""
    data = storage.backend().read(key)
    progress(10, "parsing")
    with force_locale(locale):
        try:
            items = importer.parse_capped(importer.parse, data, filename, mapping)
        except importer.FileTypeError as exc:
            return {"message": str(exc)}

        def step(done: int, total: int) -> None:
            progress(10 + int(85 * done / max(total, 1)), f"{done}/{total}")

        summary = importer.import_parsed(items, actor_id=progress.run.requested_by, progress=step, commit_every=50)
        audit.record("reports_imported", actor_id=progress.run.requested_by, file=filename[:100],
                     reports=summary.imported, results=summary.results, unmatched=summary.unmatched,
                     errors=len(summary.errors))
        message = labels.import_summary(summary)
        if summary.errors or summary.warnings:
            message += " " + "; ".join((summary.errors + summary.warnings)[:5])
    return {"message": message[:500]}


def import_api_bundle(progress, *, key: str, token_id: int, patient_id=None) -> dict:
    """A large FHIR bundle posted to the API: parsed under the memory ceiling, imported report by report;
    the summary (JSON, what the status address answers with) in English, as the API answers."""
    data = storage.backend().read(key)
    progress(10, "parsing")
    with force_locale("en"):
        try:
            items = importer.parse_capped(parse_fhir, data)
        except importer.FileTypeError as exc:
            items = [ParseError("body", str(exc))]

        def step(done: int, total: int) -> None:
            progress(10 + int(85 * done / max(total, 1)), f"{done}/{total}")

        summary = importer.import_parsed(items, actor_id=None, api_token_id=token_id, progress=step,
                                         commit_every=50)
    audit.record("reports_imported", **importer.import_actor(None, token_id), format="fhir",
                 reports=summary.imported, results=summary.results, unmatched=summary.unmatched,
                 errors=len(summary.errors))
    storage.backend().delete(key)
    report = summary.as_dict()
    report["errors"], report["warnings"] = report["errors"][:20], report["warnings"][:20]
    del report["report_ids"]
    message = json.dumps(report, ensure_ascii=False)
    while len(message) > 500 and (report["errors"] or report["warnings"]):
        (report["warnings"] or report["errors"]).pop()
        message = json.dumps(report, ensure_ascii=False)
    return {"message": message[:500], "name": f"token:{token_id}"}
