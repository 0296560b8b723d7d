"""Error pages that say nothing of any tenant beyond the one on screen."""
from flask import abort, g, render_template
from flask_wtf.csrf import CSRFError


class FieldErrors(ValueError):
    """Bad input that a form shows next to its fields: ``errors`` maps a
    field name to its message (a name that is no field of the form is shown
    above it). Every capability's input errors are of this kind."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def show_on(self, form) -> list[str]:
        """Put each message on its field of a WTForms form; return the rest."""
        rest = []
        for name, message in self.errors.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, message]
            else:
                rest.append(message)
        return rest


def found_or_404(found):
    """What a look-up found, or a 404 page: the id is not of this clinic, or not at all."""
    if found is None:
        abort(404)
    return found


def register(app) -> None:
    @app.errorhandler(404)
    def not_found(_exc):
        return render_template("errors/404.html"), 404

    @app.errorhandler(403)
    def forbidden(_exc):
        return render_template("errors/403.html"), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        return render_template("errors/400.html", reason=exc.description), 400

    @app.errorhandler(413)
    def too_large(_exc):
        return render_template("errors/400.html", reason=None), 413

    @app.errorhandler(500)
    def server_error(_exc):
        g.tenant = g.get("tenant")
        return render_template("errors/500.html"), 500
