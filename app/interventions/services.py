"""What other capabilities use of interventions: the advice library's pack
(the demo seed installs it for clinics opened before it existed) and a
patient's released advice sheets."""
from app.interventions.advice_library import ensure_pack as ensure_advice_pack  # noqa: F401
from app.interventions.advice_library import install_pack as install_advice_pack  # noqa: F401
from app.interventions.advice_models import AdviceSheet  # noqa: F401  (for others' SQL)
from app.interventions.advice_sheets import released_for as released_advice  # noqa: F401
