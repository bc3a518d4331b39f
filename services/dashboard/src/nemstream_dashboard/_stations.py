"""Stations: one station (or one DUID) picked by fuzzy search: its output and its region's price
on one dual-axis chart, capacity factor, revenue, the average price it received beside the
region's time-weighted average, and its time-of-day output profile."""

from __future__ import annotations

from typing import Any

import panel as pn
import polars as pl

from nemstream_dashboard._charts import DualAxis, Lines
from nemstream_dashboard._view import STYLE, View


def _dollars(value: object) -> str:
    if not isinstance(value, float | int):
        return "–"
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


class Stations(View):
    """The Stations tab."""

    title = "Stations"
    tables = ("scada5", "scada30", "prices5", "prices30")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.by = pn.widgets.RadioButtonGroup(
            name="pick by", options=["station", "duid"], value=str(self.controls.by), width=180
        )
        self.search = pn.widgets.AutocompleteInput(
            name="station or DUID",
            placeholder="type a few letters: bayswater, hornsdale, HPR1 …",
            case_sensitive=False,
            search_strategy="includes",
            min_characters=1,
            restrict=False,
            value=str(self.controls.unit),
            width=360,
        )
        self.search.param.watch(self._picked, "value")
        self.controls.param.watch(self._from_url, "unit")
        self.by.param.watch(self._by, "value")
        self.summary = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[STYLE])
        self.summary_card = self.card("Capacity factor, revenue and price received", self.summary)
        self.dual = DualAxis("Output and region price")
        self.dual_card = self.card(
            "Output (MW) and region price ($/MWh)", pn.pane.Bokeh(self.dual.figure)
        )
        self.profile = Lines("Output by time of day", "MW", ["output"], time=False)
        self.profile.figure.xaxis.axis_label = "time of day (interval ending, NEM time), hours"
        self.profile_card = self.card(
            "Time-of-day output profile", pn.pane.Bokeh(self.profile.figure)
        )
        self.panel[:] = [
            pn.Row(self.by, self.search),
            self.summary_card.panel,
            self.dual_card.panel,
            self.profile_card.panel,
        ]

    def _picked(self, event: Any) -> None:
        self.controls.unit = str(event.new or "")

    def _from_url(self, event: Any) -> None:
        if self.search.value != event.new:
            self.search.value = str(event.new or "")

    def _by(self, event: Any) -> None:
        self.controls.by = str(event.new)

    async def load(self) -> dict[str, Any]:
        """The choices, and the picked unit's answers over the range."""
        query = self.context.query
        units = await self.query(lambda: query.units("", limit=5000))
        key = "station_name" if self.controls.by == "station" else "duid"
        unit = str(self.controls.unit)
        data: dict[str, Any] = {"units": units, "key": key, "unit": unit, "detail": None}
        if unit:
            start, end = self.window()
            options: dict[str, str] = {"station": unit} if key == "station_name" else {"duid": unit}
            data["detail"] = await self.query(lambda: query.station_detail(start, end, **options))
            data["where"] = f"{unit}, {start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M} NEM time"
        return data

    def draw(self, data: dict[str, Any]) -> None:
        """Redraw the picker's choices and the unit's cards."""
        units, key = data["units"], data["key"]
        if not units.is_empty():
            self.search.options = sorted({str(v) for v in units[key].drop_nulls().to_list()})
        detail = data["detail"]
        if detail is None:
            for card in self.cards:
                card.show(pl.DataFrame(), "Pick a station or a DUID above.")
            return
        where = data["where"]
        series: pl.DataFrame = detail["series"]
        if self.dual_card.show(series, f"No SCADA for {where}."):
            self.dual.update(series)
        summary = pl.DataFrame(
            {
                "capacity_factor": [detail.get("capacity_factor")],
                "revenue_aud": [detail.get("revenue_aud")],
                "price_received": [detail.get("price_received")],
                "region_twa": [detail.get("region_twa")],
            }
        )
        shown = summary if not series.is_empty() else pl.DataFrame()
        if self.summary_card.show(shown, f"No SCADA for {where}."):
            factor = detail.get("capacity_factor")
            factor_text = f"{float(factor) * 100:.1f} %" if isinstance(factor, float) else "–"
            self.summary.object = (
                '<div class="unit-summary">'
                f"<div><b>capacity factor</b> {factor_text}</div>"
                f"<div><b>revenue</b> {_dollars(detail.get('revenue_aud'))}</div>"
                f"<div><b>price received</b> {_dollars(detail.get('price_received'))}/MWh"
                f" vs region time-weighted {_dollars(detail.get('region_twa'))}/MWh</div></div>"
            )
        profile: pl.DataFrame = detail["profile"]
        if self.profile_card.show(profile, f"No SCADA for {where}."):
            hours = profile.with_columns(
                (
                    pl.col("time_of_day").str.slice(0, 2).cast(pl.Float64)
                    + pl.col("time_of_day").str.slice(3, 2).cast(pl.Float64) / 60
                ).alias("hour"),
                pl.lit("output").alias("series"),
            )
            self.profile.update(hours, "hour", "series", "mw")
