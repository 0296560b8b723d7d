"""The questionnaire builder's pages (admins): new questionnaire, the draft editor with htmx partial
updates, publishing, discarding, the phone preview, and FHIR import and export."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as staff
from app.core.access import requires
from app.core.errors import FieldErrors, found_or_404
from app.core.htmx import wants_partial
from app.questionnaires import builder, builder_edits, builder_forms, library
from app.questionnaires.models import Questionnaire
from app.questionnaires.schema import CHOICE_TYPES, KINDS, TYPES
from tenants.db import db

bp = Blueprint("questionnaire_builder", __name__)

EXTRA_ROWS = 2


@bp.context_processor
def _labels() -> dict:
    return {"type_labels": builder_forms.TYPE_LABELS}


def _draft_of(questionnaire_id: int) -> Questionnaire:
    """The questionnaire, locked for a change to its draft (404 when it has none)."""
    questionnaire = found_or_404(builder.locked(questionnaire_id))
    if questionnaire.draft is None:
        abort(404)
    return questionnaire


def _rows_needed(form, prefix: str, stored: int) -> int:
    present = [int(k.split("-")[1]) for k in form if k.startswith(f"{prefix}-") and k.split("-")[1].isdigit()]
    return min(max([stored, *(i + 1 for i in present)]) + EXTRA_ROWS, builder_forms.MAX_ROWS)


def question_values(question: dict) -> dict:
    values = {"key": question.get("key", ""), "type": question.get("type", ""),
              "required": "1" if question.get("required") else "",
              "unit": question.get("unit", ""), "integer": "1" if question.get("integer") else "",
              "pattern": question.get("pattern", "")}
    for name in ("text", "help", "pattern_message"):
        for lang in ("zh", "en"):
            values[f"{name}_{lang}"] = (question.get(name) or {}).get(lang, "")
    for name in ("min", "max", "max_length"):
        values[name] = "" if question.get(name) is None else str(question[name])
    for i, option in enumerate(question.get("options") or []):
        values.update({f"opt-{i}-code": option.get("code", ""), f"opt-{i}-zh": option["label"].get("zh", ""),
                       f"opt-{i}-en": option["label"].get("en", ""),
                       f"opt-{i}-score": "" if option.get("score") is None else str(option["score"])})
    for i, row in enumerate(question.get("rows") or []):
        values.update({f"row-{i}-key": row.get("key", ""), f"row-{i}-zh": row["text"].get("zh", ""),
                       f"row-{i}-en": row["text"].get("en", "")})
    values.update(builder_forms.condition_form_values(question.get("show_if")))
    return values


def score_values(score: dict | None) -> dict:
    if score is None:
        return {"key": "", "label_zh": "", "label_en": "", "items": []}
    values: dict = {"key": score["key"], "label_zh": score["label"]["zh"], "label_en": score["label"]["en"],
                    "items": list(score.get("items") or [])}
    for i, band in enumerate(score.get("bands") or []):
        interpretation = band.get("interpretation") or {}
        values.update({f"band-{i}-min": str(band.get("min", "")), f"band-{i}-max": str(band.get("max", "")),
                       f"band-{i}-zh": band["label"]["zh"], f"band-{i}-en": band["label"]["en"],
                       f"band-{i}-izh": interpretation.get("zh", ""), f"band-{i}-ien": interpretation.get("en", "")})
    return values


def _form_dict() -> dict:
    values: dict = request.form.to_dict()
    values["items"] = request.form.getlist("items")
    return values


def _question_context(questionnaire: Questionnaire, qkey: str, values: dict | None = None,
                      errors: dict | None = None) -> dict:
    defn = questionnaire.draft or {}
    found = builder_edits.find_question(defn, qkey)
    if found is None:
        abort(404)
    question = found[2]
    values = values if values is not None else question_values(question)
    return {"questionnaire": questionnaire, "defn": defn, "q": question, "values": values, "errors": errors or {},
            "n_options": _rows_needed(values, "opt", len(question.get("options") or [])),
            "n_rows": _rows_needed(values, "row", len(question.get("rows") or [])),
            "earlier": builder_forms.earlier_refs(defn, before_question=qkey),
            "problems": builder.problems_by_target(defn), "types": TYPES, "choice_types": CHOICE_TYPES,
            "ops": builder_forms.BRANCH_OPS, "keep": builder_forms.KEEP}


def _editor(questionnaire: Questionnaire, status: int = 200, *, editing: dict | None = None,
            publish_errors: dict | None = None):
    defn = questionnaire.draft or {}
    question_forms = {}
    if editing and editing.get("kind") == "question":
        question_forms[editing["key"]] = _question_context(questionnaire, editing["key"], editing["values"],
                                                           editing["errors"])
    scores = defn.get("scores") or []
    score_forms = {s["key"]: score_values(s) for s in scores if builder_edits.editable_score(s)}
    return render_template(
        "questionnaires/builder/edit.html", questionnaire=questionnaire, defn=defn,
        problems=publish_errors if publish_errors is not None else builder.problems_by_target(defn),
        editing=editing or {}, question_forms=question_forms, score_forms=score_forms, kinds=KINDS, types=TYPES,
        ops=builder_forms.BRANCH_OPS, keep=builder_forms.KEEP, scorable=builder_edits.scorable_refs(defn),
        section_values={s["key"]: {"key": s["key"], "title_zh": s["title"]["zh"], "title_en": s["title"]["en"],
                                   **builder_forms.condition_form_values(s.get("show_if"))}
                        for s in defn.get("sections") or []},
        earlier_for_section={s["key"]: builder_forms.earlier_refs(defn, before_section=s["key"])
                             for s in defn.get("sections") or []},
        question_values=question_values, n_bands=lambda values: _rows_needed(values, "band", 0),
        editing_publish=publish_errors is not None), status


def _back(questionnaire: Questionnaire, anchor: str = ""):
    return redirect(url_for("questionnaire_builder.edit", questionnaire_id=questionnaire.id) + anchor)


# --- new, start, discard, publish -------------------------------------------------------------------------------


@bp.route("/questionnaires/new", methods=["GET", "POST"])
@requires("questionnaires.manage")
def new():
    errors: dict = {}
    if request.method == "POST":
        try:
            questionnaire = builder.create(request.form, actor_id=current_user.id)
        except FieldErrors as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("The questionnaire was created as a draft."), "success")
            return _back(questionnaire)
    return render_template("questionnaires/builder/new.html", form=request.form, errors=errors,
                           kinds=KINDS), 400 if errors else 200


@bp.route("/questionnaires/<id:questionnaire_id>/builder")
@requires("questionnaires.manage")
def edit(questionnaire_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    if questionnaire.draft is None:
        return render_template("questionnaires/builder/start.html", questionnaire=questionnaire)
    return _editor(questionnaire)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/start", methods=["POST"])
@requires("questionnaires.manage")
def start(questionnaire_id: int):
    questionnaire = found_or_404(builder.locked(questionnaire_id))
    try:
        builder.start_draft(questionnaire)
    except LookupError:
        abort(404)
    db.session.commit()
    return _back(questionnaire)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/discard", methods=["POST"])
@requires("questionnaires.manage")
def discard(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    if not questionnaire.current_version:  # never published: nothing is left of it
        db.session.delete(questionnaire)
        db.session.commit()
        flash(_("The draft was discarded."), "success")
        return redirect(url_for("questionnaires.index"))
    builder.discard(questionnaire)
    db.session.commit()
    flash(_("The draft was discarded."), "success")
    return redirect(url_for("questionnaires.detail", questionnaire_id=questionnaire.id))


@bp.route("/questionnaires/<id:questionnaire_id>/builder/publish", methods=["POST"])
@requires("questionnaires.manage")
def publish(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    try:
        version = builder.publish(questionnaire, actor_id=current_user.id)
    except FieldErrors as exc:
        db.session.rollback()
        questionnaire = found_or_404(library.get(questionnaire_id))
        return _editor(questionnaire, 400, publish_errors={k: [v] for k, v in exc.errors.items()})
    db.session.commit()
    if version is None:
        flash(_("The draft was the same as the current version: nothing new was published."), "success")
    else:
        flash(_("Version %(n)s was published.", n=version.version), "success")
    return redirect(url_for("questionnaires.detail", questionnaire_id=questionnaire.id))


@bp.route("/questionnaires/<id:questionnaire_id>/builder/preview")
@requires("questionnaires.manage")
def preview(questionnaire_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    if questionnaire.draft is None:
        abort(404)
    return render_template("questionnaires/builder/preview.html", questionnaire=questionnaire,
                           defn=questionnaire.draft, answers={}, errors={}, visible=None)


# --- the draft's parts -------------------------------------------------------------------------------------------


@bp.route("/questionnaires/<id:questionnaire_id>/builder/meta", methods=["POST"])
@requires("questionnaires.manage")
def meta(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    try:
        builder.save_meta(questionnaire, request.form)
    except FieldErrors as exc:
        db.session.rollback()
        questionnaire = found_or_404(library.get(questionnaire_id))
        return _editor(questionnaire, 400, editing={"kind": "meta", "values": request.form, "errors": exc.errors})
    db.session.commit()
    flash(_("Saved."), "success")
    return _back(questionnaire)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/sections", methods=["POST"])
@requires("questionnaires.manage")
def add_section(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    skey = builder_edits.add_section(questionnaire)
    db.session.commit()
    return _back(questionnaire, f"#bs-{skey}")


@bp.route("/questionnaires/<id:questionnaire_id>/builder/sections/<section_key>", methods=["POST"])
@requires("questionnaires.manage")
def save_section(questionnaire_id: int, section_key: str):
    questionnaire = _draft_of(questionnaire_id)
    try:
        skey = builder_edits.save_section(questionnaire, section_key, request.form)
    except LookupError:
        abort(404)
    except FieldErrors as exc:
        db.session.rollback()
        questionnaire = found_or_404(library.get(questionnaire_id))
        return _editor(questionnaire, 400, editing={"kind": "section", "key": section_key, "values": request.form,
                                                    "errors": exc.errors})
    db.session.commit()
    flash(_("Saved."), "success")
    return _back(questionnaire, f"#bs-{skey}")


@bp.route("/questionnaires/<id:questionnaire_id>/builder/arrange-section", methods=["POST"])
@requires("questionnaires.manage")
def arrange_section(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    skey = request.form.get("section", "")
    if not builder_edits.has_section(questionnaire, skey):
        abort(404)
    try:
        builder_edits.arrange_section(questionnaire, skey, request.form.get("do", ""))
    except FieldErrors as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
        return _back(found_or_404(library.get(questionnaire_id)))
    db.session.commit()
    return _back(questionnaire)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/questions", methods=["POST"])
@requires("questionnaires.manage")
def add_question(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    skey = request.form.get("section", "")
    if not builder_edits.has_section(questionnaire, skey):
        abort(404)
    qtype = request.form.get("type", "")
    if qtype not in TYPES:
        abort(400)
    qkey = builder_edits.add_question(questionnaire, skey, qtype)
    db.session.commit()
    return redirect(url_for("questionnaire_builder.question", questionnaire_id=questionnaire.id,
                            question_key=qkey))


@bp.route("/questionnaires/<id:questionnaire_id>/builder/questions/<question_key>", methods=["GET", "POST"])
@requires("questionnaires.manage")
def question(questionnaire_id: int, question_key: str):
    """GET: the question's edit form (htmx: the form alone, swapped in place); POST: save it."""
    if request.method == "GET":
        questionnaire = found_or_404(library.get(questionnaire_id))
        if not builder_edits.has_question(questionnaire, question_key):
            abort(404)
        if wants_partial():
            return render_template("questionnaires/builder/_question_form.html",
                                   **_question_context(questionnaire, question_key))
        return _editor(questionnaire, editing={"kind": "question", "key": question_key,
                                               "values": question_values(
                                                   builder_edits.question_of(questionnaire, question_key)),
                                               "errors": {}})
    questionnaire = _draft_of(questionnaire_id)
    if not builder_edits.has_question(questionnaire, question_key):
        abort(404)
    values = _form_dict()
    try:
        qkey = builder_edits.save_question(questionnaire, question_key, request.form)
    except FieldErrors as exc:
        db.session.rollback()
        questionnaire = found_or_404(library.get(questionnaire_id))
        if wants_partial():
            return render_template("questionnaires/builder/_question_form.html",
                                   **_question_context(questionnaire, question_key, values, exc.errors)), 400
        return _editor(questionnaire, 400, editing={"kind": "question", "key": question_key, "values": values,
                                                    "errors": exc.errors})
    db.session.commit()
    if wants_partial():
        return render_template("questionnaires/builder/_question.html", questionnaire=questionnaire,
                               defn=questionnaire.draft, q=builder_edits.question_of(questionnaire, qkey),
                               problems=builder.problems_by_target(questionnaire.draft or {}), saved=True)
    flash(_("Saved."), "success")
    return _back(questionnaire, f"#bq-{qkey}")


