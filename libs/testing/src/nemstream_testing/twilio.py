"""A local stand-in for Twilio's Messages API, so the real `twilio` client can be tested end to
end: it records every request's form fields and can answer with failures on demand.

What it serves, shaped as Twilio answers (the real client parses both):

* ``POST /2010-04-01/Accounts/{account}/Messages.json`` - send: the message is recorded as
  accepted (`FakeTwilio.accepted`) and answered ``201`` with its record. With
  `FakeTwilio.answer_delay_s` it is recorded *first* and answered that much later: a sender
  killed in between leaves a text Twilio has and the sender never heard of.
* ``GET /2010-04-01/Accounts/{account}/Messages.json`` - the Messages list: filters ``To`` and
  ``From``, newest first, one page of at most ``PageSize`` (default 50) in Twilio's page format
  (``messages`` plus ``first_page_uri``, ``next_page_uri`` ...). ``Page`` and ``PageToken``
  are accepted and ignored: only the first page is served (``next_page_uri`` is null).
  Every lookup's query is recorded (`FakeTwilio.lookups`); `FakeTwilio.fail_next_lookup` makes
  the next ones fail.

Both need HTTP Basic auth with the fake's account sid and token, as Twilio does.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nemstream_runtime import bound_port, serving

API = "/2010-04-01"
PAGE_SIZE = 50
"""Twilio's default (and here the largest served) page size."""


def rfc2822(at: float) -> str:
    """A unix time as Twilio writes its dates: RFC 2822 in GMT, e.g.
    ``Mon, 30 Nov 2026 15:00:00 +0000``."""
    return format_datetime(datetime.fromtimestamp(int(at), UTC))


@dataclass(slots=True)
class SmsRequest:
    """One accepted Messages.json request."""

    account: str
    form: dict[str, str]
    received: float  # time.time()
    sid: str = field(default_factory=lambda: "SM" + uuid.uuid4().hex)

    @property
    def to(self) -> str:
        """The ``To`` field."""
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        """The ``Body`` field."""
        return self.form.get("Body", "")

    @property
    def sender(self) -> str:
        """The ``From`` field."""
        return self.form.get("From", "")

    def record(self) -> dict[str, Any]:
        """The message as Twilio's API shows it."""
        uri = f"{API}/Accounts/{self.account}/Messages/{self.sid}"
        created = rfc2822(self.received)
        return {
            "sid": self.sid,
            "account_sid": self.account,
            "to": self.to,
            "from": self.sender,
            "body": self.body,
            "status": "queued",
            "num_segments": "1",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": created,
            "date_updated": created,
            "date_sent": None,
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": None,
            "uri": f"{uri}.json",
            "subresource_uris": {"media": f"{uri}/Media.json"},
        }


@dataclass(slots=True)
class FakeTwilio:
    """What the endpoint received and what it should fail next."""

    url: str = ""
    account: str = "AC" + "0" * 32
    token: str = "test-token"
    accepted: list[SmsRequest] = field(default_factory=list)
    refused: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    failures: list[tuple[int, str | None]] = field(default_factory=list)  # (status, only this To)
    refusing: dict[str, int] = field(default_factory=dict)  # To -> status, every time
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    answer_delay_s: float = 0.0
    """Seconds an accepted message waits, already recorded, before its answer is sent."""
    lookups: list[dict[str, str]] = field(default_factory=list)  # Messages list queries
    lookup_failures: list[int] = field(default_factory=list)  # statuses the next lookups get

    def fail_next(self, status: int, count: int = 1, *, to: str | None = None) -> None:
        """Answer the next `count` requests (to `to`, if given) with HTTP `status`."""
        self.failures.extend([(status, to)] * count)

    def fail_always(self, status: int, *, to: str) -> None:
        """Answer every request to `to` with `status`."""
        self.refusing[to] = status

    def fail_next_lookup(self, status: int, count: int = 1) -> None:
        """Answer the next `count` Messages list requests with HTTP `status`."""
        self.lookup_failures.extend([status] * count)

    def failure_for(self, to: str) -> int | None:
        """The status the next request to `to` fails with (None: it succeeds)."""
        if to in self.refusing:
            return self.refusing[to]
        for index, (status, only) in enumerate(self.failures):
            if only is None or only == to:
                del self.failures[index]
                return status
        return None

    def messages(self, *, to: str | None = None, sender: str | None = None) -> list[SmsRequest]:
        """Accepted messages, newest first, to `to` and from `sender` when given."""
        return [
            m
            for m in reversed(self.accepted)
            if (to is None or m.to == to) and (sender is None or m.sender == sender)
        ]


def create_app(fake: FakeTwilio) -> Starlette:
    """The Starlette app behind the fake."""

    def authorised(request: Request) -> bool:
        expected = base64.b64encode(f"{fake.account}:{fake.token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def unauthorised() -> JSONResponse:
        return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)

    async def send(request: Request) -> JSONResponse:
        account = request.path_params["account"]
        if not authorised(request):
            return unauthorised()
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        status = fake.failure_for(form.get("To", ""))
        if status is not None:
            fake.refused.append((status, form))
            code = 21211 if status == 400 else 20500
            return JSONResponse(
                {"code": code, "message": f"fake failure {status}", "status": status}, status
            )
        message = SmsRequest(account, form, time.time())
        fake.accepted.append(message)  # accepted before answering, as Twilio is
        fake.arrived.set()
        if fake.answer_delay_s > 0:
            await asyncio.sleep(fake.answer_delay_s)  # a slow answer, not a test's wait
        return JSONResponse(message.record(), 201)

    async def page(request: Request) -> JSONResponse:
        account = request.path_params["account"]
        if not authorised(request):
            return unauthorised()
        query = dict(request.query_params)
        fake.lookups.append(query)
        if fake.lookup_failures:
            status = fake.lookup_failures.pop(0)
            return JSONResponse(
                {"code": 20500, "message": f"fake failure {status}", "status": status}, status
            )
        try:
            size = min(max(int(query.get("PageSize", PAGE_SIZE)), 1), PAGE_SIZE)
        except ValueError:
            return JSONResponse({"code": 20001, "message": "Invalid PageSize", "status": 400}, 400)
        found = [
            m
            for m in fake.messages(to=query.get("To"), sender=query.get("From"))
            if m.account == account
        ][:size]
        filters = {k: v for k, v in query.items() if k in ("To", "From")}
        base = f"{API}/Accounts/{account}/Messages.json"
        first = f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': 0})}"
        return JSONResponse(
            {
                "messages": [m.record() for m in found],
                "first_page_uri": first,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": size,
                "start": 0,
                "end": max(len(found) - 1, 0),
                "uri": first,
            }
        )

    return Starlette(
        routes=[
            Route(f"{API}/Accounts/{{account}}/Messages.json", send, methods=["POST"]),
            Route(f"{API}/Accounts/{{account}}/Messages.json", page, methods=["GET"]),
        ]
    )


@asynccontextmanager
async def running_fake_twilio(port: int = 0) -> AsyncIterator[FakeTwilio]:
    """Serve the fake on a free loopback port for the duration of a block."""
    fake = FakeTwilio()
    async with serving(create_app(fake), port=port) as server:
        fake.url = f"http://127.0.0.1:{bound_port(server)}"
        yield fake
