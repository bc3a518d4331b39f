"""Every subject on the bus: its message model, who publishes it and who consumes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from nemstream_contracts._models import (
    NEM_TZ,
    DispatchInterconnector,
    DispatchPrice,
    DispatchRegionSum,
    Message,
    NewDuid,
    PriceAlert,
    RooftopActual,
    ThirtyMinute,
    TradingPrice,
    UnitScada,
)


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject's contract: name, message model, producer, consumers, what it carries."""

    name: str
    model: type[Message]
    producer: str
    consumers: tuple[str, ...]
    description: str

    @property
    def schema_file(self) -> str:
        """File name of its JSON Schema in proto_schemas/."""
        return f"{self.name}.schema.json"


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
REGISTRY_DUID = "nem.registry.duid.v1"

SUBJECTS: dict[str, Subject] = {
    s.name: s
    for s in (
        Subject(
            DISPATCH_PRICE,
            DispatchPrice,
            "fetcher (feed dispatch)",
            ("writer", "aggregator", "price_alerts", "api"),
            "5-minute regional prices (RRP, both dispatch runs keyed by INTERVENTION)",
        ),
        Subject(
            DISPATCH_REGIONSUM,
            DispatchRegionSum,
            "fetcher (feed dispatch)",
            ("writer", "api"),
            "5-minute regional demand, dispatchable generation, net interchange, UIGF",
        ),
        Subject(
            DISPATCH_INTERCONNECTOR,
            DispatchInterconnector,
            "fetcher (feed dispatch)",
            ("writer", "aggregator", "api"),
            "5-minute interconnector metered and target MW flow, losses, limits",
        ),
        Subject(
            TRADING_PRICE,
            TradingPrice,
            "fetcher (feed trading)",
            ("writer", "api"),
            "trading-interval regional prices (5-minute from 2021-10-01, 30-minute before)",
        ),
        Subject(
            SCADA_UNIT,
            UnitScada,
            "fetcher (feed scada)",
            ("writer", "aggregator", "duid_mailer", "api"),
            "5-minute SCADA MW per DUID (negative values are real)",
        ),
        Subject(
            ROOFTOP_ACTUAL,
            RooftopActual,
            "fetcher (feed rooftop)",
            ("writer", "aggregator", "api"),
            "half-hourly rooftop PV per region and sub-region, MEASUREMENT or SATELLITE",
        ),
        Subject(
            SCADA_UNIT_30MIN,
            ThirtyMinute,
            "aggregator",
            ("writer", "api"),
            "30-minute mean SCADA MW per DUID, with the count of 5-minute values used",
        ),
        Subject(
            DISPATCH_PRICE_30MIN,
            ThirtyMinute,
            "aggregator",
            ("writer", "api"),
            "30-minute mean RRP per region (pricing run)",
        ),
        Subject(
            DISPATCH_INTERCONNECTOR_30MIN,
            ThirtyMinute,
            "aggregator",
            ("writer", "api"),
            "30-minute mean metered flow per interconnector",
        ),
        Subject(
            ALERTS_PRICE,
            PriceAlert,
            "price_alerts",
            ("api",),
            "a region's price state changed: high, extreme, recovered",
        ),
        Subject(
            REGISTRY_DUID,
            NewDuid,
            "duid_mailer",
            ("api",),
            "a DUID seen in SCADA for the first time",
        ),
    )
}
"""Every subject, by name."""


class UnknownSubject(KeyError):
    """A subject nemstream has no contract for."""


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
    "Subject",
    "UnknownSubject",
    "ValidationError",
    "decode",
    "message_id",
    "subject",
]
