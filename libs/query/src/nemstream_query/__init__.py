"""Queries over the parquet store with DuckDB: generation by fuel and region, daily energy,
station revenue, renewable share, prices and flows, price forecasts (the latest, how one
interval's forecast evolved, accuracy by lead), emissions and their intensity; for the dashboard
also the market now, price analytics, renewable records, curtailment, rooftop PV by region, and
station and unit answers; resolution chosen from the range with gaps filled from the other
resolution; a cache that new data invalidates."""

from nemstream_query._answer import Answer
from nemstream_query._emissions import EMISSIONS_SCHEMA
from nemstream_query._engine import Engine
from nemstream_query._forecasts import (
    ACCURACY_SCHEMA,
    FORECAST_SCHEMA,
    SOURCES,
    SPIKES,
    Source,
    forecast_accuracy,
    forecast_evolution,
    latest_forecast,
)
from nemstream_query._generation import RENEWABLE, ROOFTOP, STORAGE, by_fuel, renewable_share
from nemstream_query._market import PRICE_BINS, STATUSES, PriceAnalytics
from nemstream_query._query import Query
from nemstream_query._resolution import (
    Gaps,
    Policy,
    Resolution,
    align_down,
    align_up,
    expected,
    gaps,
    runs,
)
from nemstream_query._rooftop import five_minute, pchip
from nemstream_query._settings import QuerySettings
from nemstream_query._sql import read_parts
from nemstream_query._station import StationDetail

__all__ = [
    "ACCURACY_SCHEMA",
    "EMISSIONS_SCHEMA",
    "FORECAST_SCHEMA",
    "PRICE_BINS",
    "RENEWABLE",
    "ROOFTOP",
    "SOURCES",
    "SPIKES",
    "STATUSES",
    "STORAGE",
    "Answer",
    "Engine",
    "Gaps",
    "Policy",
    "PriceAnalytics",
    "Query",
    "QuerySettings",
    "Resolution",
    "Source",
    "StationDetail",
    "align_down",
    "align_up",
    "by_fuel",
    "expected",
    "five_minute",
    "forecast_accuracy",
    "forecast_evolution",
    "gaps",
    "latest_forecast",
    "pchip",
    "read_parts",
    "renewable_share",
    "runs",
]
