"""Batch printing: the reports of many patients in one job. The patients and their exam days are fixed when
the batch is made (a clinic day's exams, a tag's patients with their newest exam, or a group exam sold as a
package); the job prints each report it has not printed yet, committing each one, so a batch resumed after
its worker died does not print a finished report again. It ends with one PDF (a cover list, then every
report) or a ZIP of the files."""
import io
import zipfile
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from pypdf import PdfWriter
from sqlalchemy import select

from app.booking import services as booking
from app.clinic import services as clinic_profile
from app.core import audit, jobs, storage
from app.core.errors import FieldErrors
from app.core.pdf import render_document
from app.patients import services as patients
from app.records import services as records
from app.reports import printing, styles
from app.reports.models import HealthReport, ReportBatch
from app.tagging import services as tagging
from tenants.db import db
from tenants.models import utcnow

KIND = "report_batch"
HANDLER = "app.reports.batches.print_batch"
MAX_ITEMS = 500
STALE_SECONDS = 120  # a run this long without a report printed has lost its worker


def choose(kind: str, *, day: date | None = None, tag: str = "", package_id: int | None = None,
           since: date | None = None, until: date | None = None) -> tuple[str, dict, list[list]]:
    """(title, selection, items) of a choice; FieldErrors name the field that is wrong."""
    if kind == "day":
        title, selection, items = _of_day(day)
    elif kind == "tag":
        title, selection, items = _of_tag(tag)
    elif kind == "package":
        title, selection, items = _of_package(package_id, since, until)
    else:
        raise FieldErrors({"kind": _("Choose whose reports to print.")})
    if not items:
        raise FieldErrors({"kind": _("No patient of this choice has exam results to print.")})
    if len(items) > MAX_ITEMS:
        raise FieldErrors({"kind": _("%(n)d patients: print at most %(max)d in one batch.", n=len(items),
                                     max=MAX_ITEMS)})
    return title, selection, items


def _of_day(day: date | None) -> tuple[str, dict, list[list]]:
    if day is None:
        raise FieldErrors({"day": _("Enter the exam day.")})
    items = [[pid, day.isoformat()] for pid in records.patients_examined_on(day)]
    return _("Exams of %(date)s", date=day.isoformat()), {"kind": "day", "day": day.isoformat()}, items


def _of_tag(tag: str) -> tuple[str, dict, list[list]]:
    found = next((t for t in tagging.all_tags() if t.name == tag.strip()), None)
    if found is None:
        raise FieldErrors({"tag": _("Choose one of the clinic's tags.")})
    days = records.last_exam_days(list(tagging.holders(found.name)))
    items = [[pid, days[pid].isoformat()] for pid in sorted(days, key=lambda p: (days[p], p))]
    return _("Tag %(tag)s", tag=found.name), {"kind": "tag", "tag": found.name}, items


def _of_package(package_id: int | None, since: date | None, until: date | None) -> tuple[str, dict, list[list]]:
    """A group exam (团检) sold as a package of its own: its completed orders whose day has results."""
    package = booking.get_package(package_id) if package_id else None
    errors = {} if package is not None else {"package_id": _("Choose an exam package.")}
    if since is None or until is None or since > until:
        errors["since"] = _("Enter the first and last day of the group exam, the first before the last.")
    if errors or package is None or since is None or until is None:
        raise FieldErrors(errors)
    orders = booking.completed_of_package(package.id, since, until)
    examined = {day: set(records.patients_examined_on(day)) for day in {day for _pid, day in orders}}
    items = [[pid, day.isoformat()] for pid, day in orders if pid in examined[day]]
    title = _("%(package)s, %(since)s to %(until)s", package=package.name, since=since.isoformat(),
              until=until.isoformat())
    return title, {"kind": "package", "package_id": package.id, "since": since.isoformat(),
                   "until": until.isoformat()}, items


def create(title: str, selection: dict, items: list[list], *, output: str, locale: str,
           requested_by: int | None, template_key: str = styles.DEFAULT_TEMPLATE) -> tuple[ReportBatch, jobs.JobRun]:
    if output not in ("merged", "zip"):
        raise FieldErrors({"output": _("Choose one PDF or a ZIP of files.")})
    if template_key not in styles.templates():
        raise FieldErrors({"template": _("Choose one of the report templates.")})
    selection = {**selection, "template": template_key}
    batch = ReportBatch(title=title[:200], selection=selection, items=items, output=output, locale=locale,
                        requested_by=requested_by)
    db.session.add(batch)
    db.session.flush()
    audit.record("report_batch_started", batch_id=batch.id, patients=len(items))
    return batch, start(batch, requested_by=requested_by)


def start(batch: ReportBatch, *, requested_by: int | None) -> jobs.JobRun:
    """Queue the batch's job and remember its run (commits, as jobs.start does)."""
    batch.updated_at = utcnow()
    run = jobs.start(KIND, HANDLER, requested_by=requested_by, batch_id=batch.id)
    batch.run_id = run.id
    db.session.commit()
    return run


