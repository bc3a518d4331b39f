"""``GET /v1/stream`` (Server-Sent Events) and ``/v1/ws`` (WebSocket): bus events as they land,
filtered by kind and region, each with its stream sequence as its id so a client resumes
exactly (``Last-Event-ID`` or ``?after=`` for SSE; ``?after=`` for WebSocket)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect, WebSocketException
from fastapi.exceptions import HTTPException
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from nemstream_api._live import STREAM_KINDS, Client, Event, Hub
from nemstream_api._models import Problem, ValidationProblem
from nemstream_api._params import Region, invalid
from nemstream_api._security import Guard
from nemstream_api.settings import ApiSettings

KindsParam = Annotated[
    list[str] | None,
    Query(
        description="event kinds to receive (repeat or comma list; default all): "
        + ", ".join(STREAM_KINDS)
    ),
]
RegionsParam = Annotated[
    list[Region] | None,
    Query(description="keep only these regions' rows (repeatable; default all)"),
]
AfterParam = Annotated[
    int | None,
    Query(
        ge=0,
        description="resume after this event id (a stream sequence): every later event the "
        "stream still keeps is sent first, then live ones",
    ),
]


def _kinds(values: list[str] | None) -> frozenset[str] | None:
    if not values:
        return None
    kinds = frozenset(k.strip() for v in values for k in v.split(",") if k.strip())
    unknown = sorted(kinds - set(STREAM_KINDS))
    if unknown:
        invalid("kinds", f"unknown kinds {unknown}; known: {', '.join(STREAM_KINDS)}", values)
    return kinds or None


def _regions(values: list[Region] | None) -> frozenset[str] | None:
    if not values or "NEM" in values:
        return None
    return frozenset(str(v) for v in values)


class Events(EventSourceResponse):
    """An event stream that ends quietly when a send times out: the hub has already dropped
    the client and logged why."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except* SendTimeoutError:
            pass


def router(hub: Hub, guard: Guard, settings: ApiSettings) -> APIRouter:
    """The live routes over one hub."""
    api = APIRouter(tags=["live"])

    @api.get(
        "/v1/stream",
        summary="Live events (Server-Sent Events), resumable by Last-Event-ID",
        response_class=EventSourceResponse,
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "an event stream"},
            401: {"model": Problem},
            422: {"model": ValidationProblem},
            429: {"model": Problem},
            503: {"model": Problem},
        },
    )
    async def stream(
        request: Request,
        kinds: KindsParam = None,
        region: RegionsParam = None,
        after: AfterParam = None,
    ) -> EventSourceResponse:
        """Each event: ``id`` its JetStream stream sequence, ``event`` its kind, ``data``
        ``{"sequence", "subject", "kind", "body"}`` where body is the bus message (contracts
        in the catalog). Reconnect with ``Last-Event-ID`` (EventSource does it itself) and
        nothing is missed or repeated while the stream keeps the events; an event ``gap``
        says when it no longer does. A comment line every heartbeat period keeps proxies
        open. A client whose connection takes no event for ``NEMSTREAM_API_CLIENT_STALL_S`` is
        disconnected, never slowing the others (it resumes by its last id)."""
        await guard.read(request, stream=True)
        wanted, regions = _kinds(kinds), _regions(region)
        header = request.headers.get("last-event-id")
        if after is None and header:
            try:
                after = int(header)
            except ValueError:
                invalid("Last-Event-ID", "not an event id of this stream", header)
        if not hub.running:
            raise HTTPException(503, "the live stream is not connected to the bus yet")

        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(retry=1000, comment="nemstream live events")
            async with hub.connect(wanted, regions, "sse") as client:
                async for event in hub.events(client, after, settings.api_heartbeat_s):
                    if event is None:
                        yield ServerSentEvent(comment="heartbeat")
                        continue
                    data = event.payload(client.regions)
                    if data is not None:
                        yield ServerSentEvent(data=data, id=str(event.sequence), event=event.kind)

        return Events(
            events(),
            ping=None,
            send_timeout=settings.api_client_stall_s + 2,
            headers={"X-Accel-Buffering": "no"},
        )

    @api.websocket("/v1/ws")
    async def websocket(
        socket: WebSocket,
        kinds: KindsParam = None,
        region: RegionsParam = None,
        after: AfterParam = None,
    ) -> None:
        """The same events as JSON text frames ``{"id", "event", "data"}``; resume with
        ``?after=<id>``; ``{"event": "heartbeat"}`` when quiet."""
        try:
            await guard.read(socket, stream=True)
        except HTTPException as exc:
            raise WebSocketException(code=1008, reason=str(exc.detail)) from None
        wanted, regions = _kinds(kinds), _regions(region)
        await socket.accept()
        async with hub.connect(wanted, regions, "websocket") as client:
            reader = asyncio.create_task(_until_closed(socket, client))
            try:
                async for event in hub.events(client, after, settings.api_heartbeat_s):
                    await asyncio.wait_for(
                        _send(socket, client, event), settings.api_client_stall_s + 2
                    )
            except (WebSocketDisconnect, RuntimeError):
                return
            except TimeoutError:
                hub.drop(client, "slow client: a send did not finish")
            finally:
                reader.cancel()
            with contextlib.suppress(Exception):
                await socket.close(code=1013, reason=client.dropped or "server stopping")

    return api


async def _send(socket: WebSocket, client: Client, event: Event | None) -> None:
    if event is None:
        await socket.send_text('{"event":"heartbeat"}')
        return
    data = event.payload(client.regions)
    if data is not None:
        frame: dict[str, Any] = {"id": event.sequence, "event": event.kind}
        await socket.send_text(json.dumps(frame)[:-1] + ',"data":' + data + "}")


async def _until_closed(socket: WebSocket, client: Client) -> None:
    """Read (and ignore) what the client sends, so a close is noticed."""
    try:
        while True:
            await socket.receive_text()
    except Exception:  # noqa: BLE001 - any end of the socket ends the client
        client.gone.set()
