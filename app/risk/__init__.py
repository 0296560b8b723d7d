"""Risk models: each model is declared once as a versioned definition in
tenants/packs/risk/ (inputs with units and where they come from, coefficients
or point tables, bands, source) and run by one engine. This slice computes
from given inputs; assessments stored per patient come later."""


def register(app) -> None:
    from app.risk.cli import risk_cli

    app.cli.add_command(risk_cli)