@bp.route("/questionnaires/<id:questionnaire_id>/builder/questions/<question_key>/summary")
@requires("questionnaires.manage")
def question_summary(questionnaire_id: int, question_key: str):
    """One question as the editor lists it (what Cancel swaps back in)."""
    questionnaire = found_or_404(library.get(questionnaire_id))
    if not builder_edits.has_question(questionnaire, question_key):
        abort(404)
    if not wants_partial():
        return _back(questionnaire, f"#bq-{question_key}")
    return render_template("questionnaires/builder/_question.html", questionnaire=questionnaire,
                           defn=questionnaire.draft, q=builder_edits.question_of(questionnaire, question_key),
                           problems=builder.problems_by_target(questionnaire.draft or {}), saved=False)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/arrange-question", methods=["POST"])
@requires("questionnaires.manage")
def arrange_question(questionnaire_id: int):
    questionnaire = _draft_of(questionnaire_id)
    qkey = request.form.get("question", "")
    if not builder_edits.has_question(questionnaire, qkey):
        abort(404)
    try:
        builder_edits.arrange_question(questionnaire, qkey, request.form.get("do", ""))
    except FieldErrors as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
        return _back(found_or_404(library.get(questionnaire_id)))
    db.session.commit()
    anchor = "" if request.form.get("do") == "delete" else f"#bq-{qkey}"
    return _back(questionnaire, anchor)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/scores", methods=["POST"])
