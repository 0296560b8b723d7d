"""Error pages that say nothing of any tenant beyond the one on screen."""
from flask import abort, g, render_template
from flask_wtf.csrf import CSRFError


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
