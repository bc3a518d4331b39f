"""Every subject on the bus: its message model, who publishes it and who consumes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from pydantic import BaseModel, ValidationError

from nemstream_contracts._emissions import EmissionsRegion
from nemstream_contracts._forecasts import P5minPrice, PredispatchPrice
from nemstream_contracts._models import (
    DispatchInterconnector,
    DispatchPrice,
    DispatchRegionSum,
    ForecastAlert,
    Message,
    NewDuid,
    PriceAlert,
    RooftopActual,
    ThirtyMinute,
    TradingPrice,
    UnitScada,
)
from nemstream_market import NEM_TZ


@dataclass(frozen=True, slots=True)
class Mean:
    """What a 30-minute subject averages: a 5-minute subject's measure per key, over the six
    intervals in (T - 30 min, T] (the pricing run only, where a row has an intervention)."""

    source: str
    key: str
    measure: str
    pricing_run_only: bool = False


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject's contract: name, message model, producer, consumers, what it carries; for a
    fetcher's subject the feed that publishes it, for a 30-minute subject what it averages, for
    another computed subject the subject it is computed from (``derived_from``)."""

    name: str
    model: type[Message]
    producer: str
    consumers: tuple[str, ...]
    description: str
    feed: str | None = None
    mean: Mean | None = None
    derived_from: str | None = None

    @property
    def schema_file(self) -> str:
        """File name of its JSON Schema in proto_schemas/."""
        return f"{self.name}.schema.json"

    @property
    def table(self) -> str:
        """The subject's table part, e.g. ``scada.unit`` of ``nem.scada.unit.30min.v1``."""
        parts = self.name.split(".")[1:-1]
        return ".".join(p for p in parts if p != "30min")

    @property
    def publisher(self) -> str:
        """Who publishes it, as the catalog says it (``fetcher (feed dispatch)``)."""
        return f"{self.producer} (feed {self.feed})" if self.feed else self.producer

    @property
    def row_model(self) -> type[BaseModel] | None:
        """The model of one of its rows, for subjects that carry rows."""
        return row_model(self.model)


def row_model(model: type[Message]) -> type[BaseModel] | None:
    """The model of one row of a message model (``rows: list[Row]``), or None."""
    rows = model.model_fields.get("rows")
    if rows is None:
        return None
    (item,) = get_args(rows.annotation)
    assert isinstance(item, type) and issubclass(item, BaseModel)
    return item


DISPATCH_PRICE = "nem.dispatch.price.v1"
DISPATCH_REGIONSUM = "nem.dispatch.regionsum.v1"
DISPATCH_INTERCONNECTOR = "nem.dispatch.interconnector.v1"
TRADING_PRICE = "nem.trading.price.v1"
SCADA_UNIT = "nem.scada.unit.v1"
ROOFTOP_ACTUAL = "nem.rooftop.actual.v1"
SCADA_UNIT_30MIN = "nem.scada.unit.30min.v1"
DISPATCH_PRICE_30MIN = "nem.dispatch.price.30min.v1"
DISPATCH_INTERCONNECTOR_30MIN = "nem.dispatch.interconnector.30min.v1"
ALERTS_PRICE = "nem.alerts.price.v1"
ALERTS_FORECAST = "nem.alerts.forecast.v1"
REGISTRY_DUID = "nem.registry.duid.v1"
P5MIN_PRICE = "nem.p5min.price.v1"
PREDISPATCH_PRICE = "nem.predispatch.price.v1"
EMISSIONS_REGION = "nem.emissions.region.v1"

