"""Rows into responses: every missing interval an explicit null row, every row with its
``interval_start`` and ``interval_end`` (ISO 8601, +10:00), JSON paged by a keyset cursor, CSV
and parquet streamed in slices, an ``ETag`` from the tables' versions and a ``Cache-Control``
that lets clients and proxies keep an answer."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import polars as pl
from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from nemstream_api._params import STEP_OF, Format, Window, invalid
from nemstream_query import expected

ISO = "%Y-%m-%dT%H:%M:%S+10:00"
NEM_ZONE = "Australia/Brisbane"  # UTC+10 all year: the NEM's time, never a zone with DST
SLICE = 5_000
"""Rows serialised at a time while streaming."""

MEDIA = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv; charset=utf-8",
    Format.PARQUET: "application/vnd.apache.parquet",
}


@dataclass(slots=True)
class Rows:
    """An answer ready to send: `frame` has ``interval`` (naive NEM, ending) and ``minutes``,
    identified within an interval by `keys`."""

    frame: pl.DataFrame
    keys: tuple[str, ...]
    name: str
    units: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def with_missing(
    frame: pl.DataFrame,
    window: Window,
    keys: Sequence[str],
    combos: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add a null row for every interval of the window's grid that a key combination (those
    given, else those present) lacks: ``intervals`` 0, ``complete`` false, measures null."""
    grid_intervals = expected(window.start, window.end, window.minutes)
    if combos is None:
        combos = frame.select(keys).unique() if keys else pl.DataFrame()
    if keys and combos.height == 0:
        return frame
    grid = grid_intervals.to_frame()
    if keys:
        grid = grid.join(combos.select(keys), how="cross")
    typed = {c: frame.schema[c] for c in ("interval", *keys)}
    grid = grid.with_columns(pl.col(c).cast(t) for c, t in typed.items())
    out = grid.join(frame, on=["interval", *keys], how="left", coalesce=True)
    fills = [pl.col("minutes").fill_null(window.minutes)]
    if "intervals" in out.columns:
        fills.append(pl.col("intervals").fill_null(0))
    if "complete" in out.columns:
        fills.append(pl.col("complete").fill_null(False))
    return out.with_columns(fills).sort("interval", *keys)


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN is not JSON: null instead."""
    floats = [c for c, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    return frame.with_columns(pl.col(c).fill_nan(None) for c in floats) if floats else frame


def shaped(frame: pl.DataFrame, format_: Format) -> pl.DataFrame:
    """``interval``/``minutes`` as ``interval_start`` and ``interval_end``: ISO text for JSON
    and CSV, timestamps in NEM time (Australia/Brisbane, UTC+10) for parquet."""
    start = pl.col("interval") - pl.duration(minutes=pl.col("minutes"))
    if format_ is Format.PARQUET:
        pair = [
            start.dt.replace_time_zone(NEM_ZONE).alias("interval_start"),
            pl.col("interval").dt.replace_time_zone(NEM_ZONE).alias("interval_end"),
        ]
    else:
        pair = [
            start.dt.strftime(ISO).alias("interval_start"),
            pl.col("interval").dt.strftime(ISO).alias("interval_end"),
        ]
    rest = [c for c in frame.columns if c != "interval"]
    return _clean(frame).select(*pair, *rest)


def _cursor_key(request: Request) -> str:
    """What a cursor is bound to: the path and every parameter but the page's own."""
    asked = sorted((k, v) for k, v in request.query_params.multi_items() if k != "cursor")
    return hashlib.sha1(json.dumps([request.url.path, asked]).encode()).hexdigest()[:12]


