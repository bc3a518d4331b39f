"""Bokeh figures the views update in place (their data sources change; the figure stays), so a
new interval moves a chart without a reload or a flicker.

Times on every axis are interval-ending NEM time, shown as stored (naive NEM time) and labelled
so. Colours: one per fuel and one per region, the same on every tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl
from bokeh.models import (
    ColumnDataSource,
    DatetimeTickFormatter,
    FactorRange,
    HoverTool,
    LinearAxis,
    NumeralTickFormatter,
    Range1d,
)
from bokeh.models.annotations import Legend, LegendItem
from bokeh.plotting import figure
from bokeh.transform import factor_cmap

from nemstream_market import REGIONS

TIME_LABEL = "interval ending, NEM time (UTC+10)"

FUEL_ORDER = (
    "coal",
    "gas",
    "liquid",
    "biomass",
    "hydro",
    "wind",
    "solar",
    "rooftop",
    "battery",
    "other",
    "unknown",
)
"""Stacking order: firm thermal at the bottom, variable renewables above, storage on top."""

FUEL_COLOURS = {
    "coal": "#3d3d3d",
    "gas": "#e8843a",
    "liquid": "#c0392b",
    "biomass": "#8d6e63",
    "hydro": "#2b7bba",
    "wind": "#3aa655",
    "solar": "#f2c12e",
    "rooftop": "#f7e08a",
    "battery": "#8e5bd6",
    "other": "#9e9e9e",
    "unknown": "#cfcfcf",
    "imports": "#5dade2",
    "exports": "#1b4f72",
}

REGION_COLOURS = dict(
    zip(REGIONS, ("#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd"), strict=True)
) | {"NEM": "#333333"}


PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Colours for series that are neither a region nor a fuel (interconnectors)."""


def colour_of(name: str, index: int = 7) -> str:
    """A region's or a fuel's colour (else the palette's `index`-th)."""
    return REGION_COLOURS.get(name) or FUEL_COLOURS.get(name) or PALETTE[index % len(PALETTE)]


def _time_axis(fig: Any) -> None:
    fig.xaxis.formatter = DatetimeTickFormatter(
        hours="%H:%M", days="%d %b", months="%b %Y", years="%Y"
    )
    fig.xaxis.axis_label = TIME_LABEL


def new_figure(title: str, y_label: str, *, time: bool = True, height: int = 320) -> Any:
    """A figure sized for the dashboard's grid, with a time axis by default."""
    fig = figure(
        title=title,
        height=height,
        sizing_mode="stretch_width",
        x_axis_type="datetime" if time else "linear",
        tools="pan,xwheel_zoom,box_zoom,reset,save",
        active_scroll=None,
        toolbar_location="above",
    )
    fig.yaxis.axis_label = y_label
    if time:
        _time_axis(fig)
    fig.hspan(y=[0], line_color="#999999", line_width=1, line_dash="dotted")
    return fig


def wide(
    frame: pl.DataFrame, index: str, column: str, value: str, *, fill: float | None = None
) -> pl.DataFrame:
    """Long rows (index, column, value) as one column per `column` value (missing values
    `fill`, or left missing)."""
    if frame.is_empty():
        return pl.DataFrame({index: []})
    table = frame.pivot(on=column, index=index, values=value, aggregate_function="sum").sort(index)
    return table.fill_null(fill) if fill is not None else table


def step_of(frame: pl.DataFrame) -> timedelta | None:
    """The length of a series' intervals, from its ``minutes`` column (None if it has none)."""
    if "minutes" not in frame.columns or frame.is_empty():
        return None
    minutes = frame["minutes"].min()
    return timedelta(minutes=float(minutes)) if isinstance(minutes, int | float) else None