@requires("questionnaires.manage")
def add_score(questionnaire_id: int):
    return _save_score(questionnaire_id, None)


@bp.route("/questionnaires/<id:questionnaire_id>/builder/scores/<score_key>", methods=["POST"])
@requires("questionnaires.manage")
def save_score(questionnaire_id: int, score_key: str):
    return _save_score(questionnaire_id, score_key)


def _save_score(questionnaire_id: int, score_key: str | None):
    questionnaire = _draft_of(questionnaire_id)
    values = _form_dict()
    try:
        key = builder_edits.save_score(questionnaire, score_key, request.form)
    except LookupError:
        abort(404)
    except FieldErrors as exc:
        db.session.rollback()
        questionnaire = found_or_404(library.get(questionnaire_id))
        return _editor(questionnaire, 400, editing={"kind": "score", "key": score_key or "", "values": values,
                                                    "errors": exc.errors})
    db.session.commit()
    flash(_("Saved."), "success")
    return _back(questionnaire, f"#bsc-{key}")


@bp.route("/questionnaires/<id:questionnaire_id>/builder/scores/<score_key>/delete", methods=["POST"])
@requires("questionnaires.manage")
def delete_score(questionnaire_id: int, score_key: str):
    questionnaire = _draft_of(questionnaire_id)
    if not builder_edits.delete_score(questionnaire, score_key):
        abort(404)
    db.session.commit()
    return _back(questionnaire)


