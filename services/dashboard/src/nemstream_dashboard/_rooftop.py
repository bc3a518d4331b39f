"""Rooftop: rooftop PV by region, and the sub-regions (QLDC, QLDN, QLDS, TASN, TASS) on a chart
of their own: they are parts of QLD1 and TAS1, never added to them."""

from __future__ import annotations

from typing import Any

import panel as pn
import polars as pl

from nemstream_dashboard._charts import Lines
from nemstream_dashboard._view import View
from nemstream_market import REGIONS, ROOFTOP_SUBREGIONS


class Rooftop(View):
    """The Rooftop tab."""

    title = "Rooftop"
    tables = ("rooftop",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.regions = Lines("Rooftop PV by region (half-hour averages)", "MW", REGIONS)
        self.regions_card = self.card("Rooftop PV by region", pn.pane.Bokeh(self.regions.figure))
        self.parts = Lines(
            "Rooftop PV by sub-region (parts of QLD1 and TAS1)", "MW", list(ROOFTOP_SUBREGIONS)
        )
        self.parts_card = self.card("Rooftop PV by sub-region", pn.pane.Bokeh(self.parts.figure))
        self.panel[:] = [self.regions_card.panel, self.parts_card.panel]

    async def load(self) -> dict[str, Any]:
        """The range's rooftop PV by region and sub-region."""
        start, end = self.window()
        frame = await self.query(lambda: self.context.query.rooftop_by_region(start, end))
        return {"where": f"{start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M} NEM time", "frame": frame}

    def draw(self, data: dict[str, Any]) -> None:
        """Redraw both charts."""
        frame, where = data["frame"], data["where"]
        regions = frame.filter(~pl.col("is_subregion")) if not frame.is_empty() else frame
        parts = frame.filter(pl.col("is_subregion")) if not frame.is_empty() else frame
        if self.controls.region != "NEM" and not frame.is_empty():
            regions = regions.filter(pl.col("regionid") == self.controls.region)
            parts = parts.filter(pl.col("parent_region") == self.controls.region)
        daily = not frame.is_empty() and frame["minutes"].max() == 1440
        means = "daily means" if daily else "half-hour averages"
        self.regions.figure.title.text = f"Rooftop PV by region ({means})"
        self.parts.figure.title.text = f"Rooftop PV by sub-region, parts of QLD1 and TAS1 ({means})"
        if self.regions_card.show(regions, f"No rooftop PV for {where}."):
            self.regions.update(regions, "interval", "regionid", "mw")
        if self.parts_card.show(parts, f"No rooftop PV sub-regions for {where}."):
            self.parts.update(parts, "interval", "regionid", "mw")
