"""The questionnaire builder: build, branch, publish versions, refuse a draft with problems, FHIR export and
import, and who may open it."""
import io
import json
import re

import pytest

from tenants.context import tenant_context
from tenants.db import db

pytestmark = pytest.mark.postgres


def _build(client) -> int:
    """A clinic questionnaire: a single choice "smoker" (yes/no codes) and a number shown only for "yes"."""
    created = client.submit("/questionnaires/new", {"key": "smoke_check", "kind": "lifestyle",
                                                    "title_zh": "吸烟情况", "title_en": "Smoking check"})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    qid = int(re.search(r"/questionnaires/(\d+)/builder", created.headers["Location"]).group(1))
    saved = client.submit(f"/questionnaires/{qid}/builder/questions/q1", {
        "key": "smoker", "type": "single", "text_zh": "您吸烟吗？", "text_en": "Do you smoke?", "required": "1",
        "opt-0-code": "yes", "opt-0-zh": "是", "opt-0-en": "Yes", "opt-0-score": "1",
        "opt-1-code": "no", "opt-1-zh": "否", "opt-1-en": "No", "opt-1-score": "0"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    added = client.submit(f"/questionnaires/{qid}/builder/questions", {"section": "s1", "type": "number"})
    assert added.status_code == 302
    new_key = added.headers["Location"].rsplit("/", 1)[1]
    saved = client.submit(f"/questionnaires/{qid}/builder/questions/{new_key}", {
        "key": "per_day", "type": "number", "text_zh": "每天几支？", "text_en": "How many a day?", "unit": "支",
        "min": "0", "max": "100", "integer": "1",
        "cond_question": "smoker", "cond_op": "eq", "cond_value": "yes"}, headers={"HX-Request": "true"})
    assert saved.status_code == 200, saved.get_data(as_text=True)[:3000]
    assert 'id="bq-per_day"' in saved.get_data(as_text=True)
    return qid


def _draft(app, clinic, qid):
    from app.questionnaires import library

    with app.app_context(), tenant_context(clinic.id):
        return library.get(qid).draft


def test_build_publish_respond_and_a_second_version(app, make_tenant, make_patient, client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    defn = _draft(app, clinic, qid)
    per_day = defn["sections"][0]["questions"][1]
    assert per_day["show_if"] == {"question": "smoker", "op": "eq", "value": "yes"}
    assert per_day["integer"] is True and per_day["max"] == 100

    page = owner.get(f"/questionnaires/{qid}/builder/preview").get_data(as_text=True)
    assert "phone-frame" in page and "data-show-if" in page and "questionnaire.js" in page

    published = owner.submit(f"/questionnaires/{qid}/builder/publish")
    assert published.status_code == 302, published.get_data(as_text=True)[:3000]
    from app.patients import services as patients
    from app.questionnaires import fill, library, responses
    from app.questionnaires.definition import visible_questions

    with app.app_context(), tenant_context(clinic.id):
        questionnaire = library.get(qid)
        assert questionnaire.current_version == 1 and questionnaire.draft is None
        response = responses.request(questionnaire, patients.get(patient.id), channel="staff")
        v1 = library.current_version(questionnaire)
        assert visible_questions(v1.definition, {"smoker": "no"}) == ["smoker"]
        assert visible_questions(v1.definition, {"smoker": "yes"}) == ["smoker", "per_day"]
        db.session.commit()
        response_id = response.id
    assert hasattr(fill, "__name__")

    # edit: a new draft from v1, the number question's text changes, published as v2
    assert owner.submit(f"/questionnaires/{qid}/builder/start").status_code == 302
    saved = owner.submit(f"/questionnaires/{qid}/builder/questions/per_day", {
        "key": "per_day", "type": "number", "text_zh": "每天吸几支烟？", "text_en": "Cigarettes a day?",
        "cond_question": "smoker", "cond_op": "eq", "cond_value": "yes"})
    assert saved.status_code == 302
    assert owner.submit(f"/questionnaires/{qid}/builder/publish").status_code == 302
    detail = owner.get(f"/questionnaires/{qid}").get_data(as_text=True)
    assert "Version 2" in detail or "版本 2" in detail or "第 2 版" in detail or "2" in detail
    with app.app_context(), tenant_context(clinic.id):
        questionnaire = library.get(qid)
        assert questionnaire.current_version == 2
        response = responses.get(response_id)
        old = responses.definition_of(response)
        assert old["version"] == 1
        assert old["sections"][0]["questions"][1]["text"]["en"] == "How many a day?"
        assert library.current_version(questionnaire).definition["sections"][0]["questions"][1]["text"]["en"] == \
            "Cigarettes a day?"
        names = {v.published_by for v in library.versions(questionnaire)}
        assert None not in names


def test_a_question_form_error_keeps_the_typing_and_names_the_field(app, make_tenant, client_for):
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    bad = owner.submit(f"/questionnaires/{qid}/builder/questions/per_day", {
        "key": "per_day", "type": "number", "text_zh": "每天几支？", "text_en": "", "min": "ten",
        "cond_question": "smoker", "cond_op": "eq", "cond_value": "maybe"}, headers={"HX-Request": "true"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert 'id="bq-per_day-text-en-error"' in html and 'id="bq-per_day-min-error"' in html
    assert 'value="ten"' in html and "每天几支？" in html
    # "maybe" is no option of smoker: check_definition's problem is next to the branch
    fixed = owner.submit(f"/questionnaires/{qid}/builder/questions/per_day", {
        "key": "per_day", "type": "number", "text_zh": "每天几支？", "text_en": "A day?",
        "cond_question": "smoker", "cond_op": "eq", "cond_value": "maybe"}, headers={"HX-Request": "true"})
    assert fixed.status_code == 400
    assert re.search(r'id="bq-per_day-cond-question-error">[^<]*maybe', fixed.get_data(as_text=True))


def test_a_draft_with_problems_is_refused_with_the_message_next_to_the_question(app, make_tenant, client_for):
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    # moving the branching question above the one it names: the branch names a later question
    moved = owner.submit(f"/questionnaires/{qid}/builder/arrange-question", {"question": "per_day", "do": "up"})
    assert moved.status_code == 302
    refused = owner.submit(f"/questionnaires/{qid}/builder/publish")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert re.search(r'id="bq-per_day-problems"><li>[^<]*不在它前面', html)
    # a band gap in a sum score
    owner.submit(f"/questionnaires/{qid}/builder/arrange-question", {"question": "per_day", "do": "down"})
    gap = owner.submit(f"/questionnaires/{qid}/builder/scores", {
        "key": "total", "label_zh": "总分", "label_en": "Total", "items": ["smoker"],
        "band-0-min": "0", "band-0-max": "0", "band-0-zh": "不吸", "band-0-en": "No",
        "band-1-min": "2", "band-1-max": "2", "band-1-zh": "吸", "band-1-en": "Yes"})
    assert gap.status_code == 400
    assert re.search(r'id="bsc-new-bands-error">[^<]*之间有空档', gap.get_data(as_text=True))
    with app.app_context(), tenant_context(clinic.id):
        from app.questionnaires import library

        draft = library.get(qid).draft
        draft["scores"] = [{"key": "total", "label": {"zh": "总分", "en": "Total"}, "method": "sum",
                            "items": ["smoker"], "bands": [
                                {"key": "b1", "min": 0, "max": 0, "label": {"zh": "否", "en": "No"}},
                                {"key": "b2", "min": 2, "max": 2, "label": {"zh": "是", "en": "Yes"}}]}]
        library.get(qid).draft = json.loads(json.dumps(draft))
        db.session.commit()
    refused = owner.submit(f"/questionnaires/{qid}/builder/publish")
    assert refused.status_code == 400
    assert re.search(r'id="bsc-total-problems"><li>[^<]*之间有空档', refused.get_data(as_text=True))
    # corrected, it publishes, scored
    ok = owner.submit(f"/questionnaires/{qid}/builder/scores/total", {
        "key": "total", "label_zh": "总分", "label_en": "Total", "items": ["smoker"],
        "band-0-min": "0", "band-0-max": "0", "band-0-zh": "不吸", "band-0-en": "No",
        "band-1-min": "1", "band-1-max": "1", "band-1-zh": "吸", "band-1-en": "Yes", "band-1-izh": "建议戒烟",
        "band-1-ien": "Advise quitting"})
    assert ok.status_code == 302, ok.get_data(as_text=True)[:3000]
    assert owner.submit(f"/questionnaires/{qid}/builder/publish").status_code == 302



def test_a_builder_problem_reads_in_the_page_language(app, make_tenant, client_for):
    """The same refused draft: the problem next to the question in Chinese on a zh page, in English on an en page,
    naming the question, its section and the question its branch names."""
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    assert owner.submit(f"/questionnaires/{qid}/builder/arrange-question",
                        {"question": "per_day", "do": "up"}).status_code == 302
    zh = owner.submit(f"/questionnaires/{qid}/builder/publish")
    assert zh.status_code == 400
    found = re.search(r'id="bq-per_day-problems"><li>([^<]*)</li>', zh.get_data(as_text=True))
    assert found, zh.get_data(as_text=True)[:3000]
    assert found.group(1) == ("部分 &#39;s1&#39; 中题目 &#39;per_day&#39; 的显示条件：条件引用的题目 &#39;smoker&#39; "
                              "不在它前面")
    owner.submit("/lang/en")
    en = owner.submit(f"/questionnaires/{qid}/builder/publish")
    assert en.status_code == 400
    found = re.search(r'id="bq-per_day-problems"><li>([^<]*)</li>', en.get_data(as_text=True))
    assert found.group(1) == ("question &#39;per_day&#39; in section &#39;s1&#39; show_if: the condition names "
                              "question &#39;smoker&#39;, which does not come before it")
    # a question form's error, next to its field, follows the language too
    bad = owner.submit(f"/questionnaires/{qid}/builder/questions/per_day", {
        "key": "per_day", "type": "number", "text_zh": "每天几支？", "text_en": "A day?",
        "cond_question": "smoker", "cond_op": "eq", "cond_value": "maybe"}, headers={"HX-Request": "true"})
    assert re.search(r'id="bq-per_day-cond-question-error">[^<]*is not an option code of question',
                     bad.get_data(as_text=True))

def test_export_import_round_trip_and_bad_uploads(app, make_tenant, client_for):
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    assert owner.submit(f"/questionnaires/{qid}/builder/publish").status_code == 302
    from app.questionnaires import library

    with app.app_context(), tenant_context(clinic.id):
        version = library.current_version(library.get(qid))
        version_id, published = version.id, version.definition
    exported = owner.get(f"/questionnaires/{qid}/versions/{version_id}/fhir")
    assert exported.status_code == 200 and exported.mimetype == "application/fhir+json"
    assert "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data()
    resource = json.loads(body)
    assert resource["resourceType"] == "Questionnaire"

    # the same key: asked first, then a new draft of it
    asked = owner.post("/questionnaires/import", data={"csrf_token": owner.csrf(),
                                                        "file": (io.BytesIO(body), "q.json")},
                       content_type="multipart/form-data")
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert 'name="replace" value="1"' in html and "smoke_check" in html
    payload = re.search(r'name="payload" value="([^"]*)"', html).group(1)
    import html as html_lib

    done = owner.submit("/questionnaires/import", {"payload": html_lib.unescape(payload), "replace": "1"})
    assert done.status_code == 302
    with app.app_context(), tenant_context(clinic.id):
        draft = library.get(qid).draft
        assert {k: v for k, v in draft.items() if k != "version"} == \
            {k: v for k, v in published.items() if k != "version"}
        from sqlalchemy import select

        from app.core.audit import AuditEvent

        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "questionnaire_imported"))
        assert event.detail == {"questionnaire": "smoke_check", "version": 2}

    # a new key imports as a new questionnaire
    resource["extension"][0]["valueString"] = resource["extension"][0]["valueString"].replace(
        "smoke_check", "smoke_copy")
    new = owner.post("/questionnaires/import", data={"csrf_token": owner.csrf(), "file": (
        io.BytesIO(json.dumps(resource).encode()), "copy.json")}, content_type="multipart/form-data")
    assert new.status_code == 302
    with app.app_context(), tenant_context(clinic.id):
        copy = library.by_key("smoke_copy")
        assert copy is not None and copy.draft["sections"] == published["sections"]

    # not JSON; an item type we do not take
    bad = owner.post("/questionnaires/import", data={"csrf_token": owner.csrf(), "file": (
        io.BytesIO(b"{not json"), "bad.json")}, content_type="multipart/form-data")
    assert bad.status_code == 400
    assert re.search(r'id="import-file-error">[^<]*JSON', bad.get_data(as_text=True))
    resource["item"][0]["item"][1]["type"] = "attachment"  # as a foreign Questionnaire says it: no extension
    resource["item"][0]["item"][1].pop("extension", None)
    foreign = owner.post("/questionnaires/import", data={"csrf_token": owner.csrf(), "file": (
        io.BytesIO(json.dumps(resource).encode()), "x.json")}, content_type="multipart/form-data")
    assert foreign.status_code == 400
    assert re.search(r'id="import-file-error">[^<]*per_day[^<]*attachment', foreign.get_data(as_text=True))



FOREIGN_BAD = {"resourceType": "Questionnaire", "status": "active", "name": "habits", "item": [
    {"linkId": "habits", "type": "group", "text": "Habits", "item": [
        {"linkId": "hb.1", "type": "boolean", "text": "Do you smoke?"},
        {"linkId": "hb.2", "type": "choice", "text": "Diet", "answerValueSet": "http://example.org/vs/diet"}]}]}


def test_an_import_with_a_bad_item_names_the_item_in_the_users_language(app, make_tenant, client_for):
    """A foreign Questionnaire with an item we cannot take: the message names its linkId, in Chinese for a zh
    user (the default) and in English for one who chose English."""
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)

    def upload():
        return owner.post("/questionnaires/import", data={"csrf_token": owner.csrf(), "file": (
            io.BytesIO(json.dumps(FOREIGN_BAD).encode()), "habits.json")}, content_type="multipart/form-data")

    refused = upload()
    assert refused.status_code == 400
    error = re.search(r'id="import-file-error">([^<]*)<', refused.get_data(as_text=True)).group(1)
    assert error == ("无法导入该问卷：条目 &#39;hb.2&#39;：不支持取自值集（answerValueSet）的答案，请以 answerOption "
                     "逐一列出")
    owner.submit("/lang/en")
    refused = upload()
    error = re.search(r'id="import-file-error">([^<]*)<', refused.get_data(as_text=True)).group(1)
    assert error == ("The Questionnaire cannot be imported: item &#39;hb.2&#39;: answers from a value set are not "
                     "supported; list them as answerOption")

def test_a_pack_instrument_is_edited_as_a_copy(app, make_tenant, client_for):
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    from app.questionnaires import library

    with app.app_context(), tenant_context(clinic.id):
        library.sync_pack()
        db.session.commit()
        qid = library.by_key("gad7").id
    detail = owner.get(f"/questionnaires/{qid}").get_data(as_text=True)
    assert f"/questionnaires/{qid}/builder/start" in detail
    assert owner.submit(f"/questionnaires/{qid}/builder/start").status_code == 302
    page = owner.get(f"/questionnaires/{qid}/builder")
    assert page.status_code == 200
    # unchanged, publishing makes no version and drops the draft
    assert owner.submit(f"/questionnaires/{qid}/builder/publish").status_code == 302
    with app.app_context(), tenant_context(clinic.id):
        questionnaire = library.get(qid)
        assert questionnaire.current_version == 1 and questionnaire.draft is None
    owner.submit(f"/questionnaires/{qid}/builder/start")
    assert owner.submit(f"/questionnaires/{qid}/builder/discard").status_code == 302
    with app.app_context(), tenant_context(clinic.id):
        assert library.get(qid).draft is None


def test_an_unpublished_questionnaire_is_not_sent_and_discarding_it_leaves_nothing(app, make_tenant,
                                                                                   make_patient, client_for):
    clinic = make_tenant()
    patient = make_patient(clinic)
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    detail = owner.get(f"/questionnaires/{qid}").get_data(as_text=True)
    assert f"/questionnaires/{qid}/send" not in detail and f"/questionnaires/{qid}/builder" in detail
    sent = owner.submit(f"/questionnaires/{qid}/send", {"card_no": patient.card_no})
    assert sent.status_code == 302
    assert owner.submit(f"/questionnaires/{qid}/builder/discard").status_code == 302
    from app.questionnaires import library

    with app.app_context(), tenant_context(clinic.id):
        assert library.get(qid) is None
    assert owner.get(f"/questionnaires/{qid}/builder").status_code == 404


@pytest.mark.parametrize("role", ["front_desk", "doctor"])
def test_front_desk_and_doctor_cannot_open_the_builder(app, make_tenant, make_staff, client_for, role):
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    other = client_for(clinic, make_staff(clinic, role).email)
    assert other.get("/questionnaires/new").status_code == 403
    assert other.get(f"/questionnaires/{qid}/builder").status_code == 403
    assert other.get("/questionnaires/import").status_code == 403
    assert other.submit(f"/questionnaires/{qid}/builder/publish").status_code == 403


def test_sections_matrix_text_and_a_renamed_key(app, make_tenant, client_for):
    clinic = make_tenant()
    owner = client_for(clinic, clinic.owner_email)
    qid = _build(owner)
    base = f"/questionnaires/{qid}/builder"
    assert owner.submit(f"{base}/sections").status_code == 302
    defn = _draft(app, clinic, qid)
    s2 = defn["sections"][1]["key"]
    q_in_s2 = defn["sections"][1]["questions"][0]["key"]
    # the second section is shown only for smokers
    saved = owner.submit(f"{base}/sections/{s2}", {"key": "habits", "title_zh": "习惯", "title_en": "Habits",
                                                    "cond_question": "smoker", "cond_op": "eq", "cond_value": "yes"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    # a matrix there, and a short text with a format
    matrix = owner.submit(f"{base}/questions/{q_in_s2}", {
        "key": "when", "type": "matrix", "text_zh": "何时吸烟", "text_en": "When do you smoke", "required": "1",
        "opt-0-code": "never", "opt-0-zh": "从不", "opt-0-en": "Never", "opt-0-score": "0",
        "opt-1-code": "often", "opt-1-zh": "经常", "opt-1-en": "Often", "opt-1-score": "2",
        "row-0-key": "morning", "row-0-zh": "早上", "row-0-en": "Morning",
        "row-1-key": "evening", "row-1-zh": "晚上", "row-1-en": "Evening"})
    assert matrix.status_code == 302, matrix.get_data(as_text=True)[:3000]
    added = owner.submit(f"{base}/questions", {"section": "habits", "type": "text"})
    text_key = added.headers["Location"].rsplit("/", 1)[1]
    text = owner.submit(f"{base}/questions/{text_key}", {
        "key": "brand", "type": "text", "text_zh": "品牌", "text_en": "Brand", "max_length": "20",
        "pattern": "[A-Za-z ]+", "pattern_message_zh": "请用字母", "pattern_message_en": "Letters only",
        "cond_question": "when.evening", "cond_op": "eq", "cond_value": "often"})
    assert text.status_code == 302, text.get_data(as_text=True)[:3000]
    # renaming "smoker" follows into the section's branch
    renamed = owner.submit(f"{base}/questions/smoker", {
        "key": "smokes", "type": "single", "text_zh": "您吸烟吗？", "text_en": "Do you smoke?",
        "opt-0-code": "yes", "opt-0-zh": "是", "opt-0-en": "Yes", "opt-0-score": "1",
        "opt-1-code": "no", "opt-1-zh": "否", "opt-1-en": "No", "opt-1-score": "0"})
    assert renamed.status_code == 302
    from app.questionnaires.definition import check_definition, validate_answers, visible_questions

    defn = _draft(app, clinic, qid)
    assert check_definition(defn) == []
    assert defn["sections"][1]["show_if"] == {"question": "smokes", "op": "eq", "value": "yes"}
    assert defn["sections"][0]["questions"][1]["show_if"]["question"] == "smokes"
    brand = defn["sections"][1]["questions"][1]
    assert brand["max_length"] == 20 and brand["pattern_message"] == {"zh": "请用字母", "en": "Letters only"}
    assert visible_questions(defn, {"smokes": "no"}) == ["smokes"]
    assert visible_questions(defn, {"smokes": "yes", "when": {"evening": "often"}}) == [
        "smokes", "per_day", "when", "brand"]
    assert "brand" in validate_answers(defn, {"smokes": "yes", "when": {"morning": "never", "evening": "often"},
                                              "brand": "123"})
    # a question moved up past the top of its section goes to the end of the one before
    moved = owner.submit(f"{base}/arrange-question", {"question": "when", "do": "up"})
    assert moved.status_code == 302
    defn = _draft(app, clinic, qid)
    assert [q["key"] for q in defn["sections"][0]["questions"]] == ["smokes", "per_day", "when"]
    assert check_definition(defn) == []
    back = owner.submit(f"{base}/arrange-question", {"question": "when", "do": "down"})
    assert back.status_code == 302
    assert [q["key"] for q in _draft(app, clinic, qid)["sections"][1]["questions"]] == ["when", "brand"]
    preview = owner.get(f"{base}/preview")
    assert preview.status_code == 200 and 'name="when.morning"' in preview.get_data(as_text=True)
