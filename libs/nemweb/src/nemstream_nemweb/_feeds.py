"""The NEMWeb folders nemstream reads, and where on NEMWeb any file lives.

The fetcher feeds have fixed names (docs/architecture.md): ``dispatch`` (DispatchIS),
``trading`` (TradingIS), ``scada`` (Dispatch_SCADA), ``rooftop`` (rooftop PV actuals,
MEASUREMENT and SATELLITE), and the two forecasts: ``p5min`` (5-minute pre-dispatch, a run every
5 minutes for the next hour) and ``predispatch`` (a run every 30 minutes to the end of the next
trading day). The CDEII folder (emission factors) is read by the registry, not a fetcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from nemstream_nemweb._filenames import NemwebFile, Period, parse_filename


class Area(StrEnum):
    """NEMWeb keeps recent files in CURRENT and older ones, zipped by day or week, in ARCHIVE."""

    CURRENT = "CURRENT"
    ARCHIVE = "ARCHIVE"


REPORTS_ROOT = "/Reports"
MMSDM_ROOT = "/Data_Archive/Wholesale_Electricity/MMSDM"


@dataclass(frozen=True, slots=True)
class Feed:
    """One NEMWeb report folder: its name, the report kinds it holds, and its cadence."""

    name: str
    folder: str  # under /Reports/CURRENT/ and /Reports/ARCHIVE/
    kinds: frozenset[str]
    cadence: timedelta
    archive_period: Period

    def path(self, area: Area | str = Area.CURRENT) -> str:
        """URL path of the feed's folder, ending in ``/``."""
        return f"{REPORTS_ROOT}/{Area(area).value}/{self.folder}/"

    def holds(self, file: NemwebFile) -> bool:
        """Whether a file (a report, or an ARCHIVE zip of reports) belongs to this feed."""
        return file.kind in self.kinds and not file.is_mmsdm


FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            "dispatch",
            "DispatchIS_Reports",
            frozenset({"DISPATCHIS"}),
            timedelta(minutes=5),
            Period.DAY,
        ),
        Feed(
            "trading",
            "TradingIS_Reports",
            frozenset({"TRADINGIS"}),
            timedelta(minutes=5),
            Period.DAY,
        ),
        Feed(
            "scada",
            "Dispatch_SCADA",
            frozenset({"DISPATCHSCADA"}),
            timedelta(minutes=5),
            Period.DAY,
        ),
        Feed(
            "rooftop",
            "ROOFTOP_PV/ACTUAL",
            frozenset({"ROOFTOP_PV_ACTUAL_MEASUREMENT", "ROOFTOP_PV_ACTUAL_SATELLITE"}),
            timedelta(minutes=30),
            Period.WEEK,
        ),
        Feed(
            "p5min",
            "P5_Reports",
            frozenset({"P5MIN"}),
            timedelta(minutes=5),
            Period.DAY,
        ),
        Feed(
            "predispatch",
            "PredispatchIS_Reports",
            frozenset({"PREDISPATCHIS"}),
            timedelta(minutes=30),
            Period.DAY,
        ),
    )
}
"""The fetcher feeds by their fixed names."""

LEGACY_DISPATCH = Feed(
    "dispatch_legacy",
    "Dispatch_Reports",
    frozenset({"DISPATCH"}),
    timedelta(minutes=5),
    Period.DAY,
)
"""The legacy dispatch report folder (``PUBLIC_DISPATCH_..._LEGACY.zip``), not a fetcher feed."""

CDEII = Feed(
    "cdeii",
    "CDEII",
    frozenset({"CO2EII_AVAILABLE_GENERATORS"}),
    timedelta(days=1),
    Period.DAY,
)
"""AEMO's CO2EII folder: the generator list with each unit's emission factor (a registry source,
refreshed daily), not a fetcher feed."""

ALL_FOLDERS: tuple[Feed, ...] = (*FEEDS.values(), LEGACY_DISPATCH, CDEII)


def get_feed(name: str) -> Feed:
    """The feed of a fixed name, or a ValueError listing the names there are."""
    try:
        return FEEDS[name]
    except KeyError:
        raise ValueError(f"unknown feed {name!r}: the feeds are {', '.join(FEEDS)}") from None


def feed_of(file: NemwebFile) -> Feed | None:
    """The folder a report (or ARCHIVE zip) belongs to; None for MMSDM and unknown kinds."""
    return next((feed for feed in ALL_FOLDERS if feed.holds(file)), None)


def mmsdm_folder(file: NemwebFile) -> str:
    """URL path of the MMSDM folder a monthly file lives in."""
    month = file.stamp
    return f"{MMSDM_ROOT}/{month:%Y}/MMSDM_{month:%Y_%m}/MMSDM_Historical_Data_SQLLoader/DATA/"


def nemweb_folder(name: str | NemwebFile) -> str | None:
    """Where on NEMWeb a file lives (URL path of its folder), or None if nemstream can't tell."""
    file = parse_filename(name) if isinstance(name, str) else name
    if file.is_mmsdm:
        return mmsdm_folder(file)
    feed = feed_of(file)
    if feed is None:
        return None
    return feed.path(Area.ARCHIVE if file.is_archive else Area.CURRENT)
