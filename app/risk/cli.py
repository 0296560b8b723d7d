"""``flask --app wsgi risk models`` lists the models with their inputs and
units; ``flask --app wsgi risk compute MODEL --inputs JSON`` prints one
result as JSON, so a clinician can check a model by hand. Bad JSON, an
unknown model or input, or a value of the wrong type exits non-zero with a
message saying what is wrong."""
import json

import click
from flask.cli import AppGroup

from app.risk.definitions import UnknownModel, all_models
from app.risk.engine import compute
from app.risk.inputs import RiskInputError

risk_cli = AppGroup("risk", help="Risk models: list them, compute one from given inputs.")


@risk_cli.command("models")
def models_command():
    """List the models, their version, unit and inputs."""
    for definition in all_models().values():
        click.echo(f"{definition['id']} v{definition['version']} ({definition['unit']}): {definition['name']['en']}")
        for spec in definition["inputs"]:
            click.echo(f"  {spec['name']}\t{_describe(spec)}")


@risk_cli.command("compute")
@click.argument("model_id", metavar="MODEL")
@click.option("--inputs", "raw", required=True,
              help='The inputs as a JSON object, e.g. \'{"age": 55, "sex": "male"}\'.')
def compute_command(model_id, raw):
    """Compute MODEL from the given inputs and print the result as JSON."""
    try:
        inputs = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"--inputs is not valid JSON: {exc}") from exc
    try:
        result = compute(model_id, inputs)
    except (UnknownModel, RiskInputError) as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    click.echo(json.dumps(result, ensure_ascii=False))


def _describe(spec: dict) -> str:
    if spec["type"] == "choice":
        kind = " | ".join(spec["choices"])
    elif spec["type"] == "boolean":
        kind = "true | false"
    else:
        kind = f"{spec['type']}, {spec['unit']}"
    return kind + ("" if spec.get("required", True) else " (optional)")