def with_gaps(table: pl.DataFrame, x: str, step: timedelta | None = None) -> pl.DataFrame:
    """A time-indexed table with an empty row wherever time jumps by more than twice its step
    (given, or the usual one), so lines break at a gap instead of bridging it (a straight
    line across a missing week would be a value nobody measured)."""
    if x not in table.columns or table.height < 2 or table.schema[x] != pl.Datetime("us"):
        return table
    usual: Any = step
    if usual is None:
        if table.height < 3:
            return table
        usual = table[x].diff().drop_nulls().median()
    if usual is None:
        return table
    after = table.filter(pl.col(x).diff() > pl.lit(usual) * 2).select(
        (pl.col(x) - pl.duration(microseconds=1)).alias(x)
    )
    if after.is_empty():
        return table
    blanks = after.with_columns(
        [pl.lit(None, table.schema[c]).alias(c) for c in table.columns if c != x]
    ).select(table.columns)
    return pl.concat([table, blanks]).sort(x)


class Lines:
    """One line per series (regions, interconnectors), updated by `update`."""

    def __init__(self, title: str, y_label: str, series: Sequence[str], *, time: bool = True):
        self.figure = new_figure(title, y_label, time=time)
        self.series = list(series)
        self.source = ColumnDataSource({"x": [], **{s: [] for s in self.series}})
        self.renderers = {
            name: self.figure.line(
                "x",
                name,
                source=self.source,
                color=colour_of(name, index),
                line_width=2,
                legend_label=name,
                name=name,
            )
            for index, name in enumerate(self.series)
        }
        self.points = {  # a point alone (one interval of data) still shows
            name: self.figure.scatter(
                "x", name, source=self.source, color=colour_of(name, index), size=4, name=name
            )
            for index, name in enumerate(self.series)
        }
        if self.series:
            self.figure.legend.click_policy = "hide"
            self.figure.add_layout(self.figure.legend[0], "right")
        self.figure.add_tools(
            HoverTool(
                tooltips=[("", "$name"), ("x", "@x{%F %H:%M}" if time else "@x"), ("y", "$y")],
                formatters={"@x": "datetime"} if time else {},
                mode="vline",
            )
        )

    def update(self, frame: pl.DataFrame, x: str, series: str, value: str) -> None:
        """Show long rows (x, series, value); a series without data is hidden, gaps break."""
        table = with_gaps(wide(frame, x, series, value), x, step_of(frame))
        data: dict[str, list[Any]] = {"x": table[x].to_list() if x in table.columns else []}
        nan = float("nan")
        for name in self.series:
            present = name in table.columns
            data[name] = (
                table[name].cast(pl.Float64).fill_null(nan).to_list()
                if present
                else [nan] * len(data["x"])
            )
            self.renderers[name].visible = present
            self.points[name].visible = present
        self.source.data = data


def with_interchange(fuels: pl.DataFrame, net: pl.DataFrame) -> pl.DataFrame:
    """The stack's rows with the region's net imports added as ``imports`` (above zero) or
    ``exports`` (below), so that supply adds up to demand; only at intervals that have fuels,
    so that a range without SCADA never shows flows alone."""
    if net.is_empty() or fuels.is_empty():
        return fuels
    flows = (
        net.group_by("interval")
        .agg(
            pl.col("mw").sum(),
            pl.col("minutes").first(),
            pl.col("intervals").min(),
            pl.col("complete").all(),
        )
        .join(fuels.select("interval").unique(), on="interval", how="semi")
        .with_columns(
            pl.when(pl.col("mw") >= 0)
            .then(pl.lit("imports"))
            .otherwise(pl.lit("exports"))
            .alias("fuel")
        )
    )
    shaped = flows.select(
        [pl.col(c) if c in flows.columns else pl.lit(None).alias(c) for c in fuels.columns]
    )
    return pl.concat([fuels, shaped], how="vertical_relaxed").sort("interval")


