"""The early-warning state machine of one region (issue 14), and the texts it sends.

It is fed three inputs, each newer than the last of its kind or ignored: a P5MIN run (run time
R, intervals R … R+55), a pre-dispatch run (run time Q, half hours to the end of the next
trading day) and the dispatch price of an interval D. *Now* is the newest of R, D and Q − 30 min.
The *outlook* is what the newest runs say about the intervals after now: the P5MIN run's, and
the pre-dispatch run's only beyond the P5MIN run's last interval and up to
``predispatch_h`` hours after now (P5MIN wins where both speak). A forecast is *news* only above
the level the dispatch price is already at (the price machine of `judge`, over these
thresholds): at or above ``high`` while the price is normal, at or above ``extreme`` while it is
high, never while it is extreme.

Per region the warning level is ``none``, ``high`` or ``extreme``. After every input, in order:

1. *arrived* (silent): a warning is up and the dispatch price reached its level; the price
   alert takes over.
2. *high* / *extreme* (SMS): no warning is up and the outlook has news; it names the first
   interval at the highest level forecast. A new episode.
3. *extreme* (SMS): a high warning is up and the outlook now has an extreme price.
4. a warning is up and the outlook has no news any more (with ``ease_below`` set: no forecast
   at or above it any more, so a forecast hovering at the threshold does not flap): *eased*
   (SMS) when the forecast that was standing still had news after now (a newer run withdrew it
   before it came), otherwise *passed* (silent: time reached every interval it named).

Otherwise nothing is sent: later runs forecasting the same episode, a forecast falling from
extreme to high (a warning is lowered only by easing), a moving forecast interval.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from nemstream_alerts._state import State, Thresholds, judge

Level = Literal["none", "high", "extreme"]
ForecastEvent = Literal["high", "extreme", "eased", "arrived", "passed"]
Source = Literal["p5min", "predispatch", "dispatch"]

RANK: dict[str, int] = {"none": 0, "normal": 0, "high": 1, "extreme": 2}
PREDISPATCH_NOW = timedelta(minutes=30)
"""A pre-dispatch run's *now*: the start of its first half hour (its run time minus 30 min)."""


@dataclass(frozen=True, slots=True)
class ForecastLimits:
    """$/MWh levels of the warnings, the price's recovery level, the pre-dispatch horizon."""

    high: float = 1000.0
    extreme: float = 10000.0
    recover: float = 300.0
    predispatch_h: float = 2.0
    ease_below: float | None = None
    """A warning that is up stays up while a run still forecasts at least this (below `high`):
    a forecast hovering at the threshold then warns once, not warn, ease, warn. None: eased as
    soon as no run forecasts the warning's level (the issue's rule)."""

    def threshold(self, level: str) -> float:
        """The $/MWh of a level (``high`` or ``extreme``)."""
        return self.extreme if level == "extreme" else self.high

    def floor(self, price: State) -> float | None:
        """The lowest forecast price that is news while the dispatch price is at `price`."""
        return {"normal": self.high, "high": self.extreme, "extreme": None}[price]

    def hold(self, price: State) -> float | None:
        """The lowest forecast price that keeps an up warning up (`ease_below`, else the news
        floor) while the dispatch price is at `price`."""
        floor = self.floor(price)
        if floor is None or self.ease_below is None:
            return floor
        return min(floor, self.ease_below)


@dataclass(frozen=True, slots=True)
class Point:
    """One forecast (or dispatch) price of one interval."""

    interval: datetime
    rrp: float
    source: Source


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of a region's warning: what, from which level, about which price, when."""

    event: ForecastEvent
    previous: Level
    point: Point | None
    threshold: float
    now: datetime
    episode: int

    @property
    def texted(self) -> bool:
        """Whether it is sent by SMS (arrived and passed are silent)."""
        return self.event in ("high", "extreme", "eased")


Rows = tuple[tuple[datetime, float], ...]


@dataclass(frozen=True, slots=True)
class ForecastState:
    """What one region's warning machine knows: the newest runs (their prices at or above the
    high threshold), the newest dispatch price's interval and level, and the warning."""

    p5min_run: datetime | None = None
    p5min_end: datetime | None = None  # the run's last interval
    p5min: Rows = ()
    predispatch_run: datetime | None = None
    predispatch: Rows = ()
    dispatch: datetime | None = None
    dispatch_rrp: float | None = None
    price: State = "normal"
    level: Level = "none"
    episode: int = 0

    @property
    def now(self) -> datetime | None:
        """The newest moment the inputs speak of (None before any)."""
        moments = [self.p5min_run, self.dispatch]
        if self.predispatch_run is not None:
            moments.append(self.predispatch_run - PREDISPATCH_NOW)
        known = [m for m in moments if m is not None]
        return max(known) if known else None

    def dump(self) -> bytes:
        """JSON for KV."""

        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            return value

        return json.dumps({k: plain(v) for k, v in asdict(self).items()}).encode()

    @classmethod
    def load(cls, raw: bytes | None) -> ForecastState:
        """From KV (a region never seen knows nothing)."""
        if not raw:
            return cls()
        data = json.loads(raw)

        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        def rows(values: list[list[Any]]) -> Rows:
            return tuple((datetime.fromisoformat(t), float(r)) for t, r in values)

        return cls(
            p5min_run=when(data["p5min_run"]),
            p5min_end=when(data["p5min_end"]),
            p5min=rows(data["p5min"]),
            predispatch_run=when(data["predispatch_run"]),
            predispatch=rows(data["predispatch"]),
            dispatch=when(data["dispatch"]),
            dispatch_rrp=data["dispatch_rrp"],
            price=data["price"],
            level=data["level"],
            episode=int(data["episode"]),
        )


