"""The Alibaba Cloud SMS adapter against the local fake provider, plus known-answer tests of the signature."""
import json
import socket
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from app.notifications import sms_aliyun
from app.notifications.sms_aliyun import (
    FOUND,
    PROVIDER_TZ,
    AliyunSms,
    PermanentSmsError,
    TransientSmsError,
    canonicalized_query_string,
    percent_encode,
    sign,
)
from tests.notifications import aliyun_server
from tests.notifications.aliyun_server import fake_aliyun

KEYS = {"LTAItestkey": "s3cret/with+odd=chars"}
SIGN = "CareLoop诊所"
TEMPLATES = {"SMS_100": {"name", "time"}, "SMS_200": set()}


@pytest.fixture
def fake():
    with fake_aliyun(KEYS, {SIGN}, TEMPLATES) as server:
        yield server


def adapter(fake, secret="s3cret/with+odd=chars", key_id="LTAItestkey", timeout=5.0):
    return AliyunSms(fake.url, key_id, secret, SIGN, timeout=timeout)


def provider_today():
    return datetime.now(PROVIDER_TZ).date()


# -- SendSms -----------------------------------------------------------------------------------------------

def test_sent_message_is_accepted_and_recorded(fake):
    biz_id = adapter(fake).send("13812345678", "SMS_100", {"name": "王 小明", "time": 9}, "notif-1")
    assert biz_id.endswith("^0")
    [msg] = fake.sent
    assert (msg.phone, msg.sign_name, msg.template_code, msg.out_id, msg.biz_id) == (
        "13812345678", SIGN, "SMS_100", "notif-1", biz_id)
    assert msg.params == {"name": "王 小明", "time": "9"}  # values go out as strings, as the provider requires


def test_template_without_variables_needs_no_params(fake):
    assert adapter(fake).send("15900000000", "SMS_200", {}, "notif-2")
    assert fake.sent[0].params == {}


def test_wrong_secret_is_a_permanent_signature_error(fake):
    with pytest.raises(PermanentSmsError) as err:
        adapter(fake, secret="not-the-secret").send("13812345678", "SMS_100", {"name": "a", "time": "b"}, "n")
    assert err.value.code == "SignatureDoesNotMatch"
    assert fake.sent == []


def test_unknown_access_key(fake):
    with pytest.raises(PermanentSmsError) as err:
        adapter(fake, key_id="LTAIunknown").send("13812345678", "SMS_100", {"name": "a", "time": "b"}, "n")
    assert err.value.code == "InvalidAccessKeyId.NotFound"


