"""What each fetcher feed publishes, as data: per feed, the MMS tables it reads (through which
view), the subject each goes out on, and how an interval's rows are split into messages.

This is the one place a feed's tables are named. Everything else follows from it and from the
contracts: the message model (the subject's), the row fields (the contract's row model), the
message's own fields (taken from the view's columns of the same name), message ids, which feed a
file belongs to when replayed. Adding a table to a feed is a line here, plus its contract and
its view; adding a feed is an entry here, its NEMWeb folder (`nemstream_nemweb.FEEDS`) and its
subjects.
"""

from __future__ import annotations

from dataclasses import dataclass

from nemstream_contracts import (
    DISPATCH_INTERCONNECTOR,
    DISPATCH_PRICE,
    DISPATCH_REGIONSUM,
    P5MIN_PRICE,
    PREDISPATCH_PRICE,
    ROOFTOP_ACTUAL,
    SCADA_UNIT,
    SUBJECTS,
    TRADING_PRICE,
    Message,
)
from nemstream_mms import MmsReport, views
from nemstream_mms.views import View


@dataclass(frozen=True, slots=True)
class Publication:
    """One MMS table a feed publishes: its name (``DISPATCH,PRICE``, also in message ids), the
    view that reads it, the subject it goes out on; `split_by` names message fields that divide
    one interval's rows into several messages (rooftop's estimate ``type``: one message per
    type, its value in the message id); rows null in a `drop_null` column are not published."""

    table: str
    view: View
    subject: str
    split_by: tuple[str, ...] = ()
    drop_null: tuple[str, ...] = ()

    @property
    def model(self) -> type[Message]:
        """The message model of the subject."""
        return SUBJECTS[self.subject].model

    @property
    def time(self) -> str:
        """The view's interval column (settlementdate, interval_datetime; a forecast's run
        time, run_datetime: one message per run)."""
        return self.view.key[0]


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A fetcher feed's publications, in publishing order."""

    name: str
    publications: tuple[Publication, ...]

    @property
    def tables(self) -> str:
        """The feed's MMS tables, for messages: ``DISPATCH,PRICE / DISPATCH,REGIONSUM``."""
        return " / ".join(p.table for p in self.publications)

    def present(self, report: MmsReport) -> list[Publication]:
        """The publications whose table a report carries."""
        return [p for p in self.publications if views.has_view(report, p.view)]


FEED_SPECS: dict[str, FeedSpec] = {
    spec.name: spec
    for spec in (
        FeedSpec(
            "dispatch",
            (
                Publication("DISPATCH,PRICE", views.DISPATCH_PRICE, DISPATCH_PRICE),
                Publication("DISPATCH,REGIONSUM", views.DISPATCH_REGIONSUM, DISPATCH_REGIONSUM),
                Publication(
                    "DISPATCH,INTERCONNECTORRES",
                    views.DISPATCH_INTERCONNECTOR,
                    DISPATCH_INTERCONNECTOR,
                ),
            ),
        ),
        FeedSpec("trading", (Publication("TRADING,PRICE", views.TRADING_PRICE, TRADING_PRICE),)),
        FeedSpec(
            "scada",
            (
                Publication(
                    "DISPATCH,UNIT_SCADA", views.UNIT_SCADA, SCADA_UNIT, drop_null=("scadavalue",)
                ),
            ),
        ),
        FeedSpec(
            "rooftop",
            (
                Publication(
                    "ROOFTOP,ACTUAL", views.ROOFTOP_ACTUAL, ROOFTOP_ACTUAL, split_by=("type",)
                ),
            ),
        ),
        FeedSpec(
            "p5min",
            (Publication("P5MIN,REGIONSOLUTION", views.P5MIN_REGIONSOLUTION, P5MIN_PRICE),),
        ),
        FeedSpec(
            "predispatch",
            (Publication("PREDISPATCH,REGION_PRICES", views.PREDISPATCH_PRICE, PREDISPATCH_PRICE),),
        ),
    )
}
"""Every fetcher feed's publications, by the feed's fixed name."""


def feed_spec(feed: str) -> FeedSpec:
    """The publications of a feed, or a ValueError naming the feeds there are."""
    try:
        return FEED_SPECS[feed]
    except KeyError:
        raise ValueError(f"unknown feed {feed!r}: the feeds are {', '.join(FEED_SPECS)}") from None


def feed_of_report(report: MmsReport) -> str | None:
    """Which fetcher feed a report's tables belong to (for replaying arbitrary files)."""
    return next((spec.name for spec in FEED_SPECS.values() if spec.present(report)), None)
