"""Interconnectors now: the newest flow of each, which way it goes, and how close it is to its
limit.

AEMO names an interconnector by the regions it joins (``NSW1-QLD1``, ``V-SA``,
``T-V-MNSP1``): a positive flow goes from the first named region to the second
(`nemstream_market.interconnector_regions`). EXPORTLIMIT bounds the flow in that positive
direction and IMPORTLIMIT (usually a negative number) the other: dispatch keeps the target
flow between IMPORTLIMIT and EXPORTLIMIT. Either can bind, even against the flow's direction (an
EXPORTLIMIT below zero forces a flow the other way), so ``at_limit`` checks both, while
``utilisation`` measures the flow against the limit in its own direction. Pricing run only
(INTERVENTION = 0).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from nemstream_market import interconnector_regions, naive_nem
from nemstream_query import _sql
from nemstream_query._answer import FIVE_MINUTES
from nemstream_query._engine import Engine
from nemstream_query._resolution import align_down

AT_LIMIT = 0.01
"""A target flow within 1 % of a limit is at that limit ..."""
AT_LIMIT_MW = 1.0
"""... or within 1 MW of it, for limits near zero (Basslink's no-go zone)."""

LOOKBACK = timedelta(hours=1)
"""How far back an interconnector's newest row is looked for."""

INTERCONNECTORS_NOW_SCHEMA = {
    "interconnectorid": pl.String(),
    "interval": pl.Datetime("us"),
    "from_region": pl.String(),
    "to_region": pl.String(),
    "mw": pl.Float64(),
    "target_mw": pl.Float64(),
    "export_limit": pl.Float64(),
    "import_limit": pl.Float64(),
    "direction": pl.String(),
    "utilisation": pl.Float64(),
    "at_limit": pl.Boolean(),
}
"""Columns of `interconnectors_now`."""


def _limit(flow: pl.Expr) -> pl.Expr:
    """The size of the limit in the direction of `flow` (export when positive)."""
    return pl.when(flow >= 0).then(pl.col("export_limit")).otherwise(pl.col("import_limit")).abs()


def interconnectors_now(engine: Engine, end: datetime | None = None) -> pl.DataFrame:
    """The newest interval of each interconnector at or before `end` (default: the newest
    stored): metered flow ``mw`` and dispatch target ``target_mw`` (MW, positive from
    ``from_region`` to ``to_region``), the limits, ``direction`` of the metered flow ("NSW1 →
    QLD1"), ``utilisation`` (|mw| ÷ the limit in its direction; null without a limit) and
    ``at_limit`` (the dispatch target, which the limits constrain, within 1 % - at least 1 MW
    - of the export or the import limit)."""
    stored = engine.latest("interconnector5")
    if stored is None:
        return pl.DataFrame(schema=INTERCONNECTORS_NOW_SCHEMA)
    edge = align_down(stored if end is None else min(naive_nem(end), stored), FIVE_MINUTES)
    rows = engine.frame(
        _sql.INTERCONNECTOR5,
        {
            "files": engine.files("interconnector5", edge - LOOKBACK, edge),
            "start": edge - LOOKBACK,
            "end": edge,
        },
    )
    if rows.is_empty():
        return pl.DataFrame(schema=INTERCONNECTORS_NOW_SCHEMA)
    latest = rows.sort("interval").group_by("interconnectorid").last()
    ids = latest["interconnectorid"].to_list()
    ends = {i: interconnector_regions(i) or (None, None) for i in ids}
    frame = latest.select(
        "interconnectorid",
        "interval",
        pl.Series("from_region", [ends[i][0] for i in ids], pl.String),
        pl.Series("to_region", [ends[i][1] for i in ids], pl.String),
        pl.col("meteredmwflow").alias("mw"),
        pl.col("mwflow").alias("target_mw"),
        pl.col("exportlimit").alias("export_limit"),
        pl.col("importlimit").alias("import_limit"),
    )
    forward = pl.col("mw") >= 0
    limit = _limit(pl.col("mw"))
    near = [
        (pl.col("target_mw") - pl.col(c)).abs()
        <= pl.max_horizontal(AT_LIMIT * pl.col(c).abs(), pl.lit(AT_LIMIT_MW))
        for c in ("export_limit", "import_limit")
    ]
    return (
        frame.with_columns(
            pl.when(forward)
            .then(pl.concat_str("from_region", pl.lit(" → "), "to_region"))
            .otherwise(pl.concat_str("to_region", pl.lit(" → "), "from_region"))
            .alias("direction"),
            # a limit under 1 MW (Basslink's no-go zone, an outage) has no meaningful share
            pl.when(limit >= AT_LIMIT_MW).then(pl.col("mw").abs() / limit).alias("utilisation"),
            pl.any_horizontal(*(n.fill_null(False) for n in near)).alias("at_limit"),
        )
        .select(list(INTERCONNECTORS_NOW_SCHEMA))
        .cast(pl.Schema(INTERCONNECTORS_NOW_SCHEMA))
        .sort("interconnectorid")
    )
