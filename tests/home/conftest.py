"""A demo clinic seeded as `flask seed demo` seeds one, with a random slug: every role's home page has
something to show on the clinic's today."""
import secrets
from types import SimpleNamespace

import pytest

from app.seed import DEMO_PASSWORD, STAFF_ROLES, seed_clinic
from tenants.services import tenant_by_slug


@pytest.fixture
def demo(app):
    slug = "h" + secrets.token_hex(5)
    with app.app_context():
        assert seed_clinic(slug, "首页演示诊所", patient_count=16)
        tenant = tenant_by_slug(slug)
        emails = {role: f"owner@{slug}.example.cn" if role == "owner" else f"{role.replace('_', '')}@{slug}.example.cn"
                  for role, _label in STAFF_ROLES}
        return SimpleNamespace(id=tenant.id, slug=slug, host=f"{slug}.localhost", emails=emails, name=tenant.name)


@pytest.fixture
def signed_in(demo, client_for):
    """signed_in(role) -> a client of the demo clinic signed in as that role."""
    def make(role: str):
        return client_for(demo, demo.emails[role], password=DEMO_PASSWORD)

    return make
