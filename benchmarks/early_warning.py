"""Early-warning lead time (issue 14): replay the real sample day's P5MIN runs and DispatchIS
prices through the early-warning state machine and tell, for every crossing of the dispatch
price (a price alert: high or extreme), whether a warning came before it and how many minutes.

    uv run python benchmarks/early_warning.py [--samples DIR] [--sweep 90,95,100,105,110]

Inputs: ``forecasts/`` (the twelve P5MIN runs of 2019-05-16 00:00-00:55) and
``history/dispatchis-2019-05-16/`` (the 288 DispatchIS files of that day) of the samples folder
(default ``../shared/nemweb``), read by the fetcher's own code (`events_of`), in stream order:
at the same time stamp the dispatch price first, then the P5MIN run (both are published about
4.5 minutes before the interval they are stamped with, so a lead measured between stamps is a
lead between the texts). The machine is the service's (`nemstream_alerts.advance`; the
integration tests show the service sends exactly what it decides).

A crossing is a price alert of the price machine over the same thresholds: ``high`` (normal →
high) or ``extreme``. It was *warned* when, just before its dispatch price was taken in, the
region's warning stood at that level or above; its *lead* is the crossing's interval minus the
time (run) at which the warning first reached that level in its episode. A crossing is *covered*
when some run of the sample forecast its interval (after the run's own first interval): only
those could have been warned. *False warnings*: episodes that ended eased or passed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nemstream_alerts import (
    ForecastLimits,
    ForecastState,
    State,
    Thresholds,
    advance,
    judge,
    with_dispatch,
    with_p5min,
)
from nemstream_contracts import DISPATCH_PRICE, P5MIN_PRICE, DispatchPrice, P5minPrice
from nemstream_fetcher import events_of
from nemstream_market import PRICING_RUN
from nemstream_runtime import configure_logging
from nemstream_testing.samples import find_samples_dir

KINDS = {DISPATCH_PRICE: 0, P5MIN_PRICE: 1}


@dataclass
class Crossing:
    """One price alert and what the warnings did before it."""

    region: str
    level: str
    interval: datetime
    rrp: float
    covered: bool
    lead_min: float | None = None  # None: not warned


@dataclass
class Outcome:
    """What one threshold set gave on the day."""

    limits: ForecastLimits
    crossings: list[Crossing] = field(default_factory=list)
    warnings: int = 0  # texts: high and extreme
    eased: int = 0
    passed: int = 0
    arrived: int = 0


def inputs(root: Path) -> list[DispatchPrice | P5minPrice]:
    """The day's dispatch prices and P5MIN runs, in stream order."""
    events = events_of([root / "forecasts", root / "history" / "dispatchis-2019-05-16"])
    kept = sorted(
        (e for e in events if e.subject in KINDS), key=lambda e: (e.interval, KINDS[e.subject])
    )
    out: list[DispatchPrice | P5minPrice] = []
    for event in kept:
        assert isinstance(event.message, DispatchPrice | P5minPrice)
        out.append(event.message)
    return out


def replay(messages: list[DispatchPrice | P5minPrice], limits: ForecastLimits) -> Outcome:
    """Run every region's warning machine (and price machine) over the day."""
    outcome = Outcome(limits)
    states: dict[str, ForecastState] = defaultdict(ForecastState)
    prices: dict[str, State] = defaultdict(lambda: "normal")
    since: dict[tuple[str, str], datetime] = {}  # (region, level) -> warned since
    forecast_ahead: set[tuple[str, datetime]] = set()  # intervals some run forecast ahead
    price_limits = Thresholds(limits.high, limits.extreme, limits.recover)
    for message in messages:
        if isinstance(message, P5minPrice):
            by_region: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
            for forecast in message.rows:
                if forecast.intervention == PRICING_RUN:
                    when = forecast.interval_datetime
                    by_region[forecast.regionid].append((when, forecast.rrp))
                    if when > message.interval:
                        forecast_ahead.add((forecast.regionid, when))
            for region, rows in sorted(by_region.items()):
                taken = with_p5min(states[region], message.interval, rows, limits)
                if taken is not None:
                    _step(outcome, states, since, region, taken)
            continue
        for row in sorted(message.rows, key=lambda r: r.regionid):
            if row.intervention != PRICING_RUN:
                continue
            region, at = row.regionid, message.interval
            prices[region], alert = judge(prices[region], row.rrp, price_limits)
            if alert in ("high", "extreme"):
                level = states[region].level
                warned = level == "extreme" or (level == "high" and alert == "high")
                crossing = Crossing(region, alert, at, row.rrp, (region, at) in forecast_ahead)
                if warned:
                    crossing.lead_min = (at - since[(region, alert)]).total_seconds() / 60
                outcome.crossings.append(crossing)
            taken = with_dispatch(states[region], at, row.rrp, limits)
            if taken is not None:
                _step(outcome, states, since, region, taken)
    return outcome


