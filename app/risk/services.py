"""What other capabilities use of risk models: the model definitions, one
computation from given inputs, the same with modifiable factors changed, and
a patient's stored assessments."""
from app.risk.assessments import own_codes, recompute  # noqa: F401
from app.risk.definitions import UnknownModel, all_models, model  # noqa: F401
from app.risk.engine import compute, what_if  # noqa: F401
from app.risk.inputs import RiskInputError  # noqa: F401
from app.risk.listeners import recompute_later  # noqa: F401
from app.risk.models import RiskAssessment  # noqa: F401  (for others' SQL: the population view, tag rules)
from app.risk.reading import current_for, history_for  # noqa: F401
from app.risk.reading import shown as shown_assessment  # noqa: F401  (one assessment in words)
