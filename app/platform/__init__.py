"""The bare host: a directory of clinics, with nothing private."""
from flask import Blueprint, current_app, render_template, request

from app.core.access import public
from tenants.services import list_tenants

bp = Blueprint("platform", __name__)


@bp.route("/clinics")
@public
def directory():
    port = request.host.rsplit(":", 1)[1] if ":" in request.host else ""
    base = current_app.config["BASE_DOMAIN"]
    clinics = [(t.name, f"{request.scheme}://{t.slug}.{base}{':' + port if port else ''}/")
               for t in list_tenants() if t.active]
    return render_template("platform/directory.html", clinics=clinics)


def register(app) -> None:
    app.register_blueprint(bp)