class Stack:
    """A stacked area of MW by fuel: positive parts stacked up, negative parts (battery
    charging, pumping, exports) stacked down from zero, so nothing nets off unseen.

    Drawn as one glyph of polygons (each fuel: its band above zero and its band below) rather
    than Bokeh's stacked areas, which make two renderers per fuel: about 200 models on every
    page that the server builds and the browser lays out, for the same picture."""

    def __init__(self, title: str, y_label: str = "MW"):
        self.figure = new_figure(title, y_label)
        self.names = [*FUEL_ORDER, "imports", "exports"]
        self.source = ColumnDataSource(
            {"xs": [[] for _ in self.names], "ys": [[] for _ in self.names], "name": self.names}
        )
        self.figure.multi_polygons(
            xs="xs",
            ys="ys",
            source=self.source,
            fill_color=factor_cmap("name", [colour_of(n) for n in self.names], self.names),
            line_width=0,
            line_alpha=0,
        )
        renderer = self.figure.renderers[-1]
        legend = Legend(
            items=[
                LegendItem(label=name, renderers=[renderer], index=i)
                for i, name in enumerate(self.names)
            ],
        )
        # fifteen entries fit beside the chart's height only when compact
        legend.update(label_text_font_size="8pt", glyph_height=12, spacing=0, padding=4)
        self.figure.add_layout(legend, "right")
        self.figure.yaxis.formatter = NumeralTickFormatter(format="0,0")

    def update(self, frame: pl.DataFrame, x: str = "interval", fuel: str = "fuel") -> None:
        """Show rows (x, fuel, mw[, minutes]): each value over the period it ends."""
        table = wide(frame, x, fuel, "mw", fill=0.0)
        if "minutes" in frame.columns and x in table.columns:
            spans = frame.group_by(x).agg(pl.col("minutes").max())
            table = table.join(spans, on=x, how="left")
        self.source.data = stack_polygons(table, x, self.names)


def stack_polygons(table: pl.DataFrame, x: str, names: Sequence[str]) -> dict[str, list[Any]]:
    """Each name's bands as polygons (``multi_polygons`` data): its positive values stacked on
    those of the names before it, its negative values stacked below zero the same way.

    A value covers the period its row ends (``minutes`` long, or the table's usual step), drawn
    as a step, so a lone interval is a visible block and a gap between periods falls to zero
    instead of being bridged. x in milliseconds, as Bokeh's datetime axis reads them; a name
    with no values has no polygon."""
    empty: dict[str, list[Any]] = {"xs": [[] for _ in names], "ys": [[] for _ in names]}
    empty["name"] = list(names)
    if x not in table.columns or table.is_empty():
        return empty
    ends = table[x].dt.epoch("ms").cast(pl.Float64).to_list()
    if "minutes" in table.columns:
        minutes = table["minutes"].cast(pl.Float64).fill_null(5.0).to_list()
    else:
        usual = step_of(table) or (
            table[x].diff().drop_nulls().median() if table.height > 1 else None
        )
        step = usual.total_seconds() / 60 if isinstance(usual, timedelta) else 5.0
        minutes = [step] * table.height
    # a period never reaches back over the row before it (fuels at 5 minutes beside a
    # half-hour of rooftop PV at one interval: the interval's own five minutes)
    starts = [
        max(end - m * 60_000, ends[i - 1]) if i else end - m * 60_000
        for i, (end, m) in enumerate(zip(ends, minutes, strict=True))
    ]
    # the step path: two points per period, and two at zero across each gap after one
    xs_path: list[float] = []
    rows: list[int | None] = []  # which row's value each point takes (None: zero)
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        xs_path += [start, end]
        rows += [i, i]
        if i + 1 < len(starts) and starts[i + 1] > end + 1:
            xs_path += [end, starts[i + 1]]
            rows += [None, None]
    # numpy rings: Bokeh sends arrays as binary buffers, lists as JSON numbers one by one
    ring_x = np.asarray(xs_path + xs_path[::-1], dtype=np.float64)
    below_up = [0.0] * len(xs_path)
    below_down = [0.0] * len(xs_path)
    xs: list[Any] = []
    ys: list[Any] = []
    for name in names:
        values = (
            table[name].cast(pl.Float64).fill_null(0.0).to_list()
            if name in table.columns
            else [0.0] * table.height
        )
        path = [0.0 if row is None else values[row] for row in rows]
        polygons_x: list[Any] = []
        polygons_y: list[Any] = []
        for below, part in ((below_up, max), (below_down, min)):
            band = [part(v, 0.0) for v in path]
            if any(band):
                top = [b + v for b, v in zip(below, band, strict=True)]
                polygons_x.append([ring_x])
                polygons_y.append([np.asarray(top + below[::-1], dtype=np.float64)])
                below[:] = top
        xs.append(polygons_x)
        ys.append(polygons_y)
    return {"xs": xs, "ys": ys, "name": list(names)}


