"""RQ entry points of the records capability."""
from flask_babel import force_locale

from app.core import audit, storage
from app.records import importer, labels


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
        if summary.errors:
            message += " " + "; ".join(summary.errors[:5])
    return {"message": message[:500]}
