"""What every history endpoint shares: the store through `nemstream_query`, one shape for every
answer (see `_respond`): validated range, null rows for missing intervals, ETag before any
reading (a client that holds the answer gets a 304 for the price of a manifest check)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import polars as pl
from cachetools import LRUCache
from fastapi import Query, Request
from fastapi.responses import Response
from prometheus_client import Counter

from nemstream_api._models import (
    Problem,
    ValidationProblem,
)
from nemstream_api._params import (
    Asked,
    Format,
    Limits,
    Paged,
    Region,
    Step,
    Window,
    window,
)
from nemstream_api._respond import (
    MEDIA,
    Prepared,
    Rows,
    caching,
    not_modified,
    recent,
    respond,
)
from nemstream_api._security import Guard
from nemstream_api.settings import ApiSettings
from nemstream_query import Query as Store

ANSWERS = Counter("nemstream_api_answers", "History answers by where they came from", ["cache"])

ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "not modified (If-None-Match held the current ETag)"},
    401: {"model": Problem, "description": "a key is needed or the key is unknown"},
    422: {"model": ValidationProblem, "description": "a parameter is not valid"},
    429: {"model": Problem, "description": "rate limit exceeded (see Retry-After)"},
}
FORMATS: dict[str, Any] = {"content": {MEDIA[Format.CSV]: {}, MEDIA[Format.PARQUET]: {}}}


class PriceKind(StrEnum):
    """Which prices."""

    DISPATCH = "dispatch"
    TRADING = "trading"


class By(StrEnum):
    """Generation by fuel or by unit."""

    FUEL = "fuel"
    UNIT = "unit"


class RevenueBy(StrEnum):
    """Revenue by station or by unit."""

    STATION = "station"
    UNIT = "unit"


RegionsParam = Annotated[
    list[Region] | None,
    Query(description="regions (repeatable); NEM or none: every region"),
]


def regions_of(values: Sequence[Region] | None) -> list[str]:
    """The regions asked for, sorted (none, or NEM: every region)."""
    picked = [str(v) for v in values or () if str(v) != "NEM"]
    return sorted(set(picked))


@dataclass(slots=True)
class History:
    """What every history endpoint needs."""

    store: Store
    guard: Guard
    settings: ApiSettings
    limits: Limits
    newest_cache: LRUCache[tuple[object, ...], datetime | None]
    answers: LRUCache[str, Prepared]
    """Whole answers by ETag (the tables' versions are in it: new data, new tag)."""

    def newest(
        self, tables: Sequence[str], versions: tuple[int, ...] | None = None
    ) -> datetime | None:
        """The newest interval of the tables (memoised per version: manifests are read once;
        `versions`: the tables' versions when the caller has them already)."""
        if versions is None:
            versions = self.store.engine.version(*tables)
        key = (tuple(tables), versions)
        if key not in self.newest_cache:
            self.newest_cache[key] = self.store.latest(*tables)
        return self.newest_cache[key]

    async def answer(
        self,
        request: Request,
        paged: Paged,
        *,
        tables: Sequence[str],
        compute: Callable[[Window], Rows],
        resolution: Step | None = None,
        scale: float = 1.0,
    ) -> Response:
        """Validate, answer 304 when the client holds it, or from the answer cache, else
        compute in a worker thread and respond (`resolution`: the route's own choice, else the
        one asked, else days)."""
        await self.guard.read(request)
        versions = self.store.engine.version(*tables)  # read once per request (manifest stats)
        newest = self.newest(tables, versions)
        if resolution is None:
            resolution = paged.resolution if isinstance(paged, Asked) else Step.DAY
        asked = window(
            paged.start,
            paged.end,
            resolution,
            policy=self.store.policy,
            limits=self.limits,
            newest=newest,
            scale=scale,
        )
        version = (versions, self.store.engine.units_version)
        headers = caching(
            request,
            version,
            recent=recent(asked, newest),
            max_age=self.settings.api_cache_max_age_s,
            private=self.settings.api_require_key,
        )
        if (held := not_modified(request, headers)) is not None:
            return held
        tag = headers["ETag"]
        kept = self.answers.get(tag)
        if kept is not None:
            ANSWERS.labels("hit").inc()
            return kept.response(headers)

        def prepare() -> Prepared:
            rows = compute(asked)
            return respond(
                request,
                rows,
                asked,
                paged.format,
                page_size=self.settings.api_page_size,
                cursor=paged.cursor,
                limit=paged.limit,
            )

        prepared = await asyncio.to_thread(prepare)
        if isinstance(prepared.body, bytes) and len(prepared.body) <= self.answers.maxsize // 8:
            ANSWERS.labels("miss").inc()
            self.answers[tag] = prepared
        else:
            ANSWERS.labels("uncached").inc()
        return prepared.response(headers)


def grid_of(column: str, values: Sequence[str]) -> pl.DataFrame:
    """The keys every interval must have a row for (regions asked, or all)."""
    return pl.DataFrame({column: list(values)}, schema={column: pl.String})
