"""The staff home pages (one per role), the menu and the settings hub."""


def register(app) -> None:
    from app.home import navigation
    from app.home.views import bp, settings_bp

    app.register_blueprint(bp)
    app.register_blueprint(settings_bp)
    app.jinja_env.globals.update(nav_menu=navigation.menu, nav_group_label=navigation.current_group_label)
