"""NEMWeb file names: which report a file is, which interval or period it covers, its id.

Every time in a name is NEM time (UTC+10, no daylight saving), kept as a naive datetime.
Names seen on NEMWeb (and in the real samples):

* ``PUBLIC_DISPATCHIS_202001131410_0000000317693747.zip`` - a 5-minute report; the 12-digit
  stamp is the interval ending it carries, the 16 digits its report id;
* ``PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303200000_0000000412707330.zip`` - a rooftop PV
  report; the 14-digit stamp is when it was published, 30 minutes after the half-hour (ending)
  whose estimate it carries (the samples carry 19:30 and 18:00 in files stamped 20:00 and 18:30);
* ``PUBLIC_DISPATCH_202111081435_20211108143014_LEGACY.zip`` - the legacy dispatch report:
  interval ending, then the time it was made;
* ``PUBLIC_P5MIN_201905160000_20190515235537.zip`` and
  ``PUBLIC_PREDISPATCHIS_201905010000_20190430233259.zip`` - a forecast run: the run's time
  (its first interval ending), then the time it was made (no report id);
* ``CO2EII_AVAILABLE_GENERATORS_2017_43_20171103104827.CSV`` - AEMO's CO2EII generator list
  (CDEII folder): year and week it applies to, then the time it was published;
* ``PUBLIC_DISPATCHIS_20211108.zip`` - an ARCHIVE zip of a day's 5-minute zips (rooftop
  archives hold a week's half-hourly zips, named after their first day);
* ``PUBLIC_DVD_DUDETAILSUMMARY_201706010000.CSV`` and
  ``PUBLIC_ARCHIVE#DISPATCHPRICE#FILE01#202603010000.zip`` (on disk ``%23`` for ``#``) - MMSDM
  monthly files of one table (large tables are split into FILE01, FILE02, ...).

ARCHIVE naming beyond the daily/weekly date is not covered by the real samples; the parser
accepts any ``PUBLIC_<KIND>_<YYYYMMDD>`` name and says which period it expects from the feed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import unquote


class Period(StrEnum):
    """What span of time one file covers."""

    INTERVAL = "interval"  # one report: a 5-minute (or half-hourly) interval
    DAY = "day"  # an ARCHIVE zip of one day's reports
    WEEK = "week"  # an ARCHIVE zip of one week's reports (rooftop PV)
    MONTH = "month"  # an MMSDM monthly table file


class FileNameError(ValueError):
    """A name that is not one of NEMWeb's report names."""


ROOFTOP_PUBLICATION_LAG = timedelta(minutes=30)
"""Rooftop PV files are stamped 30 minutes after the half-hour (ending) they estimate."""

_EXTENSION = r"\.(?:zip|csv)"
_REPORT = re.compile(
    rf"^PUBLIC_(?P<kind>[A-Z0-9_]+?)_(?P<stamp>\d{{12}}|\d{{14}})_(?P<id>\d{{16}}){_EXTENSION}$",
    re.IGNORECASE,
)
_LEGACY = re.compile(
    rf"^PUBLIC_(?P<kind>DISPATCH)_(?P<stamp>\d{{12}})_(?P<made>\d{{14}})_LEGACY{_EXTENSION}$",
    re.IGNORECASE,
)
_RUN = re.compile(
    rf"^PUBLIC_(?P<kind>[A-Z0-9_]+?)_(?P<stamp>\d{{12}})_(?P<made>\d{{14}}){_EXTENSION}$",
    re.IGNORECASE,
)
_CO2EII = re.compile(
    rf"^(?P<kind>CO2EII_[A-Z_]+?)_(?P<year>\d{{4}})_(?P<week>\d{{1,2}})_(?P<stamp>\d{{14}})"
    rf"{_EXTENSION}$",
    re.IGNORECASE,
)
_MMSDM_DVD = re.compile(
    rf"^PUBLIC_DVD_(?P<table>[A-Z0-9_]+?)_(?P<stamp>\d{{12}}){_EXTENSION}$", re.IGNORECASE
)
_MMSDM_ARCHIVE = re.compile(
    rf"^PUBLIC_ARCHIVE#(?P<table>[A-Z0-9_]+)#FILE(?P<part>\d+)#(?P<stamp>\d{{12}}){_EXTENSION}$",
    re.IGNORECASE,
)
_ARCHIVE = re.compile(
    rf"^PUBLIC_(?P<kind>[A-Z0-9_]+?)_(?P<stamp>\d{{8}}){_EXTENSION}$", re.IGNORECASE
)

