"""The Today tab's emissions intensity card, beside renewable share: per region and NEM, the
newest 5-minute intensity and that of the 24 hours before it, sent out (units with an emission
factor) and with rooftop PV as zero-emission generation, and the units without a factor
(docs/emissions.md). It reads the newest emissions at or before the tab's latest interval, so a
store whose emissions lag its prices still shows them, with their own time."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

import panel as pn
import polars as pl

from nemstream_dashboard._view import STYLE, View
from nemstream_market import REGIONS
from nemstream_query import Query, Resolution

TITLE = "Emissions intensity"
ORDER = ("NEM", *REGIONS)


def emissions_table(now: pl.DataFrame, day: pl.DataFrame) -> pl.DataFrame:
    """Per region: intensity now and over the 24 hours (t CO2-e/MWh, sent out and with rooftop
    PV), and the units and energy with no factor."""
    totals = day.group_by("region").agg(
        pl.col("emissions_t").sum().alias("emissions_24h_t"),
        pl.col("generation_mwh").sum().alias("generation_24h_mwh"),
        pl.when(pl.col("rooftop_mwh").is_not_null().all())  # every half-hour, or none
        .then(pl.col("rooftop_mwh").sum())
        .alias("rooftop_24h_mwh"),
        pl.col("unfactored_mwh").sum().alias("unfactored_24h_mwh"),
    )
    gen = pl.col("generation_24h_mwh")
    both = gen + pl.col("rooftop_24h_mwh")
    return (
        now.select(
            "region",
            "interval",
            pl.col("intensity").alias("intensity_now"),
            pl.col("intensity_with_rooftop").alias("with_rooftop_now"),
            "unfactored_units",
        )
        .join(totals, on="region", how="left")
        .with_columns(
            pl.when(gen > 0).then(pl.col("emissions_24h_t") / gen).alias("intensity_24h"),
            pl.when(both > 0).then(pl.col("emissions_24h_t") / both).alias("with_rooftop_24h"),
        )
        .filter(pl.col("region").is_in(ORDER))
        .sort(pl.col("region").replace_strict({r: i for i, r in enumerate(ORDER)}, default=99))
    )


def _value(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "–"


class EmissionsCard:
    """The card: a table per region, the selected region highlighted."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.pane = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[STYLE])
        self.card = view.card(TITLE, self.pane)

    @staticmethod
    def load(query: Query, latest: datetime) -> pl.DataFrame:
        """The table for the newest emissions at or before `latest` (empty: none stored)."""
        now = query.emissions_now(latest)
        edge = now["interval"].max() if not now.is_empty() else None
        if not isinstance(edge, datetime):
            return pl.DataFrame()
        day = query.emissions(edge - timedelta(hours=24), edge, resolution=Resolution.THIRTY)
        return emissions_table(now, day.frame)

    def draw(self, table: pl.DataFrame) -> None:
        """Show the table (or say there are no emissions yet)."""
        if not self.card.show(
            table,
            "No emissions stored: they need SCADA and the CO2EII emission factors "
            "(see docs/emissions.md).",
        ):
            return
        picked = self.view.controls.region
        when = table["interval"].max()
        rows = []
        for row in table.to_dicts():
            mark = ' class="picked"' if row["region"] == picked else ""
            rows.append(
                f"<tr{mark}><td>{html.escape(str(row['region']))}</td>"
                f"<td>{_value(row['intensity_now'])}</td>"
                f"<td>{_value(row['with_rooftop_now'])}</td>"
                f"<td>{_value(row['intensity_24h'])}</td>"
                f"<td>{_value(row['with_rooftop_24h'])}</td>"
                f"<td>{row['unfactored_units'] if row['unfactored_units'] is not None else '–'}"
                "</td></tr>"
            )
        at = f"{when:%d %b %Y %H:%M}" if isinstance(when, datetime) else "–"
        self.pane.object = (
            '<div class="emissions"><table class="emissions-table">'
            "<tr><th>region</th><th>now</th><th>now, rooftop PV in</th><th>24 h</th>"
            "<th>24 h, rooftop PV in</th><th>units without factor</th></tr>"
            + "".join(rows)
            + f"</table><div>t CO2-e/MWh sent out, {at} NEM time. Units without a factor are "
            "left out of the intensity, not counted as zero-emission.</div></div>"
        )
