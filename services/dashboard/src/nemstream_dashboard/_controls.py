"""What a page shows, in one place per session and in its URL: the tab, the region, the range,
the station. A link reproduces the view; a changed widget changes the URL."""

from __future__ import annotations

from datetime import datetime, timedelta

import param

from nemstream_market import NEM_TZ, REGIONS

TABS = ("today", "generation", "prices", "stations", "rooftop", "forecasts")
SPANS = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "1y": timedelta(days=365),
    "all": None,
    "custom": None,
}
"""The ranges a page offers, each ending at the newest stored interval (``all``: everything)."""


class Controls(param.Parameterized):
    """The state of one page (synced with its URL by the app)."""

    tab: param.Selector[str] = param.Selector(default="today", objects=list(TABS))
    region: param.Selector[str] = param.Selector(default="NEM", objects=["NEM", *REGIONS])
    span: param.Selector[str] = param.Selector(default="24h", objects=list(SPANS))
    start: param.String[str] = param.String(
        default="", doc="custom range start, ISO date or datetime (NEM time)"
    )
    end: param.String[str] = param.String(
        default="", doc="custom range end, ISO date or datetime (NEM time)"
    )
    unit: param.String[str] = param.String(
        default="", doc="the station or DUID the Stations tab shows"
    )
    by: param.Selector[str] = param.Selector(default="station", objects=["station", "duid"])

    @property
    def regions(self) -> list[str]:
        """The query layer's region filter (all regions for NEM)."""
        return [] if self.region == "NEM" else [str(self.region)]

    def window(
        self, latest: datetime | None, earliest: datetime | None
    ) -> tuple[datetime, datetime]:
        """(start, end] of the chosen range: the span ending at the newest stored interval, the
        whole store for ``all``, the given dates for ``custom`` (falling back to 24 h)."""
        end = latest or datetime.now(NEM_TZ).replace(second=0, microsecond=0, tzinfo=None)
        if self.span == "custom":
            try:
                start = datetime.fromisoformat(str(self.start))
                stop = datetime.fromisoformat(str(self.end)) if self.end else end
                if start < stop:
                    return start, stop
            except ValueError:
                pass
            return end - timedelta(hours=24), end
        length = SPANS[str(self.span)]
        if length is None:
            return (earliest or end - timedelta(days=1)) - timedelta(minutes=5), end
        return end - length, end
