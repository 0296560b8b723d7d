"""Patient cards (开卡), demographics and health history."""
from app.core import keys
from app.core.i18n import register_labels


def register(app) -> None:
    from app.patients import export_views, labels, services  # noqa: F401  (export_views: routes on bp)
    from app.patients.views import bp

    keys.register(services.Patient, typed=("email", "address", "emergency_name", "emergency_phone"),
                  blobs=("mobile_enc", "id_number_enc"))
    app.register_blueprint(bp)
    register_labels(app, "patients", labels)
