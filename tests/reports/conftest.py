from tests.portal.conftest import last_code, patient_client  # noqa: F401  (shared fixtures)