# --- FHIR ---------------------------------------------------------------------------------------------------------


@bp.route("/questionnaires/<id:questionnaire_id>/versions/<id:version_id>/fhir")
@requires("questionnaires.manage")
def export(questionnaire_id: int, version_id: int):
    questionnaire = found_or_404(library.get(questionnaire_id))
    version = found_or_404(library.version(version_id))
    if version.questionnaire_id != questionnaire.id:
        abort(404)
    body = builder.export_fhir(version, url_base=request.host_url + "fhir/Questionnaire")
    name = f"{questionnaire.key}-v{version.version}.fhir.json"
    return Response(body, mimetype="application/fhir+json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/questionnaires/import", methods=["GET", "POST"])
@requires("questionnaires.manage")
def import_fhir():
    errors: dict = {}
    conflict = None
    payload = ""
    if request.method == "POST":
        upload = request.files.get("file")
        raw = upload.read(builder.IMPORT_MAX_BYTES + 1) if upload is not None and upload.filename else \
            request.form.get("payload", "").encode("utf-8")
        try:
            defn = builder.read_upload(raw)
            questionnaire, replaced = builder.import_definition(defn, replace=request.form.get("replace") == "1",
                                                                actor_id=current_user.id)
        except FieldErrors as exc:
            db.session.rollback()
            errors = exc.errors
        except LookupError:
            db.session.rollback()
            conflict = library.by_key(defn["key"])
            payload = raw.decode("utf-8-sig")
        else:
            db.session.commit()
            flash(_("Imported as a new draft of this questionnaire.") if replaced
                  else _("Imported as a new questionnaire draft."), "success")
            return _back(questionnaire)
    status = 400 if errors else 200
    return render_template("questionnaires/builder/import.html", errors=errors, conflict=conflict,
                           payload=payload, max_mb=builder.IMPORT_MAX_BYTES // 2**20), status


@bp.app_template_global("questionnaire_publishers")
def publishers(versions) -> dict[int, str]:
    """Staff names of who published each version (for the detail page)."""
    people = staff.get_many({v.published_by for v in versions if v.published_by})
    return {uid: (person.name or person.email) for uid, person in people.items()}
