"""SMS channel adapter for Alibaba Cloud SMS (Dysmsapi, API version 2017-05-25), standard library only.

Provider documentation this follows:
  * RPC signature (HMAC-SHA1, SignatureVersion 1.0, RFC 3986 percent-encoding, key = secret + "&"):
    https://www.alibabacloud.com/help/en/sms/signature-method
    and the SMS "HTTP协议及签名" page with the worked SendSms example used as our test vector:
    https://help.aliyun.com/document_detail/101343.htm
  * SendSms:          https://help.aliyun.com/en/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms
  * QuerySendDetails: https://help.aliyun.com/en/sms/developer-reference/api-dysmsapi-2017-05-25-querysenddetails
  * Error codes:      https://alibabacloud.com/help/en/sms/developer-reference/error-codes
SendSms is not idempotent on the provider side (the SendSms page says so): OutId is our idempotency key and
`lookup` is how a retry after an unknown outcome finds out whether the first attempt was accepted.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import ssl
import uuid
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, unquote, urlsplit

API_VERSION = "2017-05-25"
REGION_ID = "cn-hangzhou"
# The provider keeps its calendar (QuerySendDetails.SendDate) in China Standard Time.
PROVIDER_TZ = timezone(timedelta(hours=8), "CST")
# QuerySendDetails items carry OutId but no BizId; `lookup` returns this when the item has no BizId.
FOUND = "found"
_PAGE_SIZE = 50  # the documented maximum for QuerySendDetails.PageSize

# Codes that mean "not now" rather than "never": throttling, provider-side faults, and a replayed nonce
# (which can only happen if an earlier copy of the very same request reached the provider).
_TRANSIENT_CODES = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isp.SYSTEM_ERROR",
    "ServiceUnavailable", "InternalError", "SignatureNonceUsed",
})


class SmsError(Exception):
    """A send or lookup failed; `code` is the provider's Code (or our own for transport failures)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class TransientSmsError(SmsError):
    """Worth retrying later. The provider may nevertheless have accepted the message (timeouts, dropped
    connections), so a retry must call `AliyunSms.lookup` first."""


class PermanentSmsError(SmsError):
    """Retrying the same request will fail the same way (bad number, template, credentials, signature)."""


