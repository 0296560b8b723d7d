"""Append-only audit trail: who viewed, changed, exported or printed what."""


def register(app) -> None:
    from app.audit.views import bp

    app.register_blueprint(bp)
