"""The clinic's own profile: the time zone of its clock."""


def register(app) -> None:
    from app.clinic.views import bp

    app.register_blueprint(bp)
