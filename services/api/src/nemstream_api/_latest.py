"""``GET /v1/<kind>/latest``: the newest interval only, from the bus's newest message (kept by
the live hub, so it is there the moment it is published, before the writer stores it), or from
the store when the store holds a newer interval (never staler than the store)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request

from nemstream_api._history import ERRORS, History
from nemstream_api._live import Event, Hub
from nemstream_api._models import Latest, Problem
from nemstream_api._params import Region
from nemstream_api._respond import ISO
from nemstream_market import naive_nem

LATEST = {
    "prices": ("nem.dispatch.price.v1", ("prices5",), "regionid"),
    "trading": ("nem.trading.price.v1", ("trading_prices",), "regionid"),
    "regionsum": ("nem.dispatch.regionsum.v1", ("regionsum5",), "regionid"),
    "interconnectors": ("nem.dispatch.interconnector.v1", ("interconnector5",), None),
    "rooftop": ("nem.rooftop.actual.v1", ("rooftop",), "regionid"),
    "generation": ("nem.scada.unit.v1", ("scada5",), None),
    "p5min": ("nem.p5min.price.v1", ("p5min",), "regionid"),
    "predispatch": ("nem.predispatch.price.v1", ("predispatch",), "regionid"),
}
"""Kind → (subject, store tables, the row field a region filter applies to). For the forecasts
(``p5min``, ``predispatch``) the newest interval is the newest *run*: every row is one interval
it forecasts, with the run's time and its lead."""

FORECAST_MINUTES = {"p5min": 5, "predispatch": 30}


def _forecast_rows(event: Event, kind: str, regions: set[str]) -> list[dict[str, Any]]:
    """A forecast run's rows, each on the interval it forecasts (pricing run only)."""
    run = naive_nem(datetime.fromisoformat(str(event.body["interval"])))
    minutes = FORECAST_MINUTES[kind]
    rows = []
    for row in event.body.get("rows", []):
        if row.get("intervention", 0) != 0 or (regions and row.get("regionid") not in regions):
            continue
        end = naive_nem(datetime.fromisoformat(str(row["interval_datetime"])))
        rest = {k: v for k, v in row.items() if k not in ("interval_datetime", "regionid")}
        rows.append(
            {
                "interval_start": (end - timedelta(minutes=minutes)).strftime(ISO),
                "interval_end": end.strftime(ISO),
                "minutes": minutes,
                "region": row.get("regionid"),
                "source": kind,
                "run": run.strftime(ISO),
                "lead_minutes": int((end - run).total_seconds() // 60),
                **rest,
            }
        )
    return rows


def _rows(event: Event, region_field: str | None, regions: set[str]) -> list[dict[str, Any]]:
    body = event.body
    end = naive_nem(datetime.fromisoformat(str(body["interval"])))
    minutes = int(body.get("interval_minutes") or (30 if event.kind == "rooftop" else 5))
    start = end - timedelta(minutes=minutes)
    rows = []
    for row in body.get("rows", []):
        if row.get("intervention", 0) != 0:
            continue  # the pricing run only
        if regions and region_field and row.get(region_field) not in regions:
            continue
        if region_field and event.kind != "rooftop":
            row = {("region" if k == region_field else k): v for k, v in row.items()}
        rows.append(
            {
                "interval_start": start.strftime(ISO),
                "interval_end": end.strftime(ISO),
                "minutes": minutes,
                **({"type": body["type"]} if "type" in body else {}),
                **row,
            }
        )
    return rows


def router(hub: Hub, history: History) -> APIRouter:
    """The latest-interval routes."""
    api = APIRouter(tags=["latest"])

    def add(kind: str) -> None:
        subject, tables, region_field = LATEST[kind]

        @api.get(
            f"/v1/{kind}/latest",
            summary=f"The newest {kind} interval (from the bus)",
            response_model=Latest[dict[str, Any]],  # type: ignore[type-var]
            responses={
                404: {"model": Problem},
                401: ERRORS[401],
                429: ERRORS[429],
                422: ERRORS[422],
            },
            name=f"{kind}_latest",
        )
        async def latest(
            request: Request,
            region: Annotated[
                list[Region] | None, Query(description="regions (repeatable; NEM: all)")
            ] = None,
        ) -> dict[str, Any]:
            await history.guard.read(request)
            regions = {str(r) for r in region or () if str(r) != "NEM"}
            event = hub.latest.get(subject)
            stored = history.newest(tables)
            if event is not None:
                interval = naive_nem(datetime.fromisoformat(str(event.body["interval"])))
                if stored is None or interval >= stored:
                    rows = (
                        _forecast_rows(event, kind, regions)
                        if kind in FORECAST_MINUTES
                        else _rows(event, region_field, regions)
                    )
                    return {"source": "bus", "sequence": event.sequence, "data": rows}
            if stored is None:
                raise HTTPException(404, f"no {kind} yet: nothing on the bus or in the store")
            return {
                "source": "store",
                "sequence": None,
                "data": await asyncio.to_thread(_from_store, history, kind, stored, regions),
            }

    for kind in LATEST:
        add(kind)
    return api


def _from_store(
    history: History, kind: str, interval: datetime, regions: set[str]
) -> list[dict[str, Any]]:
    """The store's newest interval of a kind, in the latest shape."""
    store = history.store
    start = interval - timedelta(minutes=30 if kind in ("rooftop", "trading") else 5)
    picked = sorted(regions)
    if kind == "prices":
        frame = store.prices(start, interval, regions=picked).frame
    elif kind == "trading":
        frame = store.trading_prices(start, interval, regions=picked)
    elif kind == "regionsum":
        frame = store.regionsum(start, interval, regions=picked).frame
    elif kind == "interconnectors":
        frame = store.interconnector_flows(start, interval).frame
    elif kind == "rooftop":
        frame = store.rooftop_by_region(start, interval, regions=picked)
    elif kind in FORECAST_MINUTES:  # the newest run: every interval it forecasts
        frame = store.latest_forecast(interval, hours=72, regions=picked, sources=(kind,))  # type: ignore[arg-type]
        frame = frame.filter(frame["run"] == interval).with_columns(frame["run"].dt.strftime(ISO))
        return _dicts(frame)
    else:
        frame = store.unit_generation(start, interval).frame
    return _dicts(frame.filter(frame["interval"] == interval))


def _dicts(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows in the latest shape: the interval pair first, NaN as null."""
    out = []
    for row in frame.to_dicts():
        end = row.pop("interval")
        minutes = int(row.get("minutes") or 5)
        out.append(
            {
                "interval_start": (end - timedelta(minutes=minutes)).strftime(ISO),
                "interval_end": end.strftime(ISO),
                **{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()},
            }
        )
    return out
