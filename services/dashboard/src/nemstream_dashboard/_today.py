"""Today: the market now. A card per region (latest price coloured by level, change since the
previous interval, its time, market status), the last five intervals with last-hour and 24-hour
averages, 24 hours of prices over the forecast band (docs/forecasts.md), the generation stack
with rooftop PV, renewable share against its records and emissions intensity beside it,
interconnector flows against their limits, and how fresh the data is."""

from __future__ import annotations

import html
import time
from datetime import datetime, timedelta
from typing import Any

import panel as pn
import polars as pl

from nemstream_dashboard._charts import Lines, Stack, with_interchange
from nemstream_dashboard._emissions import EmissionsCard
from nemstream_dashboard._forecasts import ForecastBand
from nemstream_dashboard._view import STYLE, View, gather
from nemstream_market import REGIONS

STATUS_TEXT = {
    "suspended": "market suspended",
    "administered": "administered pricing",
    "at_cap": "at the market price cap",
    "at_floor": "at the market floor",
    "not_firm": "price under revision",
    "firm": "firm",
}


def price_colour(rrp: float | None) -> str:
    """A price's colour by level: negative, normal, high (≥ 300), very high (≥ 1,000),
    extreme (≥ 10,000)."""
    if rrp is None:
        return "#9e9e9e"
    if rrp < 0:
        return "#2b7bba"
    if rrp < 300:
        return "#2e8b57"
    if rrp < 1000:
        return "#e0a020"
    if rrp < 10000:
        return "#d9534f"
    return "#7b1f1f"


def dollars(rrp: float | None) -> str:
    """$/MWh as people write it (``-$41.31``)."""
    if rrp is None:
        return "–"
    return f"{'-' if rrp < 0 else ''}${abs(rrp):,.2f}"


def ago(seconds: float) -> str:
    """ "40 s ago", "3 min ago", "2 h ago", "5 days ago"."""
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _card_html(row: dict[str, object]) -> str:
    rrp = row.get("rrp")
    change = row.get("change")
    colour = price_colour(rrp if isinstance(rrp, float) else None)
    interval = row.get("interval")
    at = interval.strftime("%d %b %H:%M") if isinstance(interval, datetime) else "–"
    arrow = ""
    if isinstance(change, float):
        if abs(change) < 0.005:
            arrow = "■ unchanged"
        else:
            arrow = f"{'▲' if change > 0 else '▼'} {dollars(change)}"
    status = STATUS_TEXT.get(str(row.get("status")), str(row.get("status") or ""))
    badge = "" if row.get("status") in (None, "firm") else f'<div class="status">{status}</div>'
    return (
        f'<div class="price-card" data-region="{html.escape(str(row["region"]))}" '
        f'style="border-top: 6px solid {colour}">'
        f'<div class="region">{html.escape(str(row["region"]))}</div>'
        f'<div class="price" style="color:{colour}">'
        f"{dollars(rrp if isinstance(rrp, float) else None)}"
        f'<span class="unit">/MWh</span></div>'
        f'<div class="change">{arrow}</div>'
        f'<div class="when">{at} NEM time</div>{badge}</div>'
    )