def is_transient_code(code: str) -> bool:
    return code in _TRANSIENT_CODES or code.startswith("Throttling")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 bytes: only A-Z a-z 0-9 - _ . ~ stay literal; space is %20, * is %2A."""
    return quote(value, safe="-_.~")


def canonicalized_query_string(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                    for k, v in sorted(params.items()) if k != "Signature")


def sign(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The Signature value (base64, not yet percent-encoded) for these request parameters.

    StringToSign = METHOD + "&" + percentEncode("/") + "&" + percentEncode(CanonicalizedQueryString);
    Signature = Base64(HMAC-SHA1(key=secret + "&", StringToSign)). A "Signature" entry in params is ignored."""
    string_to_sign = f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonicalized_query_string(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _error_for(status: int, body: dict | None) -> SmsError:
    code = str((body or {}).get("Code") or f"HTTP{status}")
    message = str((body or {}).get("Message") or "")
    if status >= 500 or status == 429 or (body is None and status < 400) or is_transient_code(code):
        return TransientSmsError(code, message)
    return PermanentSmsError(code, message)


class AliyunSms:
    def __init__(self, endpoint: str, access_key_id: str, access_key_secret: str, sign_name: str,
                 timeout: float = 10.0):
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("endpoint must be an http(s) URL such as https://dysmsapi.aliyuncs.com/")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.timeout = timeout

    @classmethod
    def from_url(cls, url: str) -> AliyunSms:
        """Build from ``aliyun://ID:SECRET@dysmsapi.aliyuncs.com/?sign_name=...`` (HTTPS) or
        ``aliyun+http://ID:SECRET@127.0.0.1:PORT/?sign_name=...`` (plain HTTP, for local fakes).
        Userinfo and query are percent-decoded; an optional ``timeout`` query parameter is in seconds."""
        parts = urlsplit(url)
        scheme = {"aliyun": "https", "aliyun+https": "https", "aliyun+http": "http"}.get(parts.scheme)
        if scheme is None:
            raise ValueError("SMS URL scheme must be aliyun, aliyun+https or aliyun+http")
        if not parts.username or not parts.password or not parts.hostname:
            raise ValueError("SMS URL needs ACCESS_KEY_ID:ACCESS_KEY_SECRET@host")
        query = parse_qs(parts.query)
        sign_name = query.get("sign_name", [""])[-1]
        if not sign_name:
            raise ValueError("SMS URL needs a sign_name query parameter")
        timeout = float(query["timeout"][-1]) if "timeout" in query else 10.0
        hostport = parts.netloc.rpartition("@")[2]
        return cls(f"{scheme}://{hostport}{parts.path or '/'}", unquote(parts.username), unquote(parts.password),
                   sign_name, timeout)

    def send(self, phone: str, template_code: str, params: dict, out_id: str) -> str:
        """SendSms to one mainland number; returns the provider's BizId. Template values are sent as strings
        (the provider rejects non-string JSON values)."""
        action = {"PhoneNumbers": phone, "SignName": self.sign_name, "TemplateCode": template_code, "OutId": out_id}
        if params:
            action["TemplateParam"] = json.dumps({str(k): str(v) for k, v in params.items()},
                                                 ensure_ascii=False, separators=(",", ":"))
        body = self._call("SendSms", action)
        if not body.get("BizId"):
            raise TransientSmsError("MissingBizId", "SendSms answered OK without a BizId")
        return str(body["BizId"])

    def lookup(self, phone: str, out_id: str, send_date: date) -> str | None:
        """Did the provider accept a message with this OutId for `phone` on `send_date`?

        `send_date` is the provider's (China Standard Time) calendar date, see PROVIDER_TZ; a send near midnight
        should be looked up on both days. Returns the item's BizId if the item carries one, else FOUND ("found"),
        because QuerySendDetails items document OutId but not BizId; None if no item matches. All pages are read.
        Caveat: the provider's send records may lag the SendSms answer, so None shortly after a send is weaker
        evidence than a match."""
        page = 1
        while True:
            body = self._call("QuerySendDetails", {
                "PhoneNumber": phone, "SendDate": send_date.strftime("%Y%m%d"),
                "PageSize": str(_PAGE_SIZE), "CurrentPage": str(page)})
            items = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            if isinstance(items, dict):  # a single item may come back unwrapped
                items = [items]
            for item in items:
                if item.get("OutId") == out_id:
                    return str(item.get("BizId") or FOUND)
            if not items or page * _PAGE_SIZE >= int(body.get("TotalCount") or 0):
                return None
            page += 1

    def _call(self, action: str, action_params: dict[str, str]) -> dict:
        """POST one signed RPC request; return the JSON body when Code is OK, else raise SmsError."""
        params = {
            "Action": action, "Version": API_VERSION, "Format": "JSON", "RegionId": REGION_ID,
            "AccessKeyId": self.access_key_id, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
            "SignatureNonce": str(uuid.uuid4()),
            "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **action_params,
        }
        params["Signature"] = sign(params, self._secret, "POST")
        form = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items()).encode("ascii")
        status, raw = self._post(form)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = None
        if status == 200 and body is not None and body.get("Code") == "OK":
            return body
        raise _error_for(status, body)

    def _post(self, form: bytes) -> tuple[int, bytes]:
        parts = urlsplit(self.endpoint)
        if not parts.hostname:  # __init__ refuses such an endpoint
            raise ValueError(f"SMS endpoint {self.endpoint!r} has no host")
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            conn.request("POST", parts.path or "/", body=form, headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "Accept": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused/reset connections, TLS errors
            raise TransientSmsError("NetworkError", f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
