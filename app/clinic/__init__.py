"""The clinic's own profile: the name it shows, its logo, how it is reached, the time zone of its clock."""


def register(app) -> None:
    from app.clinic.views import bp, clinic_brand

    app.register_blueprint(bp)
    app.jinja_env.globals["clinic_brand"] = clinic_brand
