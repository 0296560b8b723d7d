"""A new staff member gets the least access unless someone chooses more."""
import re

from app.core.access import ROLE_PERMISSIONS, ROLES, least_privileged_role


def _count(role: str) -> int:
    return sum(role in roles for roles in ROLE_PERMISSIONS.values())


def test_least_privileged_role_holds_the_fewest_permissions():
    role = least_privileged_role()
    assert role == "front_desk"
    assert all(_count(role) < _count(other) for other in ROLES if other != role)


def test_add_staff_form_preselects_the_least_privileged_role(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    for email in (tenant.owner_email, make_staff(tenant, "admin").email):
        page = client_for(tenant, email).get("/staff").get_data(as_text=True)
        form = page[page.index('action="/staff"'):]
        select = re.search(r'<select[^>]*name="role".*?</select>', form, re.S).group(0)
        assert re.findall(r'<option[^>]*selected[^>]*value="([^"]+)"', select) == ["front_desk"], select
