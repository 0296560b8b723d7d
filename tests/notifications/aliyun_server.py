"""A local fake of Alibaba Cloud SMS (Dysmsapi 2017-05-25) that checks requests the way the provider does.

It verifies the RPC signature with its own canonicalization (deliberately not importing the adapter's `sign`),
the common parameters, timestamp skew and nonce replay, then implements SendSms and QuerySendDetails over an
in-memory list of accepted messages. Error codes and HTTP statuses follow the provider's documentation where
it names them (SignatureDoesNotMatch, SignatureNonceUsed, InvalidAccessKeyId.NotFound, InvalidTimeStamp.Expired,
isv.MOBILE_NUMBER_ILLEGAL, isv.SMS_SIGNATURE_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS,
isv.INVALID_JSON_PARAM); the Missing<Param> / Invalid<Param> codes for malformed requests are best effort.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

CST = timezone(timedelta(hours=8))  # the provider's calendar for SendDate
MAX_SKEW = timedelta(minutes=15)
COMMON_REQUIRED = ("Action", "Version", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
                   "SignatureNonce", "Timestamp", "Signature")
MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def rfc3986(text: str) -> str:
    """Byte-wise RFC 3986 encoding of the UTF-8 text, as the provider's signature rules describe."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def string_to_sign(method: str, params: dict[str, str]) -> str:
    pairs = [rfc3986(k) + "=" + rfc3986(params[k]) for k in sorted(params) if k != "Signature"]
    return method + "&" + rfc3986("/") + "&" + rfc3986("&".join(pairs))


def expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign(method, params).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


