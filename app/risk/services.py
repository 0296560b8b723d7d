"""What other capabilities use of risk models: the model definitions, one
computation from given inputs, and the same with modifiable factors changed."""
from app.risk.definitions import UnknownModel, all_models, model  # noqa: F401
from app.risk.engine import compute, what_if  # noqa: F401
from app.risk.inputs import RiskInputError  # noqa: F401
