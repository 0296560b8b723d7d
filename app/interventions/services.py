"""What other capabilities use of the interventions: the patient's care plans
(intervention plans and TCM conditioning plans) and what a plan asks of the
patient. Nothing else of this package is imported from outside it."""
from app.interventions.plan_close import get as get_plan  # noqa: F401
from app.interventions.plan_close import of_patient as plans_of_patient  # noqa: F401
from app.interventions.plan_models import CarePlan  # noqa: F401
from app.interventions.plan_progress import PATIENT_ORIGIN  # noqa: F401  (Observation.origin of home readings)
