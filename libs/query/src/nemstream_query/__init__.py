"""Queries over the parquet store with DuckDB: generation by fuel and region, daily energy,
station revenue, renewable share, prices and flows; resolution chosen from the range with
gaps filled from the other resolution; a cache that new data invalidates."""

from nemstream_query._answer import Answer
from nemstream_query._engine import Engine
from nemstream_query._generation import RENEWABLE, ROOFTOP, STORAGE, by_fuel, renewable_share
from nemstream_query._query import Query
from nemstream_query._resolution import Policy, Resolution, align_down, align_up, expected, gaps
from nemstream_query._rooftop import five_minute, pchip
from nemstream_query._settings import QuerySettings

__all__ = [
    "RENEWABLE",
    "ROOFTOP",
    "STORAGE",
    "Answer",
    "Engine",
    "Policy",
    "Query",
    "QuerySettings",
    "Resolution",
    "align_down",
    "align_up",
    "by_fuel",
    "expected",
    "five_minute",
    "gaps",
    "pchip",
    "renewable_share",
]
