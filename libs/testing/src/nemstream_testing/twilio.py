"""A local stand-in for Twilio's Messages API, so the real `twilio` client can be tested end to
end: it records every request's form fields and can answer with failures on demand."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nemstream_runtime import bound_port, serving


@dataclass(slots=True)
class SmsRequest:
    """One accepted Messages.json request."""

    account: str
    form: dict[str, str]
    received: float  # time.time()

    @property
    def to(self) -> str:
        """The ``To`` field."""
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        """The ``Body`` field."""
        return self.form.get("Body", "")


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

    def fail_next(self, status: int, count: int = 1, *, to: str | None = None) -> None:
        """Answer the next `count` requests (to `to`, if given) with HTTP `status`."""
        self.failures.extend([(status, to)] * count)

    def fail_always(self, status: int, *, to: str) -> None:
        """Answer every request to `to` with `status`."""
        self.refusing[to] = status

    def failure_for(self, to: str) -> int | None:
        """The status the next request to `to` fails with (None: it succeeds)."""
        if to in self.refusing:
            return self.refusing[to]
        for index, (status, only) in enumerate(self.failures):
            if only is None or only == to:
                del self.failures[index]
                return status
        return None


def create_app(fake: FakeTwilio) -> Starlette:
    """The Starlette app behind the fake."""

    async def messages(request: Request) -> JSONResponse:
        account = request.path_params["account"]
        expected = base64.b64encode(f"{fake.account}:{fake.token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        status = fake.failure_for(form.get("To", ""))
        if status is not None:
            fake.refused.append((status, form))
            code = 21211 if status == 400 else 20500
            return JSONResponse(
                {"code": code, "message": f"fake failure {status}", "status": status}, status
            )
        fake.accepted.append(SmsRequest(account, form, time.time()))
        fake.arrived.set()
        sid = "SM" + uuid.uuid4().hex
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": account,
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
            201,
        )

    return Starlette(
        routes=[Route("/2010-04-01/Accounts/{account}/Messages.json", messages, methods=["POST"])]
    )


@asynccontextmanager
async def running_fake_twilio(port: int = 0) -> AsyncIterator[FakeTwilio]:
    """Serve the fake on a free loopback port for the duration of a block."""
    fake = FakeTwilio()
    async with serving(create_app(fake), port=port) as server:
        fake.url = f"http://127.0.0.1:{bound_port(server)}"
        yield fake