def get(batch_id: int) -> ReportBatch | None:
    return db.session.scalar(select(ReportBatch).where(ReportBatch.id == batch_id))


def recent(limit: int = 20) -> list[ReportBatch]:
    return list(db.session.scalars(select(ReportBatch).order_by(ReportBatch.id.desc()).limit(limit)))


def latest_run(batch: ReportBatch) -> jobs.JobRun | None:
    return jobs.get_run(batch.run_id) if batch.run_id else None


def resumable(batch: ReportBatch, run: jobs.JobRun | None, now: datetime) -> bool:
    """Not finished and nobody is printing it: its run failed, or has printed nothing for STALE_SECONDS (its
    worker died; a report takes seconds)."""
    if batch.status == "finished":
        return False
    if run is None or run.status == "failed":
        return True
    return (now - batch.updated_at).total_seconds() > STALE_SECONDS


def resume(batch: ReportBatch, *, requested_by: int | None) -> jobs.JobRun:
    audit.record("report_batch_resumed", batch_id=batch.id, done=batch.done_count, patients=len(batch.items))
    return start(batch, requested_by=requested_by)


def printed(batch_id: int) -> dict[int, HealthReport]:
    return {r.patient_id: r for r in db.session.scalars(select(HealthReport).where(HealthReport.batch_id == batch_id))}


def print_batch(progress, *, batch_id: int, patient_id: int | None = None) -> dict:
    batch = get(batch_id)
    if batch is None:
        raise LookupError("batch not found")
    done = printed(batch.id)
    total = len(batch.items)
    skipped = []
    for position, (pid, day_text) in enumerate(batch.items, start=1):
        if pid in done:
            continue
        patient = patients.get(pid)
        try:
            if patient is None:
                raise LookupError("patient not found")
            rendered = printing.render(patient, date.fromisoformat(day_text), batch.locale,
                                       template_key=batch.selection.get("template", styles.DEFAULT_TEMPLATE))
        except LookupError:
            skipped.append(pid)
            continue
        key = storage.new_key(batch.tenant_id, "reports", ".pdf")
        storage.backend().save(key, rendered.data)
        report = HealthReport(patient_id=pid, exam_date=date.fromisoformat(day_text), locale=batch.locale,
                              storage_key=key, file_name=f"health-report-{patient.card_no}-{day_text}.pdf",
                              pages=rendered.pages, size_bytes=len(rendered.data),
                              printed_by=progress.run.requested_by, batch_id=batch.id,
                              template_key=batch.selection.get("template", styles.DEFAULT_TEMPLATE))
        db.session.add(report)
        done[pid] = report
        batch.done_count, batch.updated_at = len(done), utcnow()
        progress(5 + 85 * position // total, _("%(done)d of %(total)d printed", done=len(done), total=total))
        # the progress commits: this report is kept whatever happens to the worker next
    result = _assemble(batch, [done[pid] for pid, _day in batch.items if pid in done])
    batch.status, batch.finished_at = "finished", utcnow()
    batch.result_key, batch.result_name = result
    audit.record("report_batch_printed", actor_id=progress.run.requested_by, batch_id=batch.id,
                 reports=len(done), skipped=len(skipped))
    return {"key": batch.result_key, "name": batch.result_name}


def _assemble(batch: ReportBatch, reports: list[HealthReport]) -> tuple[str, str]:
    store = storage.backend()
    files = [(r, store.read(r.storage_key)) for r in reports]
    people = {p.id: p for p in (patients.get(r.patient_id) for r in reports) if p is not None}
    with force_locale(batch.locale):
        cover = _cover(batch, reports, people, first_page=2)
        if cover.pages > 1:  # a list longer than a page: the reports start later
            cover = _cover(batch, reports, people, first_page=cover.pages + 1)
    stamp = batch.created_at.strftime("%Y%m%d")
    if batch.output == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("00-list.pdf", cover.data)
            for report, data in files:
                archive.writestr(report.file_name, data)
        data, suffix = buffer.getvalue(), ".zip"
    else:
        writer = PdfWriter()
        for part in [cover.data] + [data for _r, data in files]:
            writer.append(io.BytesIO(part))
        buffer = io.BytesIO()
        writer.write(buffer)
        data, suffix = buffer.getvalue(), ".pdf"
    key = storage.new_key(batch.tenant_id, "reports", suffix)
    store.save(key, data)
    return key, f"health-reports-{stamp}-{batch.id}{suffix}"


def _cover(batch: ReportBatch, reports: list[HealthReport], people: dict, *, first_page: int):
    rows, page = [], first_page
    for report in reports:
        person = people.get(report.patient_id)
        rows.append({"name": person.name if person else "", "card_no": person.card_no if person else "",
                     "exam_date": report.exam_date.isoformat(), "pages": report.pages, "first_page": page})
        page += report.pages
    return render_document("reports/batch_cover_pdf.html", batch=batch, rows=rows, clinic_name=clinic_profile.name(),
                           skipped=len(batch.items) - len(reports))