def encode_cursor(request: Request, row: dict[str, Any], keys: Sequence[str]) -> str:
    """The cursor after `row`: its interval and keys (keyset paging: new data landing between
    two pages neither repeats nor skips a row)."""
    values = [row["interval"].isoformat(), *(row[k] for k in keys)]
    raw = json.dumps({"q": _cursor_key(request), "after": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after_cursor(
    frame: pl.DataFrame, request: Request, cursor: str, keys: Sequence[str]
) -> pl.DataFrame:
    """The rows after a cursor (422 when it is not one of this query's)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert raw["q"] == _cursor_key(request)
        values = list(raw["after"])
        assert len(values) == 1 + len(keys)
        moment = datetime.fromisoformat(values[0])
    except Exception:  # noqa: BLE001 - any malformed cursor is the client's mistake
        invalid("cursor", "not a cursor of this query: use the `next` value of its last page")
    columns = ["interval", *keys]
    bounds = [moment, *values[1:]]
    later = pl.lit(False)
    same = pl.lit(True)
    for column, bound in zip(columns, bounds, strict=True):
        later = later | (same & (pl.col(column) > bound))
        same = same & (pl.col(column) == bound)
    return frame.filter(later)


def etag(request: Request, version: object) -> str:
    """An entity tag for this question over these table versions."""
    asked = sorted(request.query_params.multi_items())
    digest = hashlib.sha1(repr((request.url.path, asked, version)).encode()).hexdigest()
    return f'W/"{digest[:20]}"'


def caching(
    request: Request, version: object, *, recent: bool, max_age: int, private: bool
) -> dict[str, str]:
    """ETag and Cache-Control headers: a range that reaches the present may change with the
    next interval (`max_age`); a closed one only on backfill (a day, revalidated by ETag)."""
    age = max_age if recent else 86_400
    scope = "private" if private else "public"
    return {"ETag": etag(request, version), "Cache-Control": f"{scope}, max-age={age}"}


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 when the client already holds this answer."""
    held = request.headers.get("if-none-match")
    if held and headers["ETag"] in {tag.strip() for tag in held.split(",")}:
        return Response(status_code=304, headers=headers)
    return None


def _chunks(spool: IO[bytes], size: int = 1024 * 1024) -> Iterator[bytes]:
    """A spooled file in chunks, closed at the end."""
    with spool:
        while chunk := spool.read(size):
            yield chunk


def _json_rows(frame: pl.DataFrame) -> Iterator[bytes]:
    for offset in range(0, frame.height, SLICE):
        text = frame.slice(offset, SLICE).write_json()
        body = text.strip()[1:-1]
        if body:
            yield (b"," if offset else b"") + body.encode()


def _csv_rows(frame: pl.DataFrame) -> Iterator[bytes]:
    if frame.height == 0:
        yield frame.write_csv().encode()
        return
    for offset in range(0, frame.height, SLICE):
        yield frame.slice(offset, SLICE).write_csv(include_header=offset == 0).encode()


@dataclass(slots=True)
class Prepared:
    """An answer ready to send: its whole body (small answers, kept by the answer cache) or a
    stream of it."""

    body: bytes | Iterator[bytes]
    media: str
    headers: dict[str, str]

    def response(self, headers: dict[str, str]) -> Response:
        """The HTTP response (with the request's caching headers)."""
        merged = {**headers, **self.headers}
        if isinstance(self.body, bytes):
            return Response(self.body, media_type=self.media, headers=merged)
        return StreamingResponse(self.body, media_type=self.media, headers=merged)


INLINE_ROWS = 50_000
"""Answers of at most this many rows are built whole (and may be cached); larger ones stream."""


def respond(
    request: Request,
    rows: Rows,
    window: Window,
    format_: Format,
    *,
    page_size: int,
    cursor: str | None,
    limit: int | None,
) -> Prepared:
    """The answer in the format asked: JSON one page at a time, CSV and parquet whole (the
    span limits bound them); large ones streamed in slices."""
    frame = rows.frame.sort("interval", *rows.keys)
    meta = {
        "resolution": STEP_OF[window.resolution].value,
        "minutes": window.minutes,
        "start": window.start.strftime(ISO),
        "end": window.end.strftime(ISO),
        "units": rows.units,
        **rows.meta,
    }
    name = f"{rows.name}_{window.start:%Y%m%dT%H%M}_{window.end:%Y%m%dT%H%M}"
    media = MEDIA[format_]
    if format_ is Format.CSV:
        attached = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
        csv = _csv_rows(shaped(frame, format_))
        return Prepared(b"".join(csv) if frame.height <= INLINE_ROWS else csv, media, attached)
    if format_ is Format.PARQUET:
        attached = {"Content-Disposition": f'attachment; filename="{name}.parquet"'}
        if frame.height <= INLINE_ROWS:
            buffer = io.BytesIO()
            shaped(frame, format_).write_parquet(buffer, compression="zstd")
            return Prepared(buffer.getvalue(), media, attached)
        # written to a spooled file (memory up to 16 MiB, then disk) and streamed from it
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
        shaped(frame, format_).write_parquet(spool, compression="zstd")
        spool.seek(0)
        return Prepared(_chunks(spool), media, attached)
    if cursor:
        frame = after_cursor(frame, request, cursor, rows.keys)
    size = min(limit or page_size, page_size)
    page = frame.head(size)
    following = None
    extra: dict[str, str] = {}
    if frame.height > size:
        following = encode_cursor(request, page.row(size - 1, named=True), rows.keys)
        later = request.url.include_query_params(cursor=following)
        extra["Link"] = f'<{later.path}?{later.query}>; rel="next"'  # relative: any host
    meta["rows"] = page.height

    def body() -> Iterator[bytes]:
        yield b'{"meta":' + json.dumps(meta).encode() + b',"data":['
        yield from _json_rows(shaped(page, format_))
        yield b'],"next":' + json.dumps(following).encode() + b"}"

    return Prepared(b"".join(body()) if page.height <= INLINE_ROWS else body(), media, extra)


def recent(window: Window, newest: datetime | None) -> bool:
    """Whether the range reaches the newest data (its answer may still grow)."""
    return newest is None or window.end + timedelta(minutes=window.minutes) > newest