@dataclass
class SentMessage:
    phone: str
    sign_name: str
    template_code: str
    params: dict
    out_id: str | None
    biz_id: str
    sent_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class FakeAliyun:
    """State and knobs of one running fake; see `fake_aliyun`."""

    def __init__(self, access_keys: dict[str, str], sign_names: set[str], templates: dict[str, set[str]]):
        self.access_keys = dict(access_keys)
        self.sign_names = set(sign_names)
        self.templates = {code: set(variables) for code, variables in templates.items()}
        self.sent: list[SentMessage] = []
        self.delay_seconds: float = 0.0
        self.url = ""
        self._nonces: set[str] = set()
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def fail_next_with_status(self, code: int, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP `code` before looking at them (a gateway fault)."""
        with self._lock:
            self._failures.extend([code] * times)

    # -- request handling -------------------------------------------------------------------------------
    def handle(self, method: str, params: dict[str, str]) -> dict:
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
                raise ApiError(status, "ServiceUnavailable" if status == 503 else "InternalError",
                               "The request has failed due to a temporary failure of the server.")
        self._check_common(method, params)
        action = params["Action"]
        if action == "SendSms":
            return self._send_sms(params)
        if action == "QuerySendDetails":
            return self._query_send_details(params)
        raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")

    def _check_common(self, method: str, params: dict[str, str]) -> None:
        for name in COMMON_REQUIRED:
            if not params.get(name):
                raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["Version"] != "2017-05-25":
            raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if params["Format"].upper() != "JSON":
            raise ApiError(400, "InvalidFormat", "This fake only answers Format=JSON.")
        if params["SignatureMethod"] != "HMAC-SHA1":
            raise ApiError(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
        if params["SignatureVersion"] != "1.0":
            raise ApiError(400, "InvalidSignatureVersion", "Specified signature version is not supported.")
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise ApiError(400, "InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted.") from None
        if abs(datetime.now(timezone.utc) - stamp) > MAX_SKEW:
            raise ApiError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        secret = self.access_keys.get(params["AccessKeyId"])
        if secret is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if not hmac.compare_digest(expected_signature(method, params, secret).encode(), params["Signature"].encode()):
            raise ApiError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                           f"server string to sign is:{string_to_sign(method, params)}")
        with self._lock:  # only a correctly signed request consumes its nonce
            if params["SignatureNonce"] in self._nonces:
                raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(params["SignatureNonce"])

    def _send_sms(self, params: dict[str, str]) -> dict:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        phones = params["PhoneNumbers"].split(",")
        if not all(MAINLAND_MOBILE.fullmatch(p) for p in phones):
            return _business_error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params["SignName"] not in self.sign_names:
            return _business_error("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        declared = self.templates.get(params["TemplateCode"])
        if declared is None:
            return _business_error("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return _business_error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return _business_error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not declared <= values.keys():
            return _business_error("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        biz_id = f"{random.randrange(10**17, 10**18)}^0"
        with self._lock:
            for phone in phones:
                self.sent.append(SentMessage(phone, params["SignName"], params["TemplateCode"], values,
                                             params.get("OutId"), biz_id))
        # Accepted before the delay: a client that gives up while we sleep has an "unknown outcome".
        if self.delay_seconds:
            self._stopping.wait(self.delay_seconds)
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": _request_id()}

    def _query_send_details(self, params: dict[str, str]) -> dict:
        for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
            if not params.get(name):
                raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
        try:
            send_date = datetime.strptime(params["SendDate"], "%Y%m%d").date()
            page_size, page = int(params["PageSize"]), int(params["CurrentPage"])
        except ValueError:
            raise ApiError(400, "InvalidParameter",
                           "SendDate must be yyyyMMdd; PageSize and CurrentPage integers.") from None
        if not 1 <= page_size <= 50 or page < 1:
            raise ApiError(400, "InvalidParameter", "PageSize must be 1..50 and CurrentPage at least 1.")
        with self._lock:
            matches = [m for m in reversed(self.sent)
                       if m.phone == params["PhoneNumber"] and m.sent_at.astimezone(CST).date() == send_date
                       and params.get("BizId") in (None, "", m.biz_id)]
        items = [_detail(m) for m in matches[(page - 1) * page_size: page * page_size]]
        return {"Code": "OK", "Message": "OK", "RequestId": _request_id(), "TotalCount": len(matches),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": items}}


def _business_error(code: str, message: str) -> dict:
    """SendSms business rejections come back as HTTP 200 with a non-OK Code."""
    return {"Code": code, "Message": message, "RequestId": _request_id()}


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _detail(m: SentMessage) -> dict:
    local = m.sent_at.astimezone(CST)
    return {"PhoneNum": m.phone, "SendStatus": 3, "ErrCode": "DELIVERED", "TemplateCode": m.template_code,
            "Content": f"【{m.sign_name}】{m.template_code} {json.dumps(m.params, ensure_ascii=False)}",
            "SendDate": local.strftime("%Y-%m-%d %H:%M:%S"),
            "ReceiveDate": (local + timedelta(seconds=3)).strftime("%Y-%m-%d %H:%M:%S"), "OutId": m.out_id or ""}


def _handler_for(fake: FakeAliyun) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def _unsupported(self):
            self._reply(405, {"Code": "UnsupportedHTTPMethod", "Message": "Only GET and POST are supported.",
                              "RequestId": _request_id()})

        do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _unsupported

        def _serve(self, method: str) -> None:
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            if target.path != "/":
                return self._reply(404, {"Code": "InvalidApi.NotFound", "Message": "Specified api is not found.",
                                         "RequestId": _request_id()})
            params = dict(parse_qsl(target.query, keep_blank_values=True))
            if method == "POST" and raw_body:
                params.update(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True))
            try:
                self._reply(200, fake.handle(method, params))
            except ApiError as err:
                self._reply(err.status, {"Code": err.code, "Message": err.message, "RequestId": _request_id(),
                                         "HostId": "dysmsapi.aliyuncs.com"})

        def _reply(self, status: int, body: dict) -> None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); the outcome stays recorded in fake.sent

        def log_message(self, format, *args):  # keep pytest output quiet
            pass

    return Handler


@contextmanager
def fake_aliyun(access_keys: dict[str, str], sign_names: set[str], templates: dict[str, set[str]]):
    """Run the fake on 127.0.0.1 (ephemeral port) for the duration of the block; yields the FakeAliyun.

    `templates` maps TemplateCode to the set of variable names the template declares."""
    fake = FakeAliyun(access_keys, sign_names, templates)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-aliyun",
                              daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
