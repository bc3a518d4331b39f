"""Price forecasts on the dashboard (docs/forecasts.md).

* `ForecastBand`: on the Today price chart, behind the actual prices (drawn over it), a band
  per region spanning the lowest to the highest forecast any run made of each interval (P5MIN
  for its 5-minute intervals, pre-dispatch for the half hours beyond P5MIN's hour) and a dashed
  line of the newest run's forecast, reaching `AHEAD` past the newest price.
* `Forecasts`: the accuracy tab: mean absolute error by lead time per region over the page's
  range, for P5MIN (against the 5-minute dispatch price) and pre-dispatch (against the half
  hour's mean price), and a table per region with bias and $300 spike hit and false-alarm
  rates. The charts' CSVs hold every measure of `nemstream_query.forecast_accuracy`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import panel as pn
import polars as pl
from bokeh.models import ColumnDataSource

from nemstream_dashboard._charts import Lines, colour_of
from nemstream_dashboard._view import View, gather
from nemstream_market import REGIONS
from nemstream_query import Query

AHEAD = timedelta(hours=6)
"""How far past the newest price the Today chart shows forecasts."""

BAND_ALPHA = 0.18


class ForecastBand:
    """The forecast layer of a `Lines` chart of prices by region (drawn under its lines)."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.title = str(lines.figure.title.text)
        self.sources: dict[str, ColumnDataSource] = {}
        self.renderers: dict[str, list[Any]] = {}
        for index, region in enumerate(REGIONS):
            colour = colour_of(region, index)
            source = ColumnDataSource({"x": [], "low": [], "high": [], "rrp": []})
            band = lines.figure.varea(
                "x",
                "low",
                "high",
                source=source,
                fill_color=colour,
                fill_alpha=BAND_ALPHA,
                level="underlay",
                name=f"{region} forecast range",
            )
            newest = lines.figure.line(
                "x",
                "rrp",
                source=source,
                color=colour,
                line_dash="dashed",
                line_width=1.5,
                line_alpha=0.8,
                level="underlay",
                name=f"{region} forecast",
            )
            self.sources[region] = source
            self.renderers[region] = [band, newest]

    @staticmethod
    def load(query: Query, start: datetime, latest: datetime) -> pl.DataFrame:
        """The band over (start, latest + `AHEAD`]: every run stored that forecast it."""
        return query.forecast_band(start, latest + AHEAD)

    def draw(self, band: pl.DataFrame, region: str) -> int:
        """Show each region's band (only `region`'s unless it is NEM); returns the rows shown."""
        shown = 0
        for name, source in self.sources.items():
            rows = band.filter(pl.col("region") == name) if not band.is_empty() else band
            visible = not rows.is_empty() and region in ("NEM", name)
            for renderer in self.renderers[name]:
                renderer.visible = visible
            if not visible:
                source.data = {"x": [], "low": [], "high": [], "rrp": []}
                continue
            rows = rows.sort("interval")
            source.data = {c: rows[c].to_list() for c in ("low", "high", "rrp")} | {
                "x": rows["interval"].to_list()
            }
            shown += rows.height
        self.lines.figure.title.text = self.title + (
            "; forecasts behind: shaded from the lowest to the highest run, dashed the newest"
            if shown
            else ""
        )
        return shown


def _summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Per source and region, over every lead: pairs, MAE, bias, $300 hit and false-alarm
    rates (pooled: totals over the leads, not means of the leads' rates)."""
    if frame.is_empty():
        return frame
    count = pl.col("count")
    spikes, hits = pl.col("spikes_300").sum(), pl.col("hits_300").sum()
    false = pl.col("false_alarms_300").sum()
    return (
        frame.group_by("source", "region")
        .agg(
            count.sum().alias("pairs"),
            ((pl.col("mae") * count).sum() / count.sum()).round(2).alias("MAE $/MWh"),
            ((pl.col("bias") * count).sum() / count.sum()).round(2).alias("bias $/MWh"),
            spikes.alias("actual >= $300"),
            pl.when(spikes > 0).then(hits / spikes).round(3).alias("hit rate $300"),
            false.alias("false alarms $300"),
        )
        .sort("source", "region")
    )


class Forecasts(View):
    """The Forecasts tab: how good the forecasts were over the page's range."""

    title = "Forecasts"
    tables = ("p5min", "predispatch", "prices5", "prices30")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.p5min = Lines(
            "P5MIN: mean absolute error by lead time (minutes)", "$/MWh", REGIONS, time=False
        )
        self.p5min.figure.xaxis.axis_label = "lead, minutes (interval - run)"
        self.p5min_card = self.card(
            "Forecast accuracy, P5MIN (against the 5-minute price)",
            pn.pane.Bokeh(self.p5min.figure),
        )
        self.predispatch = Lines(
            "Pre-dispatch: mean absolute error by lead time (hours)", "$/MWh", REGIONS, time=False
        )
        self.predispatch.figure.xaxis.axis_label = "lead, hours (half hour - run)"
        self.predispatch_card = self.card(
            "Forecast accuracy, pre-dispatch (against the half-hour mean price)",
            pn.pane.Bokeh(self.predispatch.figure),
        )
        self.table = pn.widgets.Tabulator(
            pl.DataFrame().to_pandas(),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            layout="fit_data_fill",
        )
        self.summary_card = self.card("Forecast accuracy by region, all leads", self.table)
        self.panel[:] = [
            self.p5min_card.panel,
            self.predispatch_card.panel,
            self.summary_card.panel,
        ]

    async def load(self) -> dict[str, Any]:
        """Accuracy of both sources over the page's range and region."""
        start, end = self.window()
        query, regions = self.context.query, self.controls.regions
        p5min, predispatch = await gather(
            lambda: query.forecast_accuracy(start, end, source="p5min", regions=regions),
            lambda: query.forecast_accuracy(start, end, source="predispatch", regions=regions),
        )
        where = f"{start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M} NEM time"
        return {"where": where, "p5min": p5min, "predispatch": predispatch}

    def draw(self, data: dict[str, Any]) -> None:
        """Redraw both charts and the table."""
        where = data["where"]
        p5min, predispatch = data["p5min"], data["predispatch"]
        none = "No {} forecasts with actual prices for " + where + "."
        if self.p5min_card.show(p5min, none.format("P5MIN")):
            self.p5min.update(p5min, "lead_minutes", "region", "mae")
        if self.predispatch_card.show(predispatch, none.format("pre-dispatch")):
            hours = predispatch.with_columns((pl.col("lead_minutes") / 60).alias("lead_hours"))
            self.predispatch.update(hours, "lead_hours", "region", "mae")
        both = pl.concat([p5min, predispatch])
        summary = _summary(both)
        if self.summary_card.show(summary, none.format("any")):
            self.table.value = summary.to_pandas()
