"""Generation: for the region (or the NEM) over the range, at the resolution the query layer
chose (shown): the stack by fuel, capacity utilisation by fuel, curtailment of wind and solar
(UIGF − cleared, from the regional summary), and interconnector flows over time."""

from __future__ import annotations

from typing import Any

import panel as pn
import polars as pl

from nemstream_dashboard._charts import Bars, Lines, Stack, colour_of, with_interchange
from nemstream_dashboard._view import View, gather
from nemstream_market import interconnector_regions


class Generation(View):
    """The Generation tab."""

    title = "Generation"
    tables = ("scada5", "scada30", "rooftop", "regionsum5", "interconnector5", "interconnector30")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.resolution = pn.pane.Markdown("", margin=(0, 10), css_classes=["resolution"])
        self.stack = Stack("Generation by fuel (charging and exports below zero)")
        self.stack_card = self.card("Generation by fuel", pn.pane.Bokeh(self.stack.figure))
        self.utilisation = Bars("Capacity utilisation by fuel", "% of registered capacity")
        self.utilisation_card = self.card(
            "Capacity utilisation by fuel", pn.pane.Bokeh(self.utilisation.figure)
        )
        self.curtailed = Lines("Curtailment (UIGF − cleared)", "MW", ["solar", "wind"])
        self.curtailment_card = self.card(
            "Curtailment of wind and solar", pn.pane.Bokeh(self.curtailed.figure)
        )
        self.flow_lines = Lines("Interconnector flows", "MW", [])
        self.flows_pane = pn.pane.Bokeh(self.flow_lines.figure, sizing_mode="stretch_width")
        self.flows_card = self.card("Interconnector flows", self.flows_pane)
        self.panel[:] = [
            self.resolution,
            self.stack_card.panel,
            pn.Row(
                self.utilisation_card.panel,
                self.curtailment_card.panel,
                sizing_mode="stretch_width",
            ),
            self.flows_card.panel,
        ]

    async def load(self) -> dict[str, Any]:
        """The range's generation, utilisation, curtailment and flows."""
        start, end = self.window()
        query, regions = self.context.query, self.controls.regions
        fuels, net, utilisation, curtailment, flows = await gather(
            lambda: query.generation_by_fuel(start, end, regions=regions),
            lambda: query.net_imports(start, end, regions=regions).frame,
            lambda: query.utilisation_by_fuel(start, end, regions=regions),
            lambda: query.curtailment(start, end, regions=regions),
            lambda: query.interconnector_flows(start, end),
        )
        return {
            "start": start,
            "end": end,
            "resolution": query.resolution(start, end),
            "fuels": with_interchange(fuels, net),
            "utilisation": utilisation,
            "curtailment": curtailment.frame,
            "flows": flows.frame,
        }

    def draw(self, data: dict[str, Any]) -> None:
        """Redraw every card."""
        start, end = data["start"], data["end"]
        where = f"{self.controls.region}, {start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M}"
        self.resolution.object = (
            f"{where} NEM time · resolution **{data['resolution'].value}** (chosen from the range)"
        )
        fuels = data["fuels"]
        if self.stack_card.show(
            fuels.select("interval", "fuel", "mw", "minutes", "intervals", "complete"),
            f"No SCADA for {where}: nothing to stack (unit output is stored only for the "
            "intervals the scada feed has published or loaded).",
        ):
            self.stack.update(fuels)
        utilisation = data["utilisation"]
        if self.utilisation_card.show(utilisation, f"No generation for {where}."):
            rows = utilisation.sort("fuel").to_dicts()
            self.utilisation.update(
                [str(r["fuel"]) for r in rows],
                [float(r["utilisation"] or 0.0) * 100 for r in rows],
                [colour_of(str(r["fuel"])) for r in rows],
            )
        frame = data["curtailment"]
        if self.curtailment_card.show(frame, f"No regional summary for {where}."):
            long = (
                frame.unpivot(
                    index="interval",
                    on=["solar_mw", "wind_mw"],
                    variable_name="kind",
                    value_name="mw",
                )
                .with_columns(pl.col("kind").str.replace("_mw", ""))
                .group_by("interval", "kind")
                .agg(pl.col("mw").sum())
            )
            self.curtailed.update(long, "interval", "kind", "mw")
        flow_frame = data["flows"]
        region = str(self.controls.region)
        if region != "NEM" and not flow_frame.is_empty():  # a region's own links only
            ids = flow_frame["interconnectorid"].unique().to_list()
            touching = [i for i in ids if region in (interconnector_regions(i) or ())]
            flow_frame = flow_frame.filter(pl.col("interconnectorid").is_in(touching))
        if self.flows_card.show(flow_frame, f"No interconnector flows for {where}."):
            names = sorted(flow_frame["interconnectorid"].unique().to_list())
            if self.flow_lines is None or self.flow_lines.series != names:
                self.flow_lines = Lines(
                    "Interconnector flows (positive: the first-named region exports)", "MW", names
                )
                self.flows_pane.object = self.flow_lines.figure
            self.flow_lines.update(flow_frame, "interval", "interconnectorid", "meteredmwflow")