_WEEKLY_KINDS = frozenset({"ROOFTOP_PV_ACTUAL_MEASUREMENT", "ROOFTOP_PV_ACTUAL_SATELLITE"})


@dataclass(frozen=True, slots=True)
class NemwebFile:
    """What a NEMWeb file name says about the file."""

    name: str
    kind: str  # report kind (DISPATCHIS, ...) or, for MMSDM files, the table (DISPATCHPRICE)
    stamp: datetime  # the time written in the name (NEM time)
    period: Period
    report_id: str | None = None
    made: datetime | None = None  # legacy reports: when the report was made
    part: int | None = None  # MMSDM archive files: FILE01 -> 1

    @property
    def is_mmsdm(self) -> bool:
        """An MMSDM monthly table file (not a NEMWeb report)."""
        return self.period is Period.MONTH

    @property
    def is_archive(self) -> bool:
        """A NEMWeb ARCHIVE zip of many reports."""
        return self.period in (Period.DAY, Period.WEEK)

    @property
    def interval(self) -> datetime:
        """For a report, the interval ending its data carries; for other files, their start."""
        if self.period is Period.INTERVAL and self.kind in _WEEKLY_KINDS:
            return self.stamp - ROOFTOP_PUBLICATION_LAG
        return self.stamp

    @property
    def zip_name(self) -> str:
        """The name NEMWeb serves the file under (reports and archives are zips)."""
        stem = self.name.rsplit(".", 1)[0]
        return f"{stem}.zip"

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """Order of publication: by the time in the name, then by name."""
        return (self.stamp, self.name)


def _stamp(text: str) -> datetime:
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    try:
        return datetime.strptime(text, formats[len(text)])
    except (KeyError, ValueError) as exc:
        raise FileNameError(f"bad time {text!r} in file name") from exc


def parse_filename(name: str) -> NemwebFile:
    """Read a NEMWeb file name (any case of extension, ``%23`` or ``#``); FileNameError if not."""
    base = unquote(name.rsplit("/", 1)[-1])
    if match := _LEGACY.match(base) or _RUN.match(base):  # interval (or run), then when made
        return NemwebFile(
            name=base,
            kind=match["kind"].upper(),
            stamp=_stamp(match["stamp"]),
            period=Period.INTERVAL,
            made=_stamp(match["made"]),
        )
    if match := _CO2EII.match(base):
        return NemwebFile(
            name=base,
            kind=match["kind"].upper(),
            stamp=_stamp(match["stamp"]),
            period=Period.INTERVAL,
        )
    if match := _MMSDM_ARCHIVE.match(base):
        return NemwebFile(
            name=base,
            kind=match["table"].upper(),
            stamp=_stamp(match["stamp"]),
            period=Period.MONTH,
            part=int(match["part"]),
        )
    if match := _MMSDM_DVD.match(base):
        return NemwebFile(
            name=base,
            kind=match["table"].upper(),
            stamp=_stamp(match["stamp"]),
            period=Period.MONTH,
        )
    if match := _REPORT.match(base):
        return NemwebFile(
            name=base,
            kind=match["kind"].upper(),
            stamp=_stamp(match["stamp"]),
            period=Period.INTERVAL,
            report_id=match["id"],
        )
    if match := _ARCHIVE.match(base):
        kind = match["kind"].upper()
        period = Period.WEEK if kind in _WEEKLY_KINDS else Period.DAY
        return NemwebFile(name=base, kind=kind, stamp=_stamp(match["stamp"]), period=period)
    raise FileNameError(f"not a NEMWeb report name: {base!r}")


def try_parse_filename(name: str) -> NemwebFile | None:
    """`parse_filename`, or None for names that are not NEMWeb report names."""
    try:
        return parse_filename(name)
    except FileNameError:
        return None


def report_name(kind: str, interval: datetime, report_id: str) -> str:
    """The zip name NEMWeb gives a 5-minute report (``PUBLIC_DISPATCHIS_<YYYYMMDDHHMM>_<id>``)."""
    return f"PUBLIC_{kind.upper()}_{interval:%Y%m%d%H%M}_{int(report_id):016d}.zip"