def _kept(rows: list[tuple[datetime, float]], limits: ForecastLimits) -> Rows:
    """The rows that can ever matter (at or above the high threshold, or the easing level),
    in interval order."""
    least = min(
        limits.high, limits.extreme, *(() if limits.ease_below is None else (limits.ease_below,))
    )
    return tuple(sorted((t, r) for t, r in rows if r >= least))


def with_p5min(
    state: ForecastState,
    run: datetime,
    rows: list[tuple[datetime, float]],
    limits: ForecastLimits,
) -> ForecastState | None:
    """The state with a P5MIN run taken in; None if it is not newer than the newest seen."""
    if not rows or (state.p5min_run is not None and run <= state.p5min_run):
        return None
    end = max(t for t, _ in rows)
    return replace(state, p5min_run=run, p5min_end=end, p5min=_kept(rows, limits))


def with_predispatch(
    state: ForecastState,
    run: datetime,
    rows: list[tuple[datetime, float]],
    limits: ForecastLimits,
) -> ForecastState | None:
    """The state with a pre-dispatch run taken in; None if it is not newer than the newest."""
    if not rows or (state.predispatch_run is not None and run <= state.predispatch_run):
        return None
    return replace(state, predispatch_run=run, predispatch=_kept(rows, limits))


def with_dispatch(
    state: ForecastState, interval: datetime, rrp: float, limits: ForecastLimits
) -> ForecastState | None:
    """The state with a dispatch price taken in; None if its interval is not newer."""
    if state.dispatch is not None and interval <= state.dispatch:
        return None
    price, _ = judge(state.price, rrp, Thresholds(limits.high, limits.extreme, limits.recover))
    return replace(state, dispatch=interval, dispatch_rrp=rrp, price=price)


def outlook(
    rows_of: ForecastState, now: datetime, floor: float | None, limits: ForecastLimits
) -> list[Point]:
    """The news in `rows_of`'s runs after `now`: prices at or above `floor`, by interval."""
    if floor is None:
        return []
    points = [Point(t, r, "p5min") for t, r in rows_of.p5min if t > now and r >= floor]
    if limits.predispatch_h > 0:
        after = max(now, rows_of.p5min_end) if rows_of.p5min_end else now
        until = now + timedelta(hours=limits.predispatch_h)
        points += [
            Point(t, r, "predispatch")
            for t, r in rows_of.predispatch
            if after < t <= until and r >= floor
        ]
    return sorted(points, key=lambda p: p.interval)


def _level_of(points: list[Point], limits: ForecastLimits) -> Level:
    if any(p.rrp >= limits.extreme for p in points):
        return "extreme"
    return "high" if points else "none"


def _first_at(points: list[Point], level: str, limits: ForecastLimits) -> Point:
    return next(p for p in points if p.rrp >= limits.threshold(level))


def advance(
    before: ForecastState, after: ForecastState, limits: ForecastLimits
) -> tuple[ForecastState, list[Transition]]:
    """Apply the rules of the module docstring to a state that has just taken in one input
    (`after`; `before` is the state before it)."""
    now = after.now
    assert now is not None, "advance() follows an input"
    out: list[Transition] = []
    state = after
    if state.level != "none" and RANK[state.price] >= RANK[state.level]:
        assert state.dispatch is not None and state.dispatch_rrp is not None
        arrived = Point(state.dispatch, state.dispatch_rrp, "dispatch")
        threshold = limits.threshold(state.level)
        out.append(Transition("arrived", state.level, arrived, threshold, now, state.episode))
        state = replace(state, level="none")
    floor = limits.floor(state.price)
    news = outlook(state, now, floor, limits)
    forecast = _level_of(news, limits)
    if state.level == "none":
        if forecast != "none":
            episode = state.episode + 1
            first = _first_at(news, forecast, limits)
            threshold = limits.threshold(forecast)
            out.append(Transition(forecast, "none", first, threshold, now, episode))
            state = replace(state, level=forecast, episode=episode)
    elif forecast == "none" and not outlook(state, now, limits.hold(state.price), limits):
        hold = limits.hold(state.price)
        standing = outlook(before, now, hold, limits)  # what the withdrawn forecast still said
        event: ForecastEvent = "eased" if standing else "passed"
        point = standing[0] if standing else None
        threshold = limits.threshold(state.level)
        out.append(Transition(event, state.level, point, threshold, now, state.episode))
        state = replace(state, level="none")
    elif state.level == "high" and forecast == "extreme":
        first = _first_at(news, "extreme", limits)
        out.append(Transition("extreme", "high", first, limits.extreme, now, state.episode))
        state = replace(state, level="extreme")
    return state, out


def dollars(rrp: float) -> str:
    """A forecast price, whole dollars: ``$12,400``."""
    return f"{'-' if rrp < 0 else ''}${abs(rrp):,.0f}"


def lead(minutes: int) -> str:
    """How far ahead: ``25 min``, ``1 h``, ``2 h 5 min``."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def forecast_text(region: str, transition: Transition) -> str:
    """The SMS text of a warning or an easing (NEM time)."""
    point = transition.point
    assert point is not None and transition.texted
    at = point.interval.strftime("%H:%M")
    if transition.event == "eased":
        return f"✅ {region} forecast eased: {dollars(point.rrp)} at {at} no longer forecast"
    ahead = lead(round((point.interval - transition.now).total_seconds() / 60))
    icon = "🚨" if transition.event == "extreme" else "⚠️"
    where = ", pre-dispatch" if point.source == "predispatch" else ""
    return f"{icon} {region} forecast {dollars(point.rrp)} at {at} (in {ahead}{where})"
