"""The satisfaction view: NPS (% promoters − % detractors) and the domain
scores by month, by package (of the order the survey asked about) and by
staff member (the follow-up task's assignee, else the patient's responsible
doctor), with the patients' comments, over a date range.

One statement reads every submitted survey in the range with the order,
task and patient it refers to; the breakdowns are tallied from those rows.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import BigInteger, cast, select

from app.auth import services as staff
from app.booking import services as booking
from app.core import clock
from app.followups import services as followups
from app.patients import services as patients
from app.questionnaires import library
from app.questionnaires.models import Questionnaire, QuestionnaireResponse
from app.questionnaires.satisfaction import DETRACTOR_MAX, PROMOTER_MIN, RECOMMEND, comment_of
from tenants.db import db

Patient = patients.Patient  # the card model, read by this module's SQL (patients writes it)

COMMENTS_SHOWN = 200


@dataclass
class Tally:
    label: str
    responses: int = 0
    rated: int = 0           # responses with a recommend score
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, scores: dict[str, float | None]) -> None:
        self.responses += 1
        recommend = scores.get(RECOMMEND)
        if recommend is not None:
            self.rated += 1
            if recommend >= PROMOTER_MIN:
                self.promoters += 1
            elif recommend <= DETRACTOR_MAX:
                self.detractors += 1
            else:
                self.passives += 1
        for key, value in scores.items():
            if value is not None and key != RECOMMEND:
                self.sums[key] = self.sums.get(key, 0.0) + value
                self.counts[key] = self.counts.get(key, 0) + 1

    @property
    def nps(self) -> float | None:
        if not self.rated:
            return None
        return round(100.0 * (self.promoters - self.detractors) / self.rated, 1)

    def mean(self, key: str) -> float | None:
        n = self.counts.get(key)
        return round(self.sums[key] / n, 2) if n else None


@dataclass
class Comment:
    response_id: int
    submitted_at: object
    patient_id: int
    patient_name: str
    recommend: float | None
    text: str


@dataclass
class Report:
    questionnaire: Questionnaire | None
    domains: list[tuple[str, dict]]           # (score key, label): the scores other than recommend
    overall: Tally
    by_month: list[Tally]
    by_package: list[Tally]
    by_staff: list[Tally]
    comments: list[Comment]


def report(questionnaire: Questionnaire | None, start: date, end: date) -> Report:
    """Submitted surveys from start to end (the clinic's dates, both included)."""
    empty = Report(questionnaire, [], Tally(""), [], [], [], [])
    if questionnaire is None:
        return empty
    version = library.current_version(questionnaire)
    if version is not None:
        empty.domains = [(s["key"], s.get("label", {})) for s in version.definition.get("scores", [])
                         if s["key"] != RECOMMEND]
    since, _until = clock.day_bounds(start)
    _since, until = clock.day_bounds(end)
    Order, Task = booking.Order, followups.FollowupTask
    order_id = cast(QuestionnaireResponse.context["order_id"].as_string(), BigInteger)
    task_id = cast(QuestionnaireResponse.context["task_id"].as_string(), BigInteger)
    rows = db.session.execute(select(
        QuestionnaireResponse.id, QuestionnaireResponse.submitted_at, QuestionnaireResponse.scores,
        QuestionnaireResponse.answers, QuestionnaireResponse.version_id, QuestionnaireResponse.patient_id,
        Order.package_name, Task.assignee_id, Patient.responsible_doctor_id, Patient.name)
        .join(Patient, Patient.id == QuestionnaireResponse.patient_id)
        .outerjoin(Order, Order.id == order_id)
        .outerjoin(Task, Task.id == task_id)
        .where(QuestionnaireResponse.questionnaire_id == questionnaire.id,
               QuestionnaireResponse.status == "submitted",
               QuestionnaireResponse.submitted_at >= since, QuestionnaireResponse.submitted_at < until)
        .order_by(QuestionnaireResponse.submitted_at.desc())).all()
    staff_ids = {row.assignee_id or row.responsible_doctor_id for row in rows} - {None}
    names = {uid: user.name for uid, user in staff.get_many(staff_ids).items()} if staff_ids else {}
    definitions = {v.id: v.definition for v in library.versions(questionnaire)}
    overall = Tally("")
    months: dict[str, Tally] = {}
    packages: dict[str, Tally] = {}
    people: dict[str, Tally] = {}
    comments: list[Comment] = []
    unknown = _("Not known")
    for row in rows:
        scores = {s["key"]: s.get("value") for s in row.scores or []}
        month = clock.local(row.submitted_at).strftime("%Y-%m")
        person = row.assignee_id or row.responsible_doctor_id
        for bucket, label in ((months, month), (packages, row.package_name or unknown),
                              (people, names.get(person, unknown) if person else unknown)):
            bucket.setdefault(label, Tally(label)).add(scores)
        overall.add(scores)
        text = comment_of(definitions.get(row.version_id, {}), row.answers or {})
        if text and len(comments) < COMMENTS_SHOWN:
            comments.append(Comment(row.id, row.submitted_at, row.patient_id, row.name, scores.get(RECOMMEND), text))
    return Report(questionnaire, empty.domains, overall, [months[k] for k in sorted(months)],
                  sorted(packages.values(), key=lambda t: (-t.responses, t.label)),
                  sorted(people.values(), key=lambda t: (-t.responses, t.label)), comments)