class Today(View):
    """The Today tab."""

    title = "Today"
    tables = (
        "prices5",
        "scada5",
        "rooftop",
        "interconnector5",
        "regionsum5",
        "emissions5",
        "p5min",
        "predispatch",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.freshness = pn.pane.Markdown("", css_classes=["freshness"], margin=(0, 10))
        self.cards_pane = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[STYLE])
        self.prices_card = self.card("Region prices now", self.cards_pane)
        self.recent = pn.widgets.Tabulator(
            pl.DataFrame().to_pandas(),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            layout="fit_data_fill",
            sortable=False,  # five rows: sort arrows would only take the room of the figures
        )
        self.recent_card = self.card("Last five intervals ($/MWh)", self.recent)
        self.price_lines = Lines("Prices, last 24 hours", "$/MWh", REGIONS)
        self.price_chart = self.card(
            "Price by region, 24 hours", pn.pane.Bokeh(self.price_lines.figure)
        )
        self.forecast = ForecastBand(self.price_lines)
        self.stack = Stack(
            "Generation by fuel, 24 hours "
            "(rooftop PV at 5 minutes; charging and exports below zero)"
        )
        self.stack_card = self.card("Generation by fuel", pn.pane.Bokeh(self.stack.figure))
        self.share = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[STYLE])
        self.share_card = self.card("Renewable share", self.share)
        self.emissions = EmissionsCard(self)
        self.flows = pn.widgets.Tabulator(
            pl.DataFrame().to_pandas(),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            layout="fit_data_fill",
        )
        self.flows_card = self.card("Interconnectors now", self.flows)
        self.panel[:] = [
            self.freshness,
            self.prices_card.panel,
            pn.Row(
                self.recent_card.panel,
                self.share_card.panel,
                self.emissions.card.panel,
                sizing_mode="stretch_width",
            ),
            self.price_chart.panel,
            self.stack_card.panel,
            self.flows_card.panel,
        ]

    async def load(self) -> dict[str, Any]:
        """The last 24 hours ending at the newest stored interval."""
        latest, _ = self.context.bounds()
        query, regions = self.context.query, self.controls.regions
        if latest is None:
            return {"latest": None}
        start = latest - timedelta(hours=24)
        now, recent, prices, fuels, net, share, records, flows, emissions, forecast = await gather(
            lambda: query.price_now(latest),
            lambda: query.recent_prices(latest, count=5),
            lambda: query.prices(start, latest).frame,
            lambda: query.generation_by_fuel(start, latest, regions=regions),
            lambda: query.net_imports(start, latest, regions=regions).frame,
            lambda: query.renewable_share(start, latest, regions=regions),
            lambda: query.renewable_records(regions=regions, at=latest),
            lambda: query.interconnectors_now(latest),
            lambda: EmissionsCard.load(query, latest),
            lambda: ForecastBand.load(query, start, latest),
        )
        return {
            "latest": latest,
            "now": now,
            "recent": recent,
            "prices": prices,
            "fuels": with_interchange(fuels, net),
            "share": share,
            "records": records,
            "flows": flows,
            "emissions": emissions,
            "forecast": forecast,
        }

    def draw(self, data: dict[str, Any]) -> None:
        """Redraw every card."""
        latest = data["latest"]
        if latest is None:
            for card in self.cards:
                card.show(pl.DataFrame(), "No data in the store yet: is the writer running?")
            self.freshness.object = "**No data yet.**"
            return
        self._freshness(data["now"])
        self._cards(data["now"])
        self._recent(data["recent"], data["now"])
        self._prices(data["prices"])
        self.forecast.draw(data["forecast"], self.controls.region)
        fuels = data["fuels"]
        if self.stack_card.show(
            fuels.select("interval", "fuel", "mw"),
            f"No SCADA for the 24 hours to {latest:%d %b %Y %H:%M}: no generation to stack.",
        ):
            self.stack.update(fuels)
        self._share(data["share"], data["records"])
        self.emissions.draw(data["emissions"])
        self._flows(data["flows"])

    def _freshness(self, now: pl.DataFrame) -> None:
        stored = self.context.stored_at("prices5")
        newest = now["interval"].max() if not now.is_empty() else None
        text = (
            f"Latest interval **{newest:%d %b %Y %H:%M}** NEM time"
            if isinstance(newest, datetime)
            else "No prices"
        )
        if stored:
            text += f", stored {ago(time.time() - stored)}"
        self.freshness.object = text

    def _cards(self, now: pl.DataFrame) -> None:
        if self.prices_card.show(now, "No prices in the store yet."):
            order = {r: i for i, r in enumerate(REGIONS)}
            rows = sorted(now.to_dicts(), key=lambda r: order.get(str(r["region"]), 99))
            self.cards_pane.object = (
                '<div class="price-cards">' + "".join(_card_html(r) for r in rows) + "</div>"
            )

    def _recent(self, recent: pl.DataFrame, now: pl.DataFrame) -> None:
        if recent.is_empty():
            self.recent_card.show(recent, "No prices in the store yet.")
            return
        table = (
            recent.with_columns(pl.col("interval").dt.strftime("%H:%M").alias("time"))
            .pivot(on="time", index="region", values="rrp")
            .join(now.select("region", "avg_1h", "avg_24h"), on="region", how="left")
            .rename({"avg_1h": "1 h mean", "avg_24h": "24 h mean"})
        )
        table = table.with_columns(pl.exclude("region").round(2))
        self.recent_card.show(table, "")
        self.recent.value = table.to_pandas()

    def _prices(self, prices: pl.DataFrame) -> None:
        if self.price_chart.show(
            prices.select("interval", "region", "rrp"), "No prices for these 24 hours."
        ):
            self.price_lines.update(prices, "interval", "region", "rrp")

    def _share(self, share: pl.DataFrame, records: pl.DataFrame) -> None:
        region = self.controls.region
        if not self.share_card.show(share, "No generation for these 24 hours: no share to show."):
            return
        latest = share.sort("interval").tail(1).to_dicts()[0]
        row = records.filter(pl.col("region") == region).to_dicts()
        record = row[0] if row else {}
        now_share = float(latest.get("share") or 0.0)

        def pct(value: object) -> str:
            return f"{float(value) * 100:.1f} %" if isinstance(value, float) else "–"

        def when(value: object) -> str:
            return value.strftime("%d %b %Y %H:%M") if isinstance(value, datetime) else ""

        self.share.object = (
            f'<div class="share"><div class="big">{pct(now_share)}</div>'
            f"<div>renewable, {region}, {latest['interval']:%H:%M} NEM time</div>"
            f"<div>record {pct(record.get('record_share'))} "
            f"({when(record.get('record_interval'))})</div>"
            f"<div>record for this hour of day {pct(record.get('hour_record_share'))} "
            f"({when(record.get('hour_record_interval'))})</div></div>"
        )

    def _flows(self, flows: pl.DataFrame) -> None:
        if self.flows_card.show(flows, "No interconnector flows in the store yet."):
            shown = flows.select(
                "interconnectorid",
                "direction",
                pl.col("mw").round(0).alias("MW"),
                pl.col("export_limit").round(0).alias("export limit"),
                pl.col("import_limit").round(0).alias("import limit"),
                (pl.col("utilisation") * 100).round(0).alias("% of limit"),
                pl.col("at_limit").alias("at limit"),
            )
            self.flows.value = shown.to_pandas()
            style = self.flows.style
            assert style is not None
            style.apply(
                lambda row: ["background-color: #f8d7da" if row["at limit"] else "" for _ in row],
                axis=1,
            )
