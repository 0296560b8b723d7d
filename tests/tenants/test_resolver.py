def test_unknown_host_is_404_with_nothing_of_any_tenant(make_tenant, client_for):
    tenant = make_tenant("秘密诊所")
    client = client_for(host="nosuch.localhost")
    response = client.get("/login")
    assert response.status_code == 404
    assert "秘密诊所" not in response.get_data(as_text=True)
    assert client_for(host="evil.example.org").get("/").status_code == 404
    assert tenant.slug


def test_bare_host_lists_clinics_and_nothing_private(make_tenant, client_for):
    tenant = make_tenant("目录诊所")
    client = client_for(host="localhost")
    response = client.get("/", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "目录诊所" in body and f"http://{tenant.slug}.localhost/" in body
    assert client.get("/patients").status_code == 404
    assert client.get("/login").status_code == 404


def test_tenant_host_serves_its_own_sign_in(make_tenant, client_for):
    tenant = make_tenant("本院")
    body = client_for(tenant).get("/login").get_data(as_text=True)
    assert "本院" in body
    assert client_for(tenant).get("/clinics").status_code == 404


def test_custom_domain_names_a_tenant(app, client_for):
    from tenants.services import create_tenant

    with app.app_context():
        create_tenant("custom1", "定制域名诊所", domains=("care.example.cn",))
    assert "定制域名诊所" in client_for(host="care.example.cn").get("/login").get_data(as_text=True)
