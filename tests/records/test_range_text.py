"""A reference range reads as people write it: "3.9–6.1", "≥ 3.9", "< 6.1" or "≤ 6.1", never "≥ <6.1"."""
import pytest

from app.records.labels import range_text
from tenants.context import tenant_context
from tenants.db import db


@pytest.mark.parametrize(("stored", "shown"), [
    ({"low": 3.9, "high": 6.1}, "3.9–6.1"),
    ({"low": 3.9, "high": 6.1, "high_inclusive": True}, "3.9–6.1"),
    ({"low": 3.9}, "≥ 3.9"),
    ({"high": 6.1}, "≤ 6.1"),
    ({"high": 6.1, "high_inclusive": True}, "< 6.1"),
    ({"low": "", "high": 5.2}, "≤ 5.2"),           # an empty lower limit is no limit
    ({"low": None, "high": None}, ""),
    ({"low": 0, "high": 40.0}, "0–40"),           # zero is a limit; 40.0 is written 40
    ({"low": 1.25, "high": 100}, "1.25–100"),
])
def test_range_text(stored, shown):
    assert range_text(stored) == shown
    assert range_text(stored.get("low"), stored.get("high"), bool(stored.get("high_inclusive"))) == shown


def test_catalogue_pages_show_one_sided_ranges_in_words(app, make_tenant, client_for):
    from app.records import services as records

    tenant = make_tenant()
    with app.app_context(), tenant_context(tenant.id):
        glucose = records.indicator_by_code("14771-0")
        glucose.ranges = [{"sex": "M", "high": 6.1, "high_inclusive": True, "source": "t"},
                          {"sex": "F", "low": 3.9, "source": "t"}]
        indicator_id = glucose.id
        db.session.commit()
    client = client_for(tenant, tenant.owner_email)
    for path in ("/records/indicators", f"/records/indicators/{indicator_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "&lt; 6.1" in page and "≥ 3.9" in page, path
        assert "≥ &lt;" not in page and "≥&lt;" not in page and "≥ <" not in page