@pytest.mark.parametrize("phone, template, params, code", [
    ("12812345678", "SMS_100", {"name": "a", "time": "b"}, "isv.MOBILE_NUMBER_ILLEGAL"),
    ("+8613812345678", "SMS_100", {"name": "a", "time": "b"}, "isv.MOBILE_NUMBER_ILLEGAL"),
    ("13812345678", "SMS_100", {"name": "a"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ("13812345678", "SMS_999", {}, "isv.SMS_TEMPLATE_ILLEGAL"),
])
def test_provider_rejections_are_permanent_with_the_provider_code(fake, phone, template, params, code):
    with pytest.raises(PermanentSmsError) as err:
        adapter(fake).send(phone, template, params, "n")
    assert err.value.code == code
    assert err.value.message
    assert fake.sent == []


def test_unknown_sign_name(fake):
    sms = AliyunSms(fake.url, "LTAItestkey", KEYS["LTAItestkey"], "Someone else")
    with pytest.raises(PermanentSmsError) as err:
        sms.send("13812345678", "SMS_200", {}, "n")
    assert err.value.code == "isv.SMS_SIGNATURE_ILLEGAL"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient_and_then_recover(fake, status):
    fake.fail_next_with_status(status, times=2)
    sms = adapter(fake)
    for _ in range(2):
        with pytest.raises(TransientSmsError):
            sms.send("13812345678", "SMS_200", {}, "n-5xx")
    assert fake.sent == []
    sms.send("13812345678", "SMS_200", {}, "n-5xx")
    assert len(fake.sent) == 1


def test_connection_refused_is_transient():
    with socket.socket() as s:  # a port nothing listens on once this socket closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sms = AliyunSms(f"http://127.0.0.1:{port}/", "id", "secret", SIGN, timeout=2)
    with pytest.raises(TransientSmsError) as err:
        sms.send("13812345678", "SMS_200", {}, "n")
    assert err.value.code == "NetworkError"


def test_timeout_is_transient_and_lookup_then_finds_the_accepted_message(fake):
    """The unknown-outcome case: the provider accepted the message but the sender stopped listening."""
    fake.delay_seconds = 2
    sms = adapter(fake, timeout=0.3)
    with pytest.raises(TransientSmsError):
        sms.send("13812345678", "SMS_200", {}, "notif-timeout")
    assert [m.out_id for m in fake.sent] == ["notif-timeout"]
    assert sms.lookup("13812345678", "notif-timeout", provider_today()) == FOUND


def test_replayed_nonce_is_refused(fake, monkeypatch):
    fixed = sms_aliyun.uuid.UUID("3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf")
    monkeypatch.setattr(sms_aliyun.uuid, "uuid4", lambda: fixed)
    sms = adapter(fake)
    sms.send("13812345678", "SMS_200", {}, "n-1")
    with pytest.raises(TransientSmsError) as err:  # same nonce: only a copy of an earlier request can do this
        sms.send("13812345678", "SMS_200", {}, "n-2")
    assert err.value.code == "SignatureNonceUsed"
    assert len(fake.sent) == 1


@pytest.mark.parametrize("code, transient", [
    ("isv.BUSINESS_LIMIT_CONTROL", True), ("Throttling.User", True), ("Throttling", True),
    ("isp.SYSTEM_ERROR", True), ("isv.MOBILE_NUMBER_ILLEGAL", False), ("SignatureDoesNotMatch", False),
    ("InvalidAccessKeyId.NotFound", False), ("isv.TEMPLATE_MISSING_PARAMETERS", False),
])
def test_error_classification(code, transient):
    assert sms_aliyun.is_transient_code(code) is transient
    for status in (200, 400):  # business errors come with 200, gateway errors with 4xx
        err = sms_aliyun._error_for(status, {"Code": code, "Message": "m"})
        assert isinstance(err, TransientSmsError if transient else PermanentSmsError)
        assert (err.code, err.message) == (code, "m")


# -- QuerySendDetails / lookup ------------------------------------------------------------------------------

def test_lookup_finds_a_sent_message_by_out_id(fake):
    sms = adapter(fake)
    sms.send("13812345678", "SMS_200", {}, "notif-a")
    sms.send("13812345678", "SMS_200", {}, "notif-b")
    sms.send("13900000000", "SMS_200", {}, "notif-c")
    today = provider_today()
    assert sms.lookup("13812345678", "notif-b", today) == FOUND
    assert sms.lookup("13812345678", "notif-unknown", today) is None
    assert sms.lookup("13812345678", "notif-c", today) is None  # other phone
    assert sms.lookup("13812345678", "notif-a", today - timedelta(days=1)) is None  # other day


def test_lookup_reads_every_page(fake):
    sms = adapter(fake)
    for i in range(53):
        sms.send("13812345678", "SMS_200", {}, f"bulk-{i}")
    assert sms.lookup("13812345678", "bulk-0", provider_today()) == FOUND  # oldest: on page 2


def test_lookup_returns_a_biz_id_when_the_item_carries_one(fake, monkeypatch):
    monkeypatch.setattr(aliyun_server, "_detail", lambda m: {"OutId": m.out_id, "BizId": m.biz_id})
    sms = adapter(fake)
    biz_id = sms.send("13812345678", "SMS_200", {}, "notif-x")
    assert sms.lookup("13812345678", "notif-x", provider_today()) == biz_id


def test_lookup_errors_are_classified(fake):
    fake.fail_next_with_status(503)
    with pytest.raises(TransientSmsError):
        adapter(fake).lookup("13812345678", "x", provider_today())
    with pytest.raises(PermanentSmsError):
        adapter(fake, secret="wrong").lookup("13812345678", "x", provider_today())


# -- the fake checks requests like the provider --------------------------------------------------------------

def raw_call(fake, params, method="POST", secret=KEYS["LTAItestkey"]):
    """Sign `params` with the adapter's sign() and send them by hand, returning (status, body)."""
    params = dict(params, Signature=sign(params, secret, method))
    encoded = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
    if method == "GET":
        request = urllib.request.Request(fake.url + "?" + encoded, method="GET")
    else:
        request = urllib.request.Request(fake.url, data=encoded.encode(), method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def common(**overrides):
    return {"Action": "QuerySendDetails", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": "LTAItestkey",
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": str(overrides.pop("n", "")),
            "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "RegionId": "cn-hangzhou",
            "PhoneNumber": "13812345678", "SendDate": provider_today().strftime("%Y%m%d"), "PageSize": "10",
            "CurrentPage": "1", **overrides}


def test_fake_accepts_a_signed_get(fake):
    status, body = raw_call(fake, common(n="get-1"), method="GET")
    assert (status, body["Code"], body["TotalCount"]) == (200, "OK", 0)


@pytest.mark.parametrize("overrides, status, code", [
    ({"Timestamp": "2017-07-12T02:42:19Z"}, 400, "InvalidTimeStamp.Expired"),
    ({"Timestamp": "yesterday"}, 400, "InvalidTimeStamp.Format"),
    ({"Version": "2018-05-01"}, 400, "InvalidVersion"),
    ({"SignatureMethod": "HMAC-SHA256"}, 400, "InvalidSignatureMethod"),
    ({"SignatureVersion": "2.0"}, 400, "InvalidSignatureVersion"),
    ({"Format": "XML"}, 400, "InvalidFormat"),
    ({"Action": "SendMagic"}, 404, "InvalidAction.NotFound"),
])
def test_fake_rejects_malformed_requests(fake, overrides, status, code):
    got_status, body = raw_call(fake, common(n=f"bad-{code}", **overrides))
    assert (got_status, body["Code"]) == (status, code)


def test_fake_requires_the_common_parameters(fake):
    params = common(n="missing-1")
    del params["Timestamp"]
    status, body = raw_call(fake, params)
    assert (status, body["Code"]) == (400, "MissingTimestamp")


def test_fake_checks_method_and_path(fake):
    status, body = raw_call(fake, common(n="put-1"), method="PUT")
    assert (status, body["Code"]) == (405, "UnsupportedHTTPMethod")
    request = urllib.request.Request(fake.url + "elsewhere", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == 404


# -- signing ------------------------------------------------------------------------------------------------

def test_sign_matches_the_sms_documentation_example():
    """Worked example from Alibaba Cloud's SMS "HTTP协议及签名" page (https://help.aliyun.com/document_detail/
    101343.htm; the same request appears at https://developer.aliyun.com/ask/218522): AccessKeyId testId,
    secret testSecret, GET, expected Signature zJDF+Lrzhj/ThnlvIToysFRq6t4= (zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D
    once URL-encoded)."""
    params = {
        "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
        "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
    }
    assert canonicalized_query_string(params) == (
        "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou"
        "&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8"
        "&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
        "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
        "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25")
    assert sign(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert sign(dict(params, Signature="ignored"), "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert sign(params, "testSecret", "POST") != "zJDF+Lrzhj/ThnlvIToysFRq6t4="  # the method is signed


def test_sign_matches_the_generic_rpc_documentation_example():
    """The DescribeRegions example of the RPC signature pages (e.g. https://developer.aliyun.com/ask/210168):
    testid / testsecret, expected CT9X0VtwR86fNWSnsc6v8YGOjuE=. (That page prints the StringToSign with raw "&"
    between pairs; the published signature is only reproduced with them encoded as %26, as the rules say.)"""
    params = {"TimeStamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
              "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
              "SignatureVersion": "1.0"}
    assert sign(params, "testsecret", "GET") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_percent_encoding_rules():
    assert percent_encode("a b*c~d+e/f:g-h_i.j") == "a%20b%2Ac~d%2Be%2Ff%3Ag-h_i.j"
    assert percent_encode("诊") == "%E8%AF%8A"


def test_adapter_and_fake_agree_on_awkward_values():
    params = {"Action": "SendSms", "TemplateParam": '{"k":"a b*~+/&=%"}', "SignName": "诊所 ~*", "Z": "", "a": "1"}
    for method in ("GET", "POST"):
        assert sign(params, "k&ey", method) == aliyun_server.expected_signature(method, params, "k&ey")


# -- configuration URL --------------------------------------------------------------------------------------

def test_from_url_https_with_percent_encoded_parts():
    sms = AliyunSms.from_url("aliyun://LTAI5t%2Bid:se%2Fcr%40et%3A1@dysmsapi.aliyuncs.com/"
                             "?sign_name=%E8%AF%8A%E6%89%80&timeout=3.5")
    assert (sms.endpoint, sms.access_key_id, sms._secret, sms.sign_name, sms.timeout) == (
        "https://dysmsapi.aliyuncs.com/", "LTAI5t+id", "se/cr@et:1", "诊所", 3.5)


def test_from_url_plain_http_for_local_servers():
    sms = AliyunSms.from_url("aliyun+http://id:secret@127.0.0.1:8123/?sign_name=CareLoop")
    assert (sms.endpoint, sms.access_key_id, sms._secret, sms.sign_name, sms.timeout) == (
        "http://127.0.0.1:8123/", "id", "secret", "CareLoop", 10.0)


def test_from_url_works_end_to_end(fake):
    host = fake.url.split("//", 1)[1]
    sms = AliyunSms.from_url(f"aliyun+http://LTAItestkey:s3cret%2Fwith%2Bodd%3Dchars@{host}"
                             "?sign_name=CareLoop%E8%AF%8A%E6%89%80")
    assert sms.send("13812345678", "SMS_200", {}, "via-url")


@pytest.mark.parametrize("url", [
    "https://id:secret@dysmsapi.aliyuncs.com/?sign_name=x",
    "aliyun://dysmsapi.aliyuncs.com/?sign_name=x",
    "aliyun://id@dysmsapi.aliyuncs.com/?sign_name=x",
    "aliyun://id:secret@dysmsapi.aliyuncs.com/",
])
def test_from_url_rejects_incomplete_urls(url):
    with pytest.raises(ValueError) as err:
        AliyunSms.from_url(url)
    assert "secret" not in str(err.value).replace("ACCESS_KEY_SECRET", "")
