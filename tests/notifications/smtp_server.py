"""A real SMTP server on loopback (aiosmtpd) with STARTTLS and AUTH, that
counts what it accepts and can be told to stall or refuse."""
import asyncio
import datetime
import email
import email.policy
import socket
import ssl
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "careloop", "mail-secret"


def _self_signed(directory: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    utc = datetime.timezone.utc  # valid at every instant the tests pin (OpenSSL checks the wall clock)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=utc))
            .not_valid_after(datetime.datetime(2040, 1, 1, tzinfo=utc))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    raw: list = field(default_factory=list)    # the bytes as received, per message
    peers: list = field(default_factory=list)  # the client's (host, port) per message: one per connection
    refuse_next: int = 0          # answer 451 to the next N messages
    stall_rcpt: float = 0.0       # seconds to wait before answering RCPT
    stall_after_data: float = 0.0  # seconds to wait after storing, before answering 250
    hang_up_next: int = 0         # drop the connection at the next N MAIL commands, as after an idle timeout
    rcpt_seen: threading.Event = field(default_factory=threading.Event)
    data_seen: threading.Event = field(default_factory=threading.Event)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hang_up_next:
            self.hang_up_next -= 1
            server.transport.abort()
            return "421 4.4.2 closing"  # not sent: the connection is gone
        envelope.mail_from, envelope.mail_options = address, list(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen.set()
        if self.stall_rcpt:
            await asyncio.sleep(self.stall_rcpt)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.raw.append(envelope.content)
        self.peers.append(session.peer)
        self.data_seen.set()
        if self.stall_after_data:
            await asyncio.sleep(self.stall_after_data)
        return f"250 2.0.0 queued as Q{len(self.messages)}"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server():
    """Yields (mailbox, MAIL_URL) for a STARTTLS + AUTH server on loopback."""
    with tempfile.TemporaryDirectory() as directory:
        cert, key = _self_signed(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        mailbox = Mailbox()
        port = _free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True, auth_required=True, authenticator=_authenticator)
        controller.start()
        try:
            yield mailbox, f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}/?starttls=1&cafile={cert}&timeout=10"
        finally:
            controller.stop()
