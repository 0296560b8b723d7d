"""Patient cards (开卡), demographics and health history."""
from app.core.i18n import register_labels


def register(app) -> None:
    from app.patients import labels
    from app.patients.views import bp

    app.register_blueprint(bp)
    register_labels(app, "patients", labels)
