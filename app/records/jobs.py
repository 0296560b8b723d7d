"""RQ entry points of the records capability."""
from app.core import storage
from app.records import importer


def import_upload(progress, *, key: str, filename: str, mapping: dict | None = None, patient_id=None) -> dict:
    """A large upload: parse, import report by report, show progress."""
    data = storage.backend().read(key)
    progress(10, "parsing")
    try:
        items = importer.parse(data, filename, mapping)
    except importer.FileTypeError as exc:
        return {"message": str(exc)}

    def step(done: int, total: int) -> None:
        progress(10 + int(85 * done / max(total, 1)), f"{done}/{total}")

    summary = importer.import_parsed(items, actor_id=progress.run.requested_by, progress=step, commit_every=50)
    message = (f"imported {summary.imported}, results {summary.results}, duplicates {summary.duplicates}, "
               f"unmatched {summary.unmatched}, errors {len(summary.errors)}")
    if summary.errors:
        message += ": " + "; ".join(summary.errors[:5])
    return {"message": message[:500]}