def _step(
    outcome: Outcome,
    states: dict[str, ForecastState],
    since: dict[tuple[str, str], datetime],
    region: str,
    taken: ForecastState,
) -> None:
    states[region], changes = advance(states[region], taken, outcome.limits)
    for change in changes:
        if change.event in ("high", "extreme"):
            outcome.warnings += 1
            if change.previous == "none":  # a new episode: warned of high (at least) from now
                since[(region, "high")] = change.now
            if change.event == "extreme":
                since[(region, "extreme")] = change.now
        else:
            setattr(outcome, change.event, getattr(outcome, change.event) + 1)
            since.pop((region, "high"), None)
            since.pop((region, "extreme"), None)


def report(outcomes: list[Outcome], seconds: float, messages: int) -> str:
    """The markdown section's tables."""
    lines = [
        f"{messages} messages (288 dispatch intervals, 12 P5MIN runs), {len(outcomes)} threshold "
        f"sets replayed in {seconds:.2f} s.",
        "",
        "| high / extreme / recover $/MWh | price alerts (day) | covered by a run | warned | "
        "lead, min (each warned crossing) | missed (covered) | warnings sent | eased | "
        "passed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        covered = [c for c in o.crossings if c.covered]
        warned = [c for c in covered if c.lead_min is not None]
        leads = ", ".join(
            f"{c.region} {c.level} {c.interval:%H:%M}: {c.lead_min:.0f}" for c in warned
        )
        limits = o.limits
        lines.append(
            f"| {limits.high:g} / {limits.extreme:g} / {limits.recover:g} | {len(o.crossings)} | "
            f"{len(covered)} | {len(warned)} | {leads or '—'} | {len(covered) - len(warned)} | "
            f"{o.warnings} | {o.eased} | {o.passed} |"
        )
    lines += ["", "Missed crossings (covered by a run, no warning up at that level):", ""]
    for o in outcomes:
        for c in o.crossings:
            if c.covered and c.lead_min is None:
                lines.append(
                    f"* {o.limits.high:g}/{o.limits.extreme:g}: {c.region} {c.level} at "
                    f"{c.interval:%H:%M} (${c.rrp:,.2f})"
                )
    return "\n".join(lines)


def main() -> None:
    """Replay the day at each threshold set and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=None, help="samples folder")
    parser.add_argument(
        "--sweep",
        default="90,95,100,105,110",
        help="high thresholds to try (extreme = high + 10, recover = high - 10), besides the "
        "defaults 1000/10000/300",
    )
    args = parser.parse_args()
    configure_logging()
    root = args.samples or find_samples_dir()
    if root is None:
        raise SystemExit("no samples: pass --samples or provide ../shared/nemweb")
    started = time.perf_counter()
    messages = inputs(root)
    sets = [ForecastLimits(1000.0, 10000.0, 300.0, 0.0)] + [
        ForecastLimits(h, h + 10, h - 10, 0.0) for h in map(float, args.sweep.split(","))
    ]
    outcomes = [replay(messages, limits) for limits in sets]
    seconds = time.perf_counter() - started
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print(report(outcomes, seconds, len(messages)))


if __name__ == "__main__":
    main()
