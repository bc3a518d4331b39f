"""The mirror's web app: NEMWeb's folders and files, release-as-live, and injectable faults.

Files dropped into (or deleted from) the folder while the mirror runs are picked up when a
folder listing, a file the mirror does not know yet, ``/_mirror/status`` or
``/_mirror/release`` is requested (and at each tick of the release timer): see
`MirrorState.refresh`; files already known are not read again. In release mode an interval
report added later joins the queue of pending files at its place in time order (so it comes
out next if it is older than the others pending, even older than ones already released); any
other file (MMSDM months, ARCHIVE zips, ``/files/``) is visible at once, as history is from the
start. A file rewritten in place that was already visible stays visible, with its new bytes.

Zips are served byte for byte as they are on disk (an empty or truncated ``.zip`` included);
only plain-CSV reports are zipped in memory (see `nemstream_mirror._catalog`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from nemstream_market import NEM_OFFSET
from nemstream_mirror._catalog import Catalog, Change, MirrorFile, build_catalog
from nemstream_mirror._faults import Fault, Faults
from nemstream_nemweb import ListingEntry, render_listing
from nemstream_runtime import get_logger

log = get_logger(__name__)

ZIP_TYPE = "application/x-zip-compressed"
"""What IIS, and so NEMWeb, says a .zip is."""

_TYPES = {
    ".zip": ZIP_TYPE,
    ".csv": "text/csv",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
}


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _release_order(item: MirrorFile) -> tuple[datetime, str]:
    """Order of release: by the time in the name, as NEMWeb published them."""
    return item.parsed.sort_key if item.parsed else (item.modified, item.name)


def _with_ancestors(folder: str) -> list[str]:
    """A folder path (lower case) and every folder above it: whose listings a new file changes."""
    parts = folder.lower().strip("/").split("/")
    return ["/"] + ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


@dataclass(slots=True)
class MirrorState:
    """Everything the app serves and how: shared by its routes and the release task."""

    catalog: Catalog
    release_every: float | None
    require_user_agent: bool = True
    clock: Callable[[], datetime] = _utcnow
    faults: Faults = field(default_factory=Faults)
    pending: list[MirrorFile] = field(default_factory=list)
    next_release: datetime | None = None
    changed: dict[str, datetime] = field(default_factory=dict)
    """When files appeared in or left each folder (lower case) after start, for Last-Modified."""

    def __post_init__(self) -> None:
        if self.release_every is not None:
            self.pending = sorted(
                (f for f in self.catalog.files.values() if f.releasable), key=_release_order
            )
            for item in self.pending:
                item.released = False

    def refresh(self) -> Change:
        """Catch up with files added to or deleted from the folder since the last look, so a
        file dropped in while the mirror runs is served (or queued, in release mode)."""
        change = self.catalog.rescan()
        if not change:
            return change
        now = self.clock()
        gone = {id(item) for item in change.removed}
        self.pending = [item for item in self.pending if id(item) not in gone]
        shown = {item.path.lower() for item in change.removed if item.released}
        touched = [item.folder for item in change.removed if item.released]
        for item in change.added:
            replaces_shown = item.path.lower() in shown
            if self.release_every is not None and item.releasable and not replaces_shown:
                item.released = False
                bisect.insort(self.pending, item, key=_release_order)
                continue
            if self.release_every is not None and replaces_shown:
                item.modified = now  # published again, as NEMWeb would stamp it
            touched.append(item.folder)
        for folder in touched:
            for path in _with_ancestors(folder):
                self.changed[path] = now
        log.info(
            "mirror_rescanned",
            added=[item.path for item in change.added],
            removed=[item.path for item in change.removed],
            pending=len(self.pending),
        )
        return change

    def release_next(self) -> MirrorFile | None:
        """Make the next file visible, stamped with the time it appeared (as on the live site)."""
        if not self.pending:
            return None
        item = self.pending.pop(0)
        item.released = True
        item.modified = self.clock()
        log.info("mirror_released", file=item.name, pending=len(self.pending))
        return item

    def visible(self) -> list[MirrorFile]:
        """Files a client can see now."""
        return [f for f in self.catalog.files.values() if f.released]


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(tzinfo=UTC), usegmt=True)


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            when = parsedate_to_datetime(since).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError):
            return False
        return modified.replace(microsecond=0) <= when
    return False


def _listing(state: MirrorState, folder: str) -> tuple[str, datetime] | None:
    """The listing page of a folder (and when it last changed), or None if no such folder."""
    names = state.catalog.folder_names()
    key = folder.lower()
    if key not in state.catalog.folders():
        return None
    path = names[key]
    entries: list[ListingEntry] = []
    changed = datetime(2000, 1, 1)
    children = sorted(
        {
            n
            for k, n in names.items()
            if k != key and k.startswith(key) and k[len(key) :].count("/") == 1
        }
    )
    files = sorted((f for f in state.visible() if f.folder.lower() == key), key=lambda f: f.name)
    changed = max(changed, state.changed.get(key, changed))  # a file added or deleted later
    if "/reports/current/" in key and files:
        children.append(f"{path}DUPLICATE/")  # NEMWeb lists one: clients must skip it
    for child in children:
        entries.append(
            ListingEntry(
                name=child.rstrip("/").rsplit("/", 1)[-1],
                url=quote(child),
                modified=datetime(2017, 5, 12, 10, 56),
                size=None,
                is_dir=True,
            )
        )
    for item in files:
        changed = max(changed, item.modified)
        entries.append(
            ListingEntry(
                name=item.name,
                url=quote(item.path),
                modified=(item.modified + NEM_OFFSET).replace(second=0, microsecond=0),
                size=len(item.content),
                is_dir=False,
            )
        )
    return render_listing(path, entries), changed


def create_app(
    directory: Path,
    *,
    release_every: float | None = None,
    require_user_agent: bool = True,
    auto_release: bool = True,
) -> Starlette:
    """The mirror as an ASGI app (run it with uvicorn). `auto_release=False` leaves releases
    to ``POST /_mirror/release`` alone, so tests never wait on a timer."""
    state = MirrorState(build_catalog(directory), release_every, require_user_agent)

    async def status(request: Request) -> Response:
        state.refresh()
        return JSONResponse(
            {
                "files": len(state.catalog.files),
                "released": len(state.visible()),
                "pending": len(state.pending),
                "next_release": state.next_release.isoformat() if state.next_release else None,
                "skipped": state.catalog.skipped,
                "faults_injected": state.faults.injected,
            }
        )

    async def release(request: Request) -> Response:
        state.refresh()
        item = state.release_next()
        if item is None:
            return JSONResponse({"released": None, "pending": 0}, status_code=404)
        return JSONResponse({"released": item.path, "pending": len(state.pending)})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
            return JSONResponse({"faults": 0})
        try:
            state.faults.add(Fault.from_json(await request.json()))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True}, status_code=201)

    async def serve(request: Request) -> Response:
        path = "/" + unquote(request.path_params["path"])
        if state.require_user_agent and not request.headers.get("user-agent", "").strip():
            return PlainTextResponse("403 - Forbidden: Access is denied.", status_code=403)
        fault = state.faults.take(path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return PlainTextResponse(f"injected {fault.status}", status_code=fault.status)
        if path.endswith("/"):
            state.refresh()
            page = _listing(state, path)
            if page is None:
                return PlainTextResponse("404 - File or directory not found.", status_code=404)
            body, changed = page
            return _respond(request, body.encode(), "text/html", changed, fault)
        item = state.catalog.files.get(path.lower())
        if item is None:  # perhaps dropped into the folder since the last look
            state.refresh()
            item = state.catalog.files.get(path.lower())
        if item is None or not item.released:
            if path.lower() + "/" in state.catalog.folders():
                return Response(status_code=301, headers={"Location": quote(path + "/")})
            return PlainTextResponse("404 - File or directory not found.", status_code=404)
        kind = _TYPES.get(Path(item.name).suffix.lower(), "application/octet-stream")
        return _respond(request, item.content, kind, item.modified, fault)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = None
        if state.release_every is not None and auto_release:
            task = asyncio.create_task(_release_loop(state))
        log.info(
            "mirror_ready",
            directory=str(directory),
            files=len(state.catalog.files),
            pending=len(state.pending),
            skipped=len(state.catalog.skipped),
        )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = Starlette(
        routes=[
            Route("/_mirror/status", status, methods=["GET"]),
            Route("/_mirror/release", release, methods=["POST"]),
            Route("/_mirror/faults", faults, methods=["POST", "DELETE"]),
            Route("/{path:path}", serve, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )
    app.state.mirror = state
    return app


async def _release_loop(state: MirrorState) -> None:
    """Release one pending file per interval; it keeps ticking when none is left, since a file
    dropped into the folder later joins the queue."""
    assert state.release_every is not None
    interval = state.release_every
    while True:
        due = state.clock() + timedelta(seconds=interval)
        state.next_release = due if state.pending else None
        await asyncio.sleep(interval)
        state.refresh()
        state.release_next()


def _respond(
    request: Request, content: bytes, kind: str, modified: datetime, fault: Fault | None
) -> Response:
    etag = '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": _http_date(modified),
        "Server": "Microsoft-IIS/10.0 (nemstream mirror)",
    }
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    if fault is not None and fault.truncate is not None:
        content = content[: fault.truncate]
    headers["Content-Length"] = str(len(content))
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=kind)
    if fault is not None and fault.drop_after is not None:
        return StreamingResponse(
            _dropping(content, fault.drop_after), headers=headers, media_type=kind
        )
    return Response(content, headers=headers, media_type=kind)


async def _dropping(content: bytes, after: int) -> AsyncIterator[bytes]:
    """Send `after` bytes, then fail so the server drops the connection mid-body."""
    yield content[:after]
    await asyncio.sleep(0)
    raise ConnectionAbortedError("mirror fault: connection dropped mid-transfer")
