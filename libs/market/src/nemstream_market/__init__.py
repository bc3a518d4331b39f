"""The NEM's fixed facts, in one place: what time it is in the market, which regions there are,
and the settlement rules every table and service relies on.

Every other nemstream package takes these from here, so a rule is written once: NEM time is
UTC+10 all year (no daylight saving: never ``Australia/Sydney``), intervals are named by their
*end*, 5-minute settlement began with the interval ending 2021-10-01 00:05, and rooftop PV
sub-regions are never added to their region.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

NEM_OFFSET = timedelta(hours=10)
"""NEM time is UTC+10 all year."""

NEM_TZ = timezone(NEM_OFFSET, "NEM")
"""NEM time as a tzinfo (Australia/Brisbane has no daylight saving either)."""

REGIONS: tuple[str, ...] = ("NSW1", "QLD1", "SA1", "TAS1", "VIC1")
"""The five NEM regions, as REGIONID spells them."""

ROOFTOP_SUBREGIONS: dict[str, str] = {
    "QLDC": "QLD1",
    "QLDN": "QLD1",
    "QLDS": "QLD1",
    "TASN": "TAS1",
    "TASS": "TAS1",
}
"""Rooftop PV sub-regions and the region they are part of: summing them with their region
counts the same panels twice."""

ROOFTOP_REGIONS: tuple[str, ...] = (*REGIONS, *ROOFTOP_SUBREGIONS)
"""Every REGIONID a rooftop PV file carries: the regions, then the sub-regions."""

PRICING_RUN = 0
"""INTERVENTION value of the pricing run, the one that sets prices and revenue."""

DISPATCH_MINUTES = 5
"""Length of a dispatch interval."""

HALF_HOUR_MINUTES = 30
"""Length of a trading interval before 5-minute settlement, and of the 30-minute tables."""

FIVE_MINUTE_SETTLEMENT_START = datetime(2021, 10, 1, 0, 5)
"""First interval (ending, NEM time, naive) settled on 5-minute prices; before it TradingIS
prices are 30-minute trading-interval prices."""


def nem_time(moment: datetime) -> datetime:
    """An aware instant in NEM time; a naive one is taken to be NEM time already."""
    return moment.replace(tzinfo=NEM_TZ) if moment.tzinfo is None else moment.astimezone(NEM_TZ)


def naive_nem(moment: datetime) -> datetime:
    """A timestamp as the store keeps it: naive NEM time (aware instants converted first)."""
    return moment if moment.tzinfo is None else moment.astimezone(NEM_TZ).replace(tzinfo=None)


def nem_now() -> datetime:
    """Now, in NEM time."""
    return datetime.now(NEM_TZ)


def on_grid(interval: datetime, minutes: int) -> bool:
    """Whether an interval ending falls on the `minutes` grid of the NEM day (00:05, 00:10 ...
    for 5 minutes; 00:30, 01:00 ... for 30), seconds and microseconds zero."""
    local = naive_nem(interval)
    since_midnight = local.hour * 60 + local.minute
    return local.second == 0 and local.microsecond == 0 and since_midnight % minutes == 0


def trading_interval_minutes(settlementdate: datetime) -> int:
    """Length of the trading interval ending at `settlementdate` (NEM time): 5 minutes from
    five-minute settlement (interval ending 2021-10-01 00:05) on, 30 before it."""
    return DISPATCH_MINUTES if naive_nem(settlementdate) >= FIVE_MINUTE_SETTLEMENT_START else 30


def parent_region(regionid: str) -> str:
    """The NEM region a REGIONID belongs to (a rooftop sub-region's parent, else itself)."""
    return ROOFTOP_SUBREGIONS.get(regionid, regionid)


__all__ = [
    "DISPATCH_MINUTES",
    "FIVE_MINUTE_SETTLEMENT_START",
    "HALF_HOUR_MINUTES",
    "NEM_OFFSET",
    "NEM_TZ",
    "PRICING_RUN",
    "REGIONS",
    "ROOFTOP_REGIONS",
    "ROOFTOP_SUBREGIONS",
    "naive_nem",
    "nem_now",
    "nem_time",
    "on_grid",
    "parent_region",
    "trading_interval_minutes",
]
