"""Append-only audit trail: who viewed, changed, exported or printed what."""
from app.core.i18n import register_labels


def register(app) -> None:
    from app.audit import labels
    from app.audit.views import bp

    app.register_blueprint(bp)
    register_labels(app, "audit", labels)
