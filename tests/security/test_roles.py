"""Role integrity: only owners grant or take away the owner role, admins
cannot change or deactivate owners, the last active owner stays, and every
role change is in the audit trail."""
import re

HX = {"HX-Request": "true"}


def _add(client, role, email, name="新同事"):
    return client.submit("/staff", {"name": name, "email": email, "role": role, "password": "correct-horse-battery"})


def test_an_admin_cannot_create_an_owner(make_tenant, make_staff, client_for, staff_row):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    client = client_for(tenant, admin.email)
    response = _add(client, "owner", f"shadow-{tenant.slug}@example.cn")
    assert response.status_code == 400
    assert "shadow-" in response.get_data(as_text=True)  # the typing is kept beside the message
        # the issue's chain: the account made by the admin never exists, so it cannot deactivate the real owner
    owner = staff_row(tenant, tenant.owner_email)
    assert owner.active and owner.role == "owner"
    assert client_for(tenant).login(f"shadow-{tenant.slug}@example.cn").status_code == 400


def test_an_admin_is_not_offered_the_owner_role(make_tenant, make_staff, client_for):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    page = client_for(tenant, admin.email).get("/staff").get_data(as_text=True)
    assert not re.search(r'<option value="owner"', page)
    owner_page = client_for(tenant, tenant.owner_email).get("/staff").get_data(as_text=True)
    assert re.search(r'<option value="owner"', owner_page)


def test_an_admin_cannot_promote_anyone_to_owner(make_tenant, make_staff, client_for, staff_row):
    tenant = make_tenant()
    admin, doctor = make_staff(tenant, "admin"), make_staff(tenant, "doctor")
    client = client_for(tenant, admin.email)
    response = client.submit(f"/staff/{doctor.id}", {"role": "owner", "active": "y"}, headers=HX)
    assert response.status_code == 400
    assert staff_row(tenant, doctor.email).role == "doctor"
    response = client.submit(f"/staff/{admin.id}", {"role": "owner", "active": "y"}, headers=HX)
    assert response.status_code == 400
    assert staff_row(tenant, admin.email).role == "admin"


def test_an_admin_cannot_change_or_deactivate_an_owner(make_tenant, make_staff, client_for, staff_row):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    owner = staff_row(tenant, tenant.owner_email)
    client = client_for(tenant, admin.email)
    for form in ({"role": "owner"}, {"role": "doctor", "active": "y"}, {"role": "admin", "active": "y"}):
        assert client.submit(f"/staff/{owner.id}", form, headers=HX).status_code == 400
    after = staff_row(tenant, tenant.owner_email)
    assert (after.role, after.active) == ("owner", True)


def test_owners_grant_and_take_away_the_owner_role(make_tenant, make_staff, client_for, staff_row, audit_rows):
    tenant = make_tenant()
    doctor = make_staff(tenant, "doctor")
    owner = staff_row(tenant, tenant.owner_email)
    client = client_for(tenant, tenant.owner_email)
    assert client.submit(f"/staff/{doctor.id}", {"role": "owner", "active": "y"}, headers=HX).status_code == 200
    assert staff_row(tenant, doctor.email).role == "owner"
    # the new owner may now take the role away from the first one (two owners: one stays)
    second = client_for(tenant, doctor.email)
    assert second.submit(f"/staff/{owner.id}", {"role": "admin", "active": "y"}, headers=HX).status_code == 200
    assert staff_row(tenant, tenant.owner_email).role == "admin"
    # and an owner may add an owner directly
    assert _add(second, "owner", f"partner-{tenant.slug}@example.cn").status_code == 302
    changes = [(e.actor_id, e.detail.get("staff_id"), e.detail.get("role"))
               for e in audit_rows(tenant, "staff_changed")]
    assert changes == [(owner.id, doctor.id, ["doctor", "owner"]), (doctor.id, owner.id, ["owner", "admin"])]
    added = audit_rows(tenant, "staff_added")[-1]
    assert (added.actor_id, added.detail["role"]) == (doctor.id, "owner")


def test_the_last_active_owner_cannot_be_removed(make_tenant, make_staff, client_for, staff_row):
    tenant = make_tenant()
    make_staff(tenant, "admin")  # an active admin does not stand in for the owner
    owner = staff_row(tenant, tenant.owner_email)
    client = client_for(tenant, tenant.owner_email)
    for form in ({"role": "admin", "active": "y"}, {"role": "owner"}, {"role": "doctor"}):
        response = client.submit(f"/staff/{owner.id}", form, headers=HX)
        assert response.status_code == 400, form
        assert "负责人" in response.get_data(as_text=True)  # the message names the owner role
    after = staff_row(tenant, tenant.owner_email)
    assert (after.role, after.active) == ("owner", True)


def test_a_deactivated_owner_does_not_count(make_tenant, make_staff, client_for, staff_row):
    tenant = make_tenant()
    second = make_staff(tenant, "owner")
    client = client_for(tenant, tenant.owner_email)
    assert client.submit(f"/staff/{second.id}", {"role": "owner"}, headers=HX).status_code == 200  # deactivated
    owner = staff_row(tenant, tenant.owner_email)
    assert client.submit(f"/staff/{owner.id}", {"role": "admin", "active": "y"}, headers=HX).status_code == 400


def test_every_role_change_is_audited(make_tenant, make_staff, client_for, staff_row, audit_rows):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    nurse = make_staff(tenant, "front_desk")
    client = client_for(tenant, admin.email)
    for role in ("health_manager", "doctor", "admin"):
        assert client.submit(f"/staff/{nurse.id}", {"role": role, "active": "y"}, headers=HX).status_code == 200
    rows = [e for e in audit_rows(tenant, "staff_changed") if e.detail.get("staff_id") == nurse.id]
    assert [e.detail["role"] for e in rows] == [["front_desk", "health_manager"], ["health_manager", "doctor"],
                                                ["doctor", "admin"]]
    assert {e.actor_id for e in rows} == {admin.id}
