"""Cox proportional-hazards models (Framingham general CVD):
risk = 1 - S0 ^ exp(sum(beta * x) - mean), x the natural log of a continuous
input (after its ``scale``, mmol/L x 38.67 = mg/dL) or 1/0 for a yes/no one.
The risk is given in percent to three significant figures.

Contributions: each term's share of the linear sum, beta * x / sum(beta * x),
rounded to three decimals (shares add up to 1; HDL cholesterol's is
negative). The definitions give the mean of the whole sum, not a mean per
input, so a term's distance from its own mean cannot be told; what a
modifiable factor changes is shown by ``what_if`` instead."""
import math


def compute(definition: dict, values: dict) -> tuple[float, dict]:
    """(risk in percent, contributions by input) for complete inputs."""
    coefficients = definition["model"][values[definition["model"]["by"]]]
    terms = {term["input"]: _term(term, values) for term in coefficients["terms"]}
    total = sum(terms.values())
    risk = 1 - coefficients["baseline_survival"] ** math.exp(total - coefficients["mean"])
    shares = {name: round(part / total, 3) for name, part in terms.items()}
    return float(f"{risk * 100:.3g}"), shares


def _term(term: dict, values: dict) -> float:
    value = values[term["input"]]
    x = math.log(value * term.get("scale", 1)) if term.get("log") else float(bool(value))
    if "beta_by" in term:
        beta = term["beta_if_true"] if values[term["beta_by"]] else term["beta_if_false"]
    else:
        beta = term["beta"]
    return beta * x
