"""Query parameters every history endpoint shares, validated into one `Window`: the range in
NEM time, the resolution it is read at, the format, the page. A bad value is a 422 in FastAPI's
own shape (``{"detail": [{"loc", "msg", "type"}]}``), so the OpenAPI schema tells the truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, NoReturn

from fastapi import Query as Param
from fastapi.exceptions import RequestValidationError

from nemstream_market import REGIONS, naive_nem, nem_now
from nemstream_query import Policy, Resolution, align_down

Region = StrEnum("Region", {r: r for r in (*REGIONS, "NEM")})  # type: ignore[misc]
"""A NEM region, or ``NEM`` for the whole market."""


class Format(StrEnum):
    """How rows are returned."""

    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


class Step(StrEnum):
    """The resolution asked for (``auto``: chosen from the span)."""

    FIVE = "5min"
    THIRTY = "30min"
    DAY = "day"
    AUTO = "auto"


_RESOLUTIONS = {
    Step.FIVE: Resolution.FIVE,
    Step.THIRTY: Resolution.THIRTY,
    Step.DAY: Resolution.DAILY,
}
STEP_OF = {v: k for k, v in _RESOLUTIONS.items()}


def invalid(field: str, message: str, value: Any = None, kind: str = "value_error") -> NoReturn:
    """Raise a 422 naming the query parameter, in FastAPI's validation shape."""
    raise RequestValidationError(
        [{"loc": ("query", field), "msg": message, "type": kind, "input": value}]
    )


def parse_moment(field: str, text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; with an offset it is converted to NEM time, without one
    it is NEM time already (the NEM keeps UTC+10 all year)."""
    if text is None or text == "":
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time())
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        invalid(field, "not an ISO 8601 date or date-time (e.g. 2026-11-30T16:00+10:00)", text)
    return naive_nem(moment).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Limits:
    """The longest span each resolution may be asked for (days)."""

    five: float
    thirty: float
    day: float

    def days(self, resolution: Resolution) -> float:
        """The longest span at `resolution`."""
        return {Resolution.FIVE: self.five, Resolution.THIRTY: self.thirty}.get(
            resolution, self.day
        )


@dataclass(frozen=True, slots=True)
class Window:
    """A validated range: (start, end] in naive NEM time, read at `resolution`."""

    start: datetime
    end: datetime
    resolution: Resolution
    asked: Step

    @property
    def minutes(self) -> int:
        """Length of one row's period."""
        return self.resolution.minutes


def window(
    start: str | None,
    end: str | None,
    step: Step,
    *,
    policy: Policy,
    limits: Limits,
    newest: datetime | None,
    scale: float = 1.0,
) -> Window:
    """The range asked for (default: the 24 hours up to the newest data), checked against the
    span limit of its resolution (`scale` shrinks the limits for per-unit answers)."""
    first = parse_moment("start", start)
    last = parse_moment("end", end)
    anchor = newest or align_down(naive_nem(nem_now()).replace(tzinfo=None), 5)
    if last is None:
        last = anchor if first is None else first + timedelta(days=1)
    if first is None:
        first = last - timedelta(days=1)
    if last <= first:
        invalid("end", "end must be after start", end)
    chosen = _RESOLUTIONS[step] if step is not Step.AUTO else policy.choose(first, last)
    longest = limits.days(chosen) * scale
    if last - first > timedelta(days=longest):
        invalid(
            "end",
            f"a span of {(last - first).total_seconds() / 86400:g} days is longer than "
            f"{longest:g} days, the most at {STEP_OF[chosen].value} resolution: ask for a "
            "coarser resolution or a shorter range",
            end,
        )
    # periods are interval-ending: (start, end] aligned to the resolution's grid
    return Window(first, last, chosen, step)


StartParam = Annotated[
    str | None,
    Param(
        description="range start (exclusive), ISO 8601; NEM time (+10:00) when no offset is "
        "given; default: 24 hours before `end`",
        examples=["2026-11-29T00:00"],
    ),
]
EndParam = Annotated[
    str | None,
    Param(
        description="range end (inclusive: rows whose interval ends at or before it), ISO 8601; "
        "NEM time when no offset; default: the newest interval stored",
        examples=["2026-11-30T00:00+10:00"],
    ),
]
ResolutionParam = Annotated[
    Step,
    Param(
        description="5min | 30min | day | auto (auto: 5 min up to 48 h, 30 min up to 92 days, "
        "daily beyond). Longest spans: see the API description",
    ),
]
FormatParam = Annotated[
    Format,
    Param(
        description="json (paged) | csv | parquet (whole range, streamed; load it straight "
        "into polars or pandas)"
    ),
]
CursorParam = Annotated[
    str | None,
    Param(description="JSON pages: the `next` cursor of the previous page", max_length=400),
]
LimitParam = Annotated[
    int | None,
    Param(ge=1, le=100_000, description="JSON rows per page (default and maximum: the page size)"),
]


@dataclass(slots=True)
class Paged:
    """What every history endpoint takes besides its own filters: the range, the format and
    the page (a FastAPI dependency: its fields are query parameters)."""

    start: StartParam = None
    end: EndParam = None
    format: FormatParam = Format.JSON
    cursor: CursorParam = None
    limit: LimitParam = None


@dataclass(slots=True)
class Asked(Paged):
    """`Paged` and the resolution asked for."""

    resolution: ResolutionParam = Step.AUTO
