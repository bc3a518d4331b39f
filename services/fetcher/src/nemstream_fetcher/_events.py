"""Reports to events: one message per interval per table, on the feed's subjects.

The same code serves live fetching, backfill and replay, so the same file always gives the
same messages with the same ``Nats-Msg-Id`` (feed, file, table, interval). What a feed publishes
is data (`FEED_SPECS`); this module only applies it. A table that cannot be read (a bad value)
or an interval whose rows break their contract is *rejected* on its own, with its reason: the
file's other tables and intervals still make events (`read_events`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from pydantic import ValidationError

from nemstream_contracts import Message, message_id, row_model
from nemstream_fetcher._feeds import Publication, feed_spec
from nemstream_market import nem_time
from nemstream_mms import MmsError, MmsReport, TableNotFoundError, views


class EventError(MmsError):
    """A report whose rows do not make valid events (a value out of its contract)."""


@dataclass(frozen=True, slots=True)
class Event:
    """A message ready to publish: subject, id, body, and the interval it is about."""

    subject: str
    msg_id: str
    message: Message
    interval: datetime  # naive NEM time, for ordering


@dataclass(frozen=True, slots=True)
class Rejected:
    """A table (or one interval of it) that makes no events, and why."""

    table: str
    interval: datetime | None  # None: the whole table
    reason: str
    error: MmsError | None = field(default=None, compare=False)  # a table that could not be read

    def describe(self) -> str:
        """One line for a log, a quarantine reason file or a dead letter."""
        where = f" interval {self.interval:%Y-%m-%d %H:%M}" if self.interval else ""
        return f"{self.table}{where}: {self.reason}"


@dataclass(slots=True)
class ReportEvents:
    """Every event a report gives, in interval order, and what it had to reject."""

    events: list[Event] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    repeated: int = 0  # exact repeats of a row (a D row written twice), dropped

    def reasons(self) -> str:
        """Every rejection, one per line."""
        return "\n".join(r.describe() for r in self.rejected)

    def require_events(self, name: str) -> None:
        """Raise (the first table's read error, else `EventError`) when nothing at all could be
        published: a file whose every table was rejected is a bad file, not a partial one."""
        if not self.events and self.rejected:
            first = self.rejected[0]
            raise first.error or EventError(name, self.reasons())


def source_file(member: str) -> str:
    """The NEMWeb file a report came from: the innermost zip (an ARCHIVE day zip holds the
    very 5-minute zips published live, so ids match live publication)."""
    parts = member.split("!")
    zips = [p for p in parts if p.lower().endswith(".zip")]
    return zips[-1] if zips else parts[-1]


def _contract_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"row breaks its contract: {first['loc']}: {first['msg']}"


def _messages(
    publication: Publication, feed: str, source: str, frame: pl.DataFrame
) -> ReportEvents:
    """The events of one table's typed rows: one per interval (and split value)."""
    out = ReportEvents()
    row_type = row_model(publication.model)
    assert row_type is not None, f"{publication.subject} carries no rows"
    fields = [f for f in row_type.model_fields if f in frame.columns]
    own = [
        f
        for f in publication.model.model_fields
        if f not in Message.model_fields and f != "rows" and f in frame.columns
    ]
    if publication.drop_null:
        frame = frame.drop_nulls(list(publication.drop_null))
    keys = [publication.time, *publication.split_by]
    for group_key, group in frame.sort(keys).group_by(keys, maintain_order=True):
        interval = group_key[0]
        assert isinstance(interval, datetime)
        label = ",".join([publication.table, *(str(v) for v in group_key[1:])])
        values: dict[str, Any] = {name: group.get_column(name)[0] for name in own}
        rows = group.select(fields).unique(maintain_order=True)
        out.repeated += group.height - rows.height
        records = rows.to_dicts()
        if any(isinstance(t, pl.Datetime) for t in rows.dtypes):  # forecast intervals
            records = [
                {k: nem_time(v) if isinstance(v, datetime) else v for k, v in r.items()}
                for r in records
            ]
        try:
            message = publication.model.model_validate(
                {
                    "feed": feed,
                    "source_file": source,
                    "interval": nem_time(interval),
                    "rows": records,
                    **values,
                }
            )
        except ValidationError as exc:
            out.rejected.append(Rejected(label, interval, _contract_error(exc)))
            continue
        out.events.append(
            Event(publication.subject, message_id(feed, source, label, interval), message, interval)
        )
    return out


def read_events(feed: str, report: MmsReport) -> ReportEvents:
    """Every event one report gives for a feed, in interval order, with the tables and
    intervals it rejected; `TableNotFoundError` when the report has none of the feed's tables."""
    spec = feed_spec(feed)
    present = spec.present(report)
    if not present:
        raise TableNotFoundError(report.name, f"no {spec.tables} table for feed {feed}")
    source = source_file(report.members[0] if report.members else report.name)
    out = ReportEvents()
    for publication in present:
        try:
            frame = views.build(report, publication.view)
        except MmsError as exc:
            out.rejected.append(Rejected(publication.table, None, str(exc), exc))
            continue
        table = _messages(publication, feed, source, frame)
        out.events += table.events
        out.rejected += table.rejected
        out.repeated += table.repeated
    out.events.sort(key=lambda e: e.interval)
    return out


def report_events(feed: str, report: MmsReport) -> list[Event]:
    """Every event one report gives for a feed, in interval order, all or nothing: raises
    EventError when any table or interval is rejected, MmsError when the report lacks the feed's
    tables (`read_events` keeps the good tables of a partly bad report)."""
    result = read_events(feed, report)
    if result.rejected:
        first = result.rejected[0]
        raise first.error or EventError(report.name, result.reasons())
    return result.events
