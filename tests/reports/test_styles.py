"""The clinic's report style: its colour and, per report template, which sections print in which order; a
preview of each template on made-up data; printing with a template follows the clinic's order."""
from datetime import date

from app.patients.models import Patient
from app.reports import content, printing, styles, summary_draft
from tenants.context import tenant_context
from tenants.db import db
from tests.pdfs import poppler
from tests.reports.test_health_report import _two_exams

CHRONIC = "chronic_review"


def _order_form(colour: str, positions: dict[str, str]) -> dict:
    form = {"colour": colour}
    for key in styles.templates():
        for section in styles.SECTIONS:
            form[f"{key}-{section}"] = ""
    for key in styles.templates():  # the pack's order unless given
        for n, section in enumerate(styles.templates()[key]["sections"], start=1):
            form[f"{key}-{section}"] = str(n)
    form.update({f"{CHRONIC}-{section}": text for section, text in positions.items()})
    return form


def test_the_clinic_orders_sections_and_previews_them(app, make_tenant, make_staff, client_for):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    assert client_for(tenant, make_staff(tenant, "doctor").email).get("/reports/style").status_code == 403

    wanted = {"trends": "1", "findings": "2", "abnormal": "3", "signature": "4", "summary": "", "results": "",
              "risks": "", "advice": ""}
    for colour, positions, error in (("red", wanted, 'id="e-colour"'),
                                     ("#aa3300", {**wanted, "findings": "1"}, f'id="e-order-{CHRONIC}"'),
                                     ("#aa3300", {**wanted, "signature": ""}, f'id="e-order-{CHRONIC}"'),
                                     ("#aa3300", {**wanted, "trends": "x"}, f'id="e-order-{CHRONIC}"')):
        refused = owner.submit("/reports/style", data=_order_form(colour, positions))
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and error in page, (colour, positions)
        assert f'value="{positions["trends"]}"' in page  # the typing is kept
    assert owner.submit("/reports/style", data=_order_form("#AA3300", wanted)).status_code == 302
    with app.app_context(), tenant_context(tenant.id):
        assert styles.order(CHRONIC) == ["trends", "findings", "abnormal", "signature"]
        assert styles.order("general_checkup") == styles.templates()["general_checkup"]["sections"]
        assert styles.colour() == "#aa3300"

    preview = owner.get(f"/reports/style/preview/{CHRONIC}.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    text = poppler("pdftotext", preview.data)
    assert "示例患者" in text and "空腹血糖" in text
    contents = text[text.index("目录"):]
    assert contents.index("历年趋势") < contents.index("检查结果综述") < contents.index("异常结果及其含义")
    assert "全部结果（按项目分组）" not in text  # left out
    assert owner.get("/reports/style/preview/nonsense.pdf").status_code == 404

    other = make_tenant()
    with app.app_context(), tenant_context(other.id):
        assert styles.order(CHRONIC) == styles.templates()[CHRONIC]["sections"]  # one clinic's style is its own


def test_a_report_prints_in_the_chosen_templates_order(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, sex="F", birth_date=date(1970, 3, 8))
    _two_exams(app, tenant, patient)
    with app.app_context(), tenant_context(tenant.id), app.test_request_context():
        p = db.session.get(Patient, (tenant.id, patient.id))
        report = content.build(p, date(2026, 6, 2), "zh_CN")
        assert printing.shown_sections(report, CHRONIC) == ["findings", "trends", "risks", "abnormal", "results",
                                                            "signature"]  # no summary or advice to print
        rendered = printing.render(p, date(2026, 6, 2), "zh_CN", template_key=CHRONIC)
        text = poppler("pdftotext", rendered.data)
        assert text.index("历年趋势") < text.index("异常结果及其含义")


def test_the_clinic_words_the_summarys_sentences(app, make_tenant, make_patient, client_for):
    tenant = make_tenant()
    patient = make_patient(tenant, sex="F", birth_date=date(1970, 3, 8))
    _two_exams(app, tenant, patient)
    owner = client_for(tenant, tenant.owner_email)
    refused = owner.submit("/reports/style/sentences", data={
        "sentence-zh_CN-recheck": "请复查%(indicator)s。", "sentence-en-contacts": "100% sure: %(total)d"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="e-sentence-zh_CN-recheck"' in page
    assert 'id="e-sentence-en-contacts"' in page and "请复查%(indicator)s。" in page  # the typing is kept
    saved = owner.submit("/reports/style/sentences", data={"sentence-zh_CN-recheck": "下次来时请复查：%(names)s。"})
    assert saved.status_code == 302
    assert "下次来时请复查：空腹血糖。" in owner.get("/reports/style").get_data(as_text=True)  # the example
    with app.app_context(), tenant_context(tenant.id), app.test_request_context():
        p = db.session.get(Patient, (tenant.id, patient.id))
        text = summary_draft.draft(p, date(2026, 1, 1), date(2026, 6, 10), "zh_CN")
        assert "· 下次来时请复查：空腹血糖、收缩压、舒张压。" in text
        assert "· 期间没有随访记录。" in text  # a sentence the clinic left alone keeps the default
    other = make_tenant()
    with app.app_context(), tenant_context(other.id):
        assert styles.sentence_words() == {}
