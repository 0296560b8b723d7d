"""The clinic's report style (settings): its colour and each template's sections and their order, with a
preview of each template on made-up data."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core import exports
from app.core.access import requires
from app.core.errors import FieldErrors
from app.reports import printing, sentences, styles
from tenants.db import db

bp = Blueprint("report_style", __name__, url_prefix="/reports/style")


def _typed_from_form() -> tuple[str, dict[str, list[tuple[str, str]]]]:
    chosen = {key: [(section, (request.form.get(f"{key}-{section}") or "")[:3]) for section in styles.SECTIONS]
              for key in styles.templates()}
    return (request.form.get("colour") or "")[:20], chosen


def _typed_from_style() -> tuple[str, dict[str, list[tuple[str, str]]]]:
    chosen = {}
    for key in styles.templates():
        order = styles.order(key)
        chosen[key] = [(section, str(order.index(section) + 1) if section in order else "")
                       for section in styles.SECTIONS]
    return styles.colour(), chosen


@bp.route("", methods=["GET", "POST"])
@requires("reports.templates")
def edit():
    errors: dict[str, str] = {}
    if request.method == "POST":
        colour, chosen = _typed_from_form()
        try:
            styles.save(colour, chosen)
        except FieldErrors as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("Report style saved."))
            return redirect(url_for("report_style.edit"))
    else:
        colour, chosen = _typed_from_style()
    return _page(colour, chosen, errors)


def _page(colour: str, chosen: dict, errors: dict, words: dict | None = None):
    saved = styles.sentence_words()
    return render_template("reports/style.html", colour=colour, chosen={k: dict(v) for k, v in chosen.items()},
                           errors=errors, names={key: styles.template_name(key) for key in styles.templates()},
                           sections=styles.SECTIONS, sentences=sentences.SENTENCES, locales=sentences.LOCALES,
                           words=saved if words is None else words, saved=saved,
                           example=sentences.write), 400 if errors else 200


@bp.route("/sentences", methods=["POST"])
@requires("reports.templates")
def save_sentences():
    """The clinic's own words for the stage summary's sentences (empty: the default words)."""
    typed = {locale: {key: (request.form.get(f"sentence-{locale}-{key}") or "")[:400] for key in sentences.SENTENCES}
             for locale in sentences.LOCALES}
    try:
        styles.save_sentences(typed)
    except FieldErrors as exc:
        db.session.rollback()
        colour, chosen = _typed_from_style()
        return _page(colour, chosen, exc.errors, typed)
    db.session.commit()
    flash(_("The summary's sentences are saved."))
    return redirect(url_for("report_style.edit") + "#sentences")


@bp.route("/preview/<key>.pdf")
@requires("reports.templates")
def preview(key: str):
    if key not in styles.templates():
        abort(404)
    locale = "zh_CN" if str(get_locale()).startswith("zh") else "en"
    return exports.file_response(printing.preview(key, locale).data, f"preview-{key}.pdf")
