"""Language choice: zh_CN by default, English on request; kept in the session.
Times are shown in the clinic's time zone."""
from flask import current_app, has_request_context, session
from flask_babel import format_date, format_datetime, format_time

from app.core import clock


def select_locale() -> str:
    if not has_request_context():  # CLI and jobs: jobs pass their locale explicitly
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_labels(app, capability: str, labels) -> None:
    """A capability's label tables (its labels.py: what each stored code is
    called on screen) reach every template as ``<capability>_labels``."""
    app.jinja_env.globals[f"{capability}_labels"] = labels


def register(app, babel) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=clock.zone_name,  # every time shown is the clinic's
        default_translation_directories=str(app.root_path + "/translations"),
    )
    app.jinja_env.globals["current_locale"] = select_locale
    app.jinja_env.filters["format_date"] = format_date
    app.jinja_env.filters["format_datetime"] = format_datetime
    app.jinja_env.filters["format_time"] = format_time