class Bars:
    """Vertical bars over categories (fuels, price bins)."""

    def __init__(self, title: str, y_label: str, *, x_label: str = ""):
        self.source = ColumnDataSource({"x": [], "y": [], "colour": []})
        self.factors = FactorRange()
        self.figure = figure(
            title=title,
            height=300,
            sizing_mode="stretch_width",
            x_range=self.factors,
            tools="save",
            toolbar_location="above",
        )
        self.figure.vbar(x="x", top="y", width=0.8, color="colour", source=self.source)
        self.figure.yaxis.axis_label = y_label
        self.figure.yaxis.formatter = NumeralTickFormatter(format="0,0.[00]")
        self.figure.xaxis.axis_label = x_label
        self.figure.xaxis.major_label_orientation = 0.8
        self.figure.add_tools(HoverTool(tooltips=[("", "@x"), ("value", "@y{0,0.[00]}")]))

    def update(self, labels: list[str], values: list[float], colours: list[str]) -> None:
        """Show one bar per label."""
        self.factors.factors = labels
        self.source.data = {"x": labels, "y": values, "colour": colours}


class DualAxis:
    """Output (MW, left axis) and the region's price ($/MWh, right axis) on one chart."""

    def __init__(self, title: str):
        self.figure = new_figure(title, "output, MW")
        self.source = ColumnDataSource({"x": [], "mw": [], "rrp": []})
        self.figure.line(
            "x", "mw", source=self.source, color="#2b7bba", line_width=2, legend_label="output (MW)"
        )
        self.figure.extra_y_ranges = {"price": Range1d(start=-100, end=300)}
        self.figure.add_layout(LinearAxis(y_range_name="price", axis_label="price, $/MWh"), "right")
        self.figure.line(
            "x",
            "rrp",
            source=self.source,
            color="#d62728",
            line_width=1.5,
            y_range_name="price",
            legend_label="region price ($/MWh)",
        )
        self.figure.scatter("x", "mw", source=self.source, color="#2b7bba", size=4)
        self.figure.scatter(
            "x", "rrp", source=self.source, color="#d62728", size=3, y_range_name="price"
        )
        self.figure.legend.location = "top_left"

    def update(self, frame: pl.DataFrame) -> None:
        """Show rows (interval, mw, rrp); missing prices are gaps, not zeros."""
        table = with_gaps(frame.select("interval", "mw", "rrp"), "interval", step_of(frame))
        nan = float("nan")
        self.source.data = {
            "x": table["interval"].to_list(),
            "mw": table["mw"].cast(pl.Float64).fill_null(nan).to_list(),
            "rrp": table["rrp"].cast(pl.Float64).fill_null(nan).to_list(),
        }
        prices = frame["rrp"].drop_nulls()
        if prices.len():
            low, high = float(prices.min()), float(prices.max())  # type: ignore[arg-type]
            pad = max(10.0, (high - low) * 0.05)
            self.figure.extra_y_ranges["price"].start = low - pad
            self.figure.extra_y_ranges["price"].end = high + pad
