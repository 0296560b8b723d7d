from tests.notifications.conftest import as_tenant  # noqa: F401  (shared fixture)
from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
