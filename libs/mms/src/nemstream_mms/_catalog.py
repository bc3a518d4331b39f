"""What nemstream knows of AEMO's MMS tables: which tables and versions, and column types by name.

Column types are looked up by AEMO column name (names mean the same thing in every MMS table).
A name listed here is *strict*: a value that does not parse as its type is an error naming the
line. Any other column is inferred from its values (timestamp, float, else text).
"""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    """How a column's text becomes a typed value."""

    DATETIME = "datetime"
    INT = "int"
    FLOAT = "float"
    STRING = "string"


TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"
"""MMS timestamps: NEM time (UTC+10, no DST), interval ending, e.g. ``2025/12/27 00:05:00``."""

_DATETIME = {
    "SETTLEMENTDATE",
    "LASTCHANGED",
    "INTERVAL_DATETIME",
    "START_DATE",
    "END_DATE",
    "EFFECTIVEDATE",
    "AUTHORISEDDATE",
    "GENCONID_EFFECTIVEDATE",
    "RUN_DATETIME",
    "TRADINGDATE",
    "DATETIME",  # pre-dispatch: the half hour (ending) a row forecasts
}

_INT = {
    "RUNNO",
    "INTERVENTION",
    "DISPATCHINTERVAL",
    "PERIODID",
    "VERSIONNO",
    "GENCONID_VERSIONNO",
    "PREDISPATCHSEQNO",  # YYYYMMDDPP: a pre-dispatch run's trading day and period
}

_STRING = {
    "REGIONID",
    "DUID",
    "CONSTRAINTID",
    "INTERCONNECTORID",
    "FROM_REGIONID",
    "TO_REGIONID",
    "STATIONID",
    "STATIONNAME",
    "PARTICIPANTID",
    "CONNECTIONPOINTID",
    "PRICE_STATUS",
    "OCD_STATUS",
    "MII_STATUS",
    "TYPE",
    "DISPATCHTYPE",
    "SCHEDULE_TYPE",
    "STARTTYPE",
    "EXPORTGENCONID",
    "IMPORTGENCONID",
    "CASESUBTYPE",
    "SPDVERSION",
    "AUTHORISEDBY",
    "ADDRESS1",
    "ADDRESS2",
    "ADDRESS3",
    "ADDRESS4",
    "CITY",
    "STATE",
    "POSTCODE",
    "VOLTLEVEL",
}

_FLOAT = {
    # prices
    "RRP",
    "EEP",
    "ROP",
    "RAISE6SECRRP",
    "RAISE60SECRRP",
    "RAISE5MINRRP",
    "RAISEREGRRP",
    "LOWER6SECRRP",
    "LOWER60SECRRP",
    "LOWER5MINRRP",
    "LOWERREGRRP",
    "RAISE1SECRRP",
    "LOWER1SECRRP",
    # regional balance
    "TOTALDEMAND",
    "AVAILABLEGENERATION",
    "AVAILABLELOAD",
    "DEMANDFORECAST",
    "DISPATCHABLEGENERATION",
    "DISPATCHABLELOAD",
    "NETINTERCHANGE",
    "EXCESSGENERATION",
    "TOTALINTERMITTENTGENERATION",
    "DEMAND_AND_NONSCHEDGEN",
    "UIGF",
    "SEMISCHEDULE_CLEAREDMW",
    "SEMISCHEDULE_COMPLIANCEMW",
    "SS_SOLAR_UIGF",
    "SS_WIND_UIGF",
    "SS_SOLAR_CLEAREDMW",
    "SS_WIND_CLEAREDMW",
    "SS_SOLAR_COMPLIANCEMW",
    "SS_WIND_COMPLIANCEMW",
    "SS_SOLAR_AVAILABILITY",
    "SS_WIND_AVAILABILITY",
    "CLEAREDSUPPLY",
    "INITIALSUPPLY",
    # interconnectors
    "METEREDMWFLOW",
    "MWFLOW",
    "MWLOSSES",
    "MARGINALVALUE",
    "VIOLATIONDEGREE",
    "EXPORTLIMIT",
    "IMPORTLIMIT",
    "MARGINALLOSS",
    "FCASEXPORTLIMIT",
    "FCASIMPORTLIMIT",
    # units and rooftop
    "SCADAVALUE",
    "POWER",
    "QI",
    # registration
    "REGISTEREDCAPACITY",
    "MAXCAPACITY",
    "TRANSMISSIONLOSSFACTOR",
    "DISTRIBUTIONLOSSFACTOR",
}

COLUMN_KINDS: dict[str, Kind] = {
    **{name: Kind.DATETIME for name in _DATETIME},
    **{name: Kind.INT for name in _INT},
    **{name: Kind.STRING for name in _STRING},
    **{name: Kind.FLOAT for name in _FLOAT},
}
"""Strict column types by AEMO column name."""

KNOWN_TABLES: dict[tuple[str, str], frozenset[int]] = {
    ("DISPATCH", "CASE_SOLUTION"): frozenset({2}),
    ("DISPATCH", "LOCAL_PRICE"): frozenset({1}),
    ("DISPATCH", "PRICE"): frozenset({4, 5}),
    ("DISPATCH", "REGIONSUM"): frozenset({4, 9}),
    ("DISPATCH", "INTERCONNECTORRES"): frozenset({3}),
    ("DISPATCH", "CONSTRAINT"): frozenset({5}),
    ("DISPATCH", "INTERCONNECTION"): frozenset({1}),
    ("DISPATCH", "UNIT_SCADA"): frozenset({1}),
    ("TRADING", "PRICE"): frozenset({3}),
    ("TRADING", "INTERCONNECTORRES"): frozenset({2}),
    ("ROOFTOP", "ACTUAL"): frozenset({2}),
    ("P5MIN", "REGIONSOLUTION"): frozenset({5}),
    ("PREDISPATCH", "REGION_PRICES"): frozenset({1}),
    ("PARTICIPANT_REGISTRATION", "DUDETAILSUMMARY"): frozenset({4}),
    ("PARTICIPANT_REGISTRATION", "DUDETAIL"): frozenset({3}),
    ("PARTICIPANT_REGISTRATION", "STATION"): frozenset({1}),
}
"""Tables (and versions) nemstream has been checked against on real files. Any other table or
version is still read (columns by name), with a warning so an operator can check it."""

INTERVAL_COLUMNS = (
    "SETTLEMENTDATE",
    "INTERVAL_DATETIME",
    "DATETIME",
    "RUN_DATETIME",
    "TRADINGDATE",
    "EFFECTIVEDATE",
    "START_DATE",
    "LASTCHANGED",
)
"""Columns that say which interval (or date) a row is about, most specific first."""


def column_kind(name: str) -> Kind | None:
    """Return the strict type of an AEMO column, or None when it must be inferred from values."""
    return COLUMN_KINDS.get(name)
