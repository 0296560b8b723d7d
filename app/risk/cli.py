"""``flask --app wsgi risk models`` lists the models with their inputs and
units; ``flask --app wsgi risk compute MODEL --inputs JSON`` prints one
result as JSON, so a clinician can check a model by hand; ``flask --app wsgi
risk recompute [--tenant SLUG]`` assesses a whole clinic again (the backfill). Bad JSON, an
unknown model or input, or a value of the wrong type exits non-zero with a
message saying what is wrong."""
import json
import time

import click
from flask.cli import AppGroup

from app.core.cli import echo_every_clinic, tenant_from, tenant_option
from app.risk.assessments import RECOMPUTE_LOCK, recompute_clinic
from app.risk.definitions import UnknownModel, all_models
from app.risk.engine import compute
from app.risk.inputs import RiskInputError
from tenants.context import tenant_context
from tenants.services import for_each_active_tenant

risk_cli = AppGroup("risk", help="Risk models: list them, compute one from given inputs, assess a clinic's patients.")


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


@risk_cli.command("recompute")
@tenant_option(required=False)
def recompute_command(slug: str | None):
    """Assess every patient of a clinic (every active clinic without --tenant) again; only changed
    results add rows."""
    if slug:
        with tenant_context(tenant_from(slug).id):
            _recompute()
    else:
        echo_every_clinic(for_each_active_tenant(_recompute, lock=RECOMPUTE_LOCK),
                          lambda slug, seconds: f"{slug}: {seconds:.1f} s")


def _recompute() -> float:
    started = time.perf_counter()
    patients, added = recompute_clinic()
    seconds = time.perf_counter() - started
    click.echo(f"assessed {patients} patients in {seconds:.1f} s: {added} assessments changed")
    return seconds


def _describe(spec: dict) -> str:
    if spec["type"] == "choice":
        kind = " | ".join(spec["choices"])
    elif spec["type"] == "boolean":
        kind = "true | false"
    else:
        kind = f"{spec['type']}, {spec['unit']}"
    return kind + ("" if spec.get("required", True) else " (optional)")
