"""Prices: (a) who earned what: a pivot over region → fuel → station → DUID of energy, revenue,
the volume-weighted price received, utilisation and capacity; (b) per region over the range:
the price series, its time-of-day profile, its duration curve, and its distribution with the
counts of negative prices and spikes (≥ 300, ≥ 1,000, ≥ 10,000 $/MWh)."""

from __future__ import annotations

from typing import Any

import panel as pn
import polars as pl

from nemstream_dashboard._charts import Bars, Lines, colour_of
from nemstream_dashboard._view import View, gather
from nemstream_market import REGIONS

PIVOT_COLUMNS = {
    "region": "region",
    "fuel": "fuel",
    "station_name": "station",
    "duid": "DUID",
    "gwh": "energy (GWh)",
    "revenue_maud": "revenue ($M)",
    "price_received": "price received ($/MWh)",
    "utilisation": "utilisation (%)",
    "capacity_mw": "capacity (MW)",
}


def _money(value: float | None) -> str:
    return "–" if value is None else f"{'-' if value < 0 else ''}${abs(value):,.0f}"


COUNT_HEADINGS = {
    "negative": "< $0",
    "at_least_300": "≥ $300",
    "at_least_1000": "≥ $1,000",
    "at_least_10000": "≥ $10,000",
}
"""The spike counts' column headings on the page (the CSV keeps the query's names)."""


class Prices(View):
    """The Prices tab."""

    title = "Prices"
    tables = ("prices5", "prices30", "scada5", "scada30")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.pivot = pn.widgets.Tabulator(
            pl.DataFrame().to_pandas(),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            height=420,
            pagination=None,
            groupby=["region", "fuel", "station"],
        )
        self.pivot_card = self.card(
            "Energy and revenue by region, fuel, station and unit", self.pivot
        )
        self.series = Lines("Price by region", "$/MWh", REGIONS)
        self.series_card = self.card("Price series", pn.pane.Bokeh(self.series.figure))
        self.profile = Lines("Mean price by time of day", "$/MWh", REGIONS, time=False)
        self.profile.figure.xaxis.axis_label = "time of day (interval ending, NEM time), hours"
        self.profile_card = self.card("Time-of-day profile", pn.pane.Bokeh(self.profile.figure))
        self.duration = Lines("Price duration curve", "$/MWh", REGIONS, time=False)
        self.duration.figure.xaxis.axis_label = "share of time at or above the price"
        self.duration_card = self.card("Price duration curve", pn.pane.Bokeh(self.duration.figure))
        self.histogram = Bars("Distribution of prices", "intervals", x_label="$/MWh")
        self.histogram_card = self.card("Price distribution", pn.pane.Bokeh(self.histogram.figure))
        self.counts = pn.widgets.Tabulator(
            pl.DataFrame().to_pandas(),
            show_index=False,
            disabled=True,
            sortable=False,
            sizing_mode="stretch_width",
            layout="fit_data_fill",
        )
        self.counts_card = self.card("Negative prices and spikes (intervals)", self.counts)
        self.panel[:] = [
            self.pivot_card.panel,
            self.series_card.panel,
            pn.Row(self.profile_card.panel, self.duration_card.panel, sizing_mode="stretch_width"),
            pn.Row(self.histogram_card.panel, self.counts_card.panel, sizing_mode="stretch_width"),
        ]

    async def load(self) -> dict[str, Any]:
        """The range's revenue by unit and price analytics."""
        start, end = self.window()
        query, regions = self.context.query, self.controls.regions
        units, series, analytics = await gather(
            lambda: query.revenue_by_unit(start, end, regions=regions),
            lambda: query.prices(start, end, regions=regions).frame,
            lambda: query.price_analytics(start, end, regions=regions),
        )
        return {
            "where": f"{self.controls.region}, {start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M} "
            "NEM time",
            "units": units,
            "series": series,
            "profile": analytics.profile,
            "duration": analytics.duration,
            "distribution": analytics.distribution,
            "counts": analytics.counts,
        }

    def draw(self, data: dict[str, Any]) -> None:
        """Redraw every card."""
        where, units = data["where"], data["units"]
        shown = (
            units.select(*[c for c in PIVOT_COLUMNS if c in units.columns])
            .with_columns((pl.col("utilisation") * 100).round(1))
            .rename({k: v for k, v in PIVOT_COLUMNS.items() if k in units.columns})
        )
        shown = shown.with_columns(
            [pl.col(c).round(3) for c, t in shown.schema.items() if t == pl.Float64]
        )
        if self.pivot_card.show(shown, f"No SCADA for {where}: no energy or revenue to show."):
            self.pivot.value = shown.to_pandas()
        series = data["series"]
        if self.series_card.show(series, f"No prices for {where}."):
            self.series.update(series, "interval", "region", "rrp")
        profile = data["profile"]
        if self.profile_card.show(profile, f"No prices for {where}."):
            hours = profile.with_columns(
                (
                    pl.col("time_of_day").str.slice(0, 2).cast(pl.Float64)
                    + pl.col("time_of_day").str.slice(3, 2).cast(pl.Float64) / 60
                ).alias("hour")
            )
            self.profile.update(hours, "hour", "region", "rrp")
        duration = data["duration"]
        if self.duration_card.show(duration, f"No prices for {where}."):
            self.duration.update(duration, "share_of_time", "region", "rrp")
        distribution = data["distribution"]
        if self.histogram_card.show(distribution, f"No prices for {where}."):
            bins = (
                distribution.group_by("low", "high")
                .agg(pl.col("count").sum())
                .sort("low")
                .to_dicts()
            )
            self.histogram.update(
                [f"{_money(b['low'])}–{_money(b['high'])}" for b in bins],
                [float(b["count"]) for b in bins],
                [colour_of("NEM")] * len(bins),
            )
        counts = data["counts"]
        if self.counts_card.show(counts, f"No prices for {where}."):
            self.counts.value = counts.rename(COUNT_HEADINGS, strict=False).to_pandas()
