"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and can refuse with a
transient 4xx on demand; optionally with STARTTLS or implicit TLS (a certificate made at run
time with the openssl command) and required authentication."""

from __future__ import annotations

import ssl
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from nemstream_testing.net import free_port


@dataclass(slots=True)
class Inbox:
    """Messages the server accepted, and refusals to make."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: int = 0  # refuse the next N messages with 451
    ca_file: Path | None = None  # the server's certificate, with TLS
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd hook: accept (or refuse) one message."""
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate and key for `host`, valid for a day (openssl)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def running_smtp(
    tls: Literal["none", "starttls", "ssl"] = "none",
    users: dict[str, str] | None = None,
) -> Iterator[Inbox]:
    """An aiosmtpd server on a free loopback port for the duration of a block; with `users`,
    AUTH is required (over TLS). The inbox's `ca_file` is the certificate to trust."""
    inbox = Inbox(port=free_port())
    kwargs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nemstream-smtp-") as scratch:
        if tls != "none":
            cert, key = self_signed(Path(scratch), inbox.host)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            inbox.ca_file = cert
            if tls == "ssl":
                kwargs["ssl_context"] = context
            else:
                kwargs.update(tls_context=context, require_starttls=True)
        if users is not None:

            def authenticate(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                login, password = data.login.decode(), data.password.decode()
                ok = users.get(login) == password
                if ok:
                    inbox.logins.append(login)
                return AuthResult(success=ok)

            kwargs.update(authenticator=authenticate, auth_required=True)
            if tls == "ssl":  # aiosmtpd only counts STARTTLS as TLS; the socket is TLS here
                kwargs["auth_require_tls"] = False
        controller = Controller(inbox, hostname=inbox.host, port=inbox.port, **kwargs)
        with warnings.catch_warnings():
            # aiosmtpd warns that AUTH without *STARTTLS* is unsafe; with implicit TLS it is not
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            controller.start()
        try:
            yield inbox
        finally:
            controller.stop()