SUBJECTS: dict[str, Subject] = {
    s.name: s
    for s in (
        Subject(
            DISPATCH_PRICE,
            DispatchPrice,
            "fetcher",
            ("writer", "aggregator", "alerts", "api"),
            "5-minute regional prices (RRP, both dispatch runs keyed by INTERVENTION)",
            feed="dispatch",
        ),
        Subject(
            DISPATCH_REGIONSUM,
            DispatchRegionSum,
            "fetcher",
            ("writer", "api"),
            "5-minute regional demand, dispatchable generation, net interchange, UIGF",
            feed="dispatch",
        ),
        Subject(
            DISPATCH_INTERCONNECTOR,
            DispatchInterconnector,
            "fetcher",
            ("writer", "aggregator", "api"),
            "5-minute interconnector metered and target MW flow, losses, limits",
            feed="dispatch",
        ),
        Subject(
            TRADING_PRICE,
            TradingPrice,
            "fetcher",
            ("writer", "api"),
            "trading-interval regional prices (5-minute from 2021-10-01, 30-minute before)",
            feed="trading",
        ),
        Subject(
            SCADA_UNIT,
            UnitScada,
            "fetcher",
            ("writer", "aggregator", "mailer", "api"),
            "5-minute SCADA MW per DUID (negative values are real)",
            feed="scada",
        ),
        Subject(
            ROOFTOP_ACTUAL,
            RooftopActual,
            "fetcher",
            ("writer", "api"),
            "half-hourly rooftop PV per region and sub-region, MEASUREMENT or SATELLITE",
            feed="rooftop",
        ),
        Subject(
            P5MIN_PRICE,
            P5minPrice,
            "fetcher",
            ("writer", "alerts", "api"),
            "per 5-minute pre-dispatch run: every region's forecast RRP and demand, next hour",
            feed="p5min",
        ),
        Subject(
            PREDISPATCH_PRICE,
            PredispatchPrice,
            "fetcher",
            ("writer", "alerts", "api"),
            "per 30-minute pre-dispatch run: every region's forecast RRP to the end of the next "
            "trading day",
            feed="predispatch",
        ),
        Subject(
            SCADA_UNIT_30MIN,
            ThirtyMinute,
            "aggregator",
            ("writer", "api"),
            "30-minute mean SCADA MW per DUID, with the count of 5-minute values used",
            mean=Mean(SCADA_UNIT, "duid", "scadavalue"),
        ),
        Subject(
            DISPATCH_PRICE_30MIN,
            ThirtyMinute,
            "aggregator",
            ("writer", "api"),
            "30-minute mean RRP per region (pricing run)",
            mean=Mean(DISPATCH_PRICE, "regionid", "rrp", pricing_run_only=True),
        ),
        Subject(
            DISPATCH_INTERCONNECTOR_30MIN,
            ThirtyMinute,
            "aggregator",
            ("writer", "api"),
            "30-minute mean metered flow per interconnector",
            mean=Mean(
                DISPATCH_INTERCONNECTOR, "interconnectorid", "meteredmwflow", pricing_run_only=True
            ),
        ),
        Subject(
            EMISSIONS_REGION,
            EmissionsRegion,
            "aggregator",
            ("writer", "api"),
            "per 5-minute SCADA interval: each region's emissions (t CO2-e), the generation of "
            "units with an emission factor, and the units without one",
            derived_from=SCADA_UNIT,
        ),
        Subject(
            ALERTS_PRICE,
            PriceAlert,
            "alerts",
            ("api",),
            "a region's price state changed: high, extreme, recovered",
        ),
        Subject(
            ALERTS_FORECAST,
            ForecastAlert,
            "alerts",
            ("api",),
            "a region's early warning changed: high, extreme, eased (texted); arrived, passed",
        ),
        Subject(
            REGISTRY_DUID,
            NewDuid,
            "mailer",
            ("api",),
            "a DUID seen in SCADA for the first time",
        ),
    )
}
"""Every subject, by name."""


class UnknownSubject(KeyError):
    """A subject nemstream has no contract for."""


def feed_subjects(feed: str) -> list[Subject]:
    """The subjects a fetcher feed publishes, in catalog order (the first is its main one)."""
    return [s for s in SUBJECTS.values() if s.feed == feed]


def half_hourly(feed: str) -> bool:
    """Whether a fetcher feed publishes every half hour (rooftop PV, pre-dispatch: its main
    subject's grid is 30 minutes), so its quiet spells are judged on the longer thresholds."""
    subjects = feed_subjects(feed)
    return bool(subjects) and subjects[0].model.grid_minutes >= 30


def subject(name: str) -> Subject:
    """The contract of a subject."""
    try:
        return SUBJECTS[name]
    except KeyError:
        raise UnknownSubject(name) from None


def decode(name: str, data: bytes) -> Message:
    """Validate a message body against its subject's model (raises pydantic's ValidationError
    or UnknownSubject: such a message can never become valid)."""
    return subject(name).model.model_validate_json(data)


def message_id(feed: str, source_file: str, table: str, interval: datetime) -> str:
    """The ``Nats-Msg-Id`` of an event: feed, file, table and interval (NEM time), so a
    re-read of the same file gives the same id and the stream drops the copy."""
    stamp = interval.astimezone(NEM_TZ) if interval.tzinfo else interval
    return f"{feed}:{source_file}:{table}:{stamp:%Y%m%d%H%M}"


__all__ = [
    "SUBJECTS",
    "Mean",
    "Subject",
    "UnknownSubject",
    "ValidationError",
    "decode",
    "feed_subjects",
    "half_hourly",
    "message_id",
    "row_model",
    "subject",
]
