"""What other capabilities use of questionnaires: the signal a submission
sends, a patient's responses, and asking a patient to fill one (a follow-up
step, a booking's intake form)."""
from app.questionnaires.answers import Answers, WeeklyActivity, latest_answers, weekly_activity  # noqa: F401  (risk models read items; advice the IPAQ minutes)
from app.questionnaires.delivery import send  # noqa: F401
from app.questionnaires.library import by_key, choices, sync_pack  # noqa: F401
from app.questionnaires.models import Questionnaire, QuestionnaireResponse  # noqa: F401  (for others' SQL)
from app.questionnaires.results import patient_rows  # noqa: F401
from app.questionnaires.signals import response_submitted  # noqa: F401  (others listen)
