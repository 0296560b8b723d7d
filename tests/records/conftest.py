from datetime import datetime, timezone

import pytest

from app.records.parsed import ParsedReport, ParsedResult, PatientRef


@pytest.fixture
def report():
    """report(card_no, results=[(code, value, unit, flag, status)], key=..., when=...)"""

    def make(card_no="", results=(), key="r1", when=datetime(2024, 5, 6, 1, 30, tzinfo=timezone.utc),
             name="", birth_date=None, id_number="", sender="Lab A"):
        parsed = [ParsedResult(code=code, code_system="loinc", value_text=value, unit=unit, flag=flag,
                               status=status, position=f"OBX {i + 1}")
                  for i, (code, value, unit, flag, status) in enumerate(results)]
        return ParsedReport(source="hl7", source_key=key, label=f"message {key}",
                            patient=PatientRef(card_no=card_no, name=name, birth_date=birth_date,
                                               id_number=id_number),
                            observed_at=when, results=parsed, sender=sender)

    return make
