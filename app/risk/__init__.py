"""Risk models: each model is declared once as a versioned definition in
tenants/packs/risk/ (inputs with units and where they come from, coefficients
or point tables, bands, source) and run by one engine. Patients' assessments
are stored with their inputs' provenance and recomputed on the event path
(listeners.py)."""


def register(app) -> None:
    from app.risk import listeners, views
    from app.risk.cli import risk_cli

    listeners.listen()
    app.register_blueprint(views.bp)
    app.cli.add_command(risk_cli)
