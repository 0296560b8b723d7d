from app.patients import services
from app.patients.search_terms import terms_for
from tenants.context import tenant_context


def test_terms_cover_fragments_pinyin_initials_card_and_last4():
    terms = terms_for("张明华", "DE000042", "5678")
    assert {"张明华", "明华", "华", "zhangminghua", "minghua", "zmh", "mh", "de000042", "42", "5678"} <= terms


def test_search_by_every_key(app, make_tenant, make_patient):
    tenant = make_tenant()
    target = make_patient(tenant, name="张明华", mobile="13512349876")
    make_patient(tenant, name="李小龙", mobile="13687654321")
    other = make_tenant()
    make_patient(other, name="张明华", mobile="13512349876")  # same person elsewhere: never found here
    with app.app_context(), tenant_context(tenant.id):
        for query in ("明华", "张", "zhangming", "ZhangMingHua", "zmh", "mh", target.card_no,
                      target.card_no.lower(), "9876", "13512349876", "135 1234 9876"):
            found = services.search(query).patients
            assert [p.id for p in found] == [target.id], query
        assert services.search("王").patients == []


def test_search_pages(app, make_tenant, make_patient):
    tenant = make_tenant()
    for i in range(5):
        make_patient(tenant, name=f"周{'一二三四五'[i]}")
    with app.app_context(), tenant_context(tenant.id):
        first = services.search("zhou", page_size=2)
        assert len(first.patients) == 2 and first.has_next
        last = services.search("zhou", page=3, page_size=2)
        assert len(last.patients) == 1 and not last.has_next


def test_live_search_returns_partial_for_htmx(make_tenant, make_patient, client_for):
    tenant = make_tenant()
    make_patient(tenant, name="陈静")
    client = client_for(tenant, tenant.owner_email)
    partial = client.get("/patients?q=cj", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "陈静" in partial and "<html" not in partial
    full = client.get("/patients?q=cj").get_data(as_text=True)
    assert "陈静" in full and "<html" in full
