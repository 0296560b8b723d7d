"""What other capabilities use of interventions: the advice library's pack
(the demo seed installs it for clinics opened before it existed), a
patient's released advice sheets, the patient's care plans (intervention
plans and TCM conditioning plans) and what a plan asks of the patient.
Nothing else of this package is imported from outside it."""
from app.interventions.advice_library import ensure_pack as ensure_advice_pack  # noqa: F401
from app.interventions.advice_library import install_pack as install_advice_pack  # noqa: F401
from app.interventions.advice_models import AdviceSheet  # noqa: F401  (for others' SQL)
from app.interventions.advice_sheets import released_for as released_advice  # noqa: F401
from app.interventions.plan_close import get as get_plan  # noqa: F401
from app.interventions.plan_close import of_patient as plans_of_patient  # noqa: F401
from app.interventions.plan_models import CarePlan  # noqa: F401
from app.interventions.plan_progress import PATIENT_ORIGIN  # noqa: F401  (Observation.origin of home readings)
from app.interventions.plan_progress import adherence as plan_adherence  # noqa: F401  (a plan's actions done)
from app.interventions.plan_progress import goals as plan_goals  # noqa: F401  (a plan's goals and progress)
