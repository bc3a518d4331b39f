"""The NEM's fixed facts, in one place: what time it is in the market, which regions there are,
and the settlement rules every table and service relies on.

Every other nemstream package takes these from here, so a rule is written once: NEM time is
UTC+10 all year (no daylight saving: never ``Australia/Sydney``), intervals are named by their
*end*, 5-minute settlement began with the interval ending 2021-10-01 00:05, and rooftop PV
sub-regions are never added to their region. Also here: the market price cap and floor by
financial year, and which regions each interconnector joins (and in which direction a positive
flow goes).
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


MARKET_PRICE_CAPS: dict[int, float] = {
    2016: 14_000.0,
    2017: 14_200.0,
    2018: 14_500.0,
    2019: 14_700.0,
    2020: 15_000.0,
    2021: 15_100.0,
    2022: 15_500.0,
    2023: 16_600.0,
    2024: 17_500.0,
    2025: 20_300.0,
}
"""Market price cap (MPC, $/MWh) by financial year, keyed by the year the financial year starts
in (2024: 1 July 2024 to 30 June 2025, NEM time). Source: AEMO's published market price
settings for each financial year (the AEMC's reliability settings, indexed yearly). A year not
listed here is unknown (`market_price_cap` gives None): add it when AEMO publishes it."""

MARKET_FLOOR_PRICE = -1000.0
"""Market floor price ($/MWh): the lowest price dispatch can set (unchanged since 2016-17)."""

FINANCIAL_YEAR_START_MONTH = 7
"""A financial year runs 1 July to 30 June."""

INTERCONNECTOR_REGION_CODES: dict[str, str] = {
    "N": "NSW1",
    "Q": "QLD1",
    "S": "SA1",
    "SA": "SA1",
    "T": "TAS1",
    "V": "VIC1",
}
"""Short region names in interconnector ids (``V-SA``, ``T-V-MNSP1``, ``N-Q-MNSP1``)."""

INTERCONNECTORS: dict[str, tuple[str, str]] = {
    "N-Q-MNSP1": ("NSW1", "QLD1"),  # Terranora (Directlink)
    "NSW1-QLD1": ("NSW1", "QLD1"),  # Queensland-NSW Interconnector (QNI)
    "T-V-MNSP1": ("TAS1", "VIC1"),  # Basslink
    "V-S-MNSP1": ("VIC1", "SA1"),  # Murraylink
    "V-SA": ("VIC1", "SA1"),  # Heywood
    "VIC1-NSW1": ("VIC1", "NSW1"),  # Victoria-NSW
}
"""The NEM's interconnectors by AEMO id: (from, to) regions. A positive flow (MWFLOW,
METEREDMWFLOW) goes from the first named region to the second; EXPORTLIMIT bounds the positive
direction, IMPORTLIMIT (usually a negative number) the negative one. Ids not listed here are
read by `interconnector_regions` from their parts."""


def financial_year(interval: datetime) -> int:
    """The financial year (the year it starts in) of the interval *ending* at `interval`: the
    interval ending 1 July 00:00 still belongs to the year that ends then."""
    start = naive_nem(interval) - timedelta(microseconds=1)
    return start.year if start.month >= FINANCIAL_YEAR_START_MONTH else start.year - 1


def market_price_cap(interval: datetime) -> float | None:
    """The market price cap ($/MWh) for the interval ending at `interval` (NEM time), None for
    a financial year not in `MARKET_PRICE_CAPS`."""
    return MARKET_PRICE_CAPS.get(financial_year(interval))


def interconnector_regions(interconnectorid: str) -> tuple[str, str] | None:
    """The (from, to) regions of an interconnector: a positive flow goes from the first to the
    second. Known ids from `INTERCONNECTORS`; others from their parts (``NSW1-SA1``, ``V-S``;
    an ``MNSPn`` part is dropped); None when the id names no two regions."""
    known = INTERCONNECTORS.get(interconnectorid)
    if known is not None:
        return known
    parts = [p for p in interconnectorid.upper().split("-") if not p.startswith("MNSP")]
    regions = [p if p in REGIONS else INTERCONNECTOR_REGION_CODES.get(p) for p in parts]
    if len(regions) != 2 or None in regions or regions[0] == regions[1]:
        return None
    return str(regions[0]), str(regions[1])


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


TRADING_DAY_START = timedelta(hours=4)
"""A trading day runs from 04:00 to 04:00 NEM time: its first half hour ends at 04:30."""


def predispatch_run_time(seqno: str) -> datetime:
    """When a pre-dispatch run was made, from its PREDISPATCHSEQNO (``YYYYMMDDPP``: the trading
    day and the half-hour period of it, period 1 ending 04:30): ``2019043040`` is 2019-05-01
    00:00. The interval ending at the run time is the run's first forecast interval."""
    text = seqno.strip()
    if len(text) != 10 or not text.isdigit():
        raise ValueError(f"PREDISPATCHSEQNO {seqno!r} is not YYYYMMDDPP")
    period = int(text[8:])
    if not 1 <= period <= 48:
        raise ValueError(f"PREDISPATCHSEQNO {seqno!r}: period {period} is not 1-48")
    day = datetime.strptime(text[:8], "%Y%m%d")
    return day + TRADING_DAY_START + timedelta(minutes=HALF_HOUR_MINUTES * period)


__all__ = [
    "DISPATCH_MINUTES",
    "FINANCIAL_YEAR_START_MONTH",
    "FIVE_MINUTE_SETTLEMENT_START",
    "HALF_HOUR_MINUTES",
    "INTERCONNECTORS",
    "INTERCONNECTOR_REGION_CODES",
    "MARKET_FLOOR_PRICE",
    "MARKET_PRICE_CAPS",
    "NEM_OFFSET",
    "NEM_TZ",
    "PRICING_RUN",
    "REGIONS",
    "ROOFTOP_REGIONS",
    "ROOFTOP_SUBREGIONS",
    "TRADING_DAY_START",
    "financial_year",
    "interconnector_regions",
    "market_price_cap",
    "naive_nem",
    "nem_now",
    "nem_time",
    "on_grid",
    "parent_region",
    "predispatch_run_time",
    "trading_interval_minutes",
]
