"""Emissions end to end over a real nats-server: a real SCADA interval in, the aggregator's
``nem.emissions.region.v1`` out (once, whatever the redeliveries), the writer stores it, the
query layer and ``/v1/emissions`` answer it; the factor refresher finds the real CO2EII list in
the mirror's /Reports/CURRENT/CDEII/ (plain CSV, as NEMWeb serves it) and rebuilds the table
only when a new list appears."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from nemstream_aggregator import Aggregator, AggregatorSettings, refresh_factors
from nemstream_aggregator._factors import RETRY_S, FactorRefresher
from nemstream_api import ApiSettings, Hub, create_app
from nemstream_api._live import STREAM_KINDS, kind_of
from nemstream_bus import Bus
from nemstream_contracts import EMISSIONS_REGION, UNKNOWN_REGION
from nemstream_dashboard._emissions import emissions_table
from nemstream_fetcher import Event
from nemstream_market import REGIONS
from nemstream_mirror import running_mirror
from nemstream_nemweb import CDEII, NemwebClient, NemwebSettings
from nemstream_query import Query, QuerySettings, Resolution
from nemstream_registry import (
    emission_factors_path,
    read_co2eii,
    read_emission_factors,
    write_emission_factors,
)
from nemstream_runtime import Health
from nemstream_testing import (
    SampleSet,
    free_port,
    names,
    publish_all,
    running,
    stream_messages,
    wait_until,
)
from nemstream_writer import Writer
from tests.integration.store_support import events, writer_settings
from tests.unit.test_emissions import _raw_factors, _raw_scada

INTERVAL = datetime(2019, 4, 29, 16, 30)
LIST_NAME = Path(names.CO2EII_GENERATORS).name


@pytest.fixture
def data_dir(samples: SampleSet, tmp_path: Path) -> Path:
    """A data directory whose emission factor table is the real 2017 list."""
    data = tmp_path / "data"
    factors = read_co2eii(samples.path(names.CO2EII_GENERATORS))
    write_emission_factors(factors, emission_factors_path(data))
    return data


@pytest.fixture
async def pipeline(bus: Bus, tmp_path: Path, data_dir: Path) -> AsyncIterator[Path]:
    """The aggregator (no NEMWeb refresh: the table is given) and the writer on `data_dir`."""
    aggregator = Aggregator(
        AggregatorSettings(
            metrics_port=-1, sweep_every_s=0.2, data_dir=data_dir, emission_factors_every_s=0
        ),
        bus,
    )
    async with running(aggregator), running(Writer(writer_settings(tmp_path), bus)):
        yield data_dir


def _scada(samples: SampleSet) -> list[Event]:
    return events(samples, [names.SCADA_2019])


async def test_scada_in_emissions_out_stored_and_answered(
    samples: SampleSet, bus: Bus, pipeline: Path
) -> None:
    scada = _scada(samples)
    await publish_all(bus, scada)
    await publish_all(bus, scada, id_prefix="again:")  # a replay: the same emissions id

    async def stored() -> bool:
        query = Query(QuerySettings(data_dir=pipeline, query_cache_size=0))
        try:
            return query.latest("emissions5") == INTERVAL
        finally:
            query.close()

    await wait_until(stored, within=30)
    messages = await stream_messages(bus, subject=EMISSIONS_REGION)
    assert len(messages) == 1
    body = messages[0].body
    assert body["interval"] == "2019-04-29T16:30:00+10:00"
    assert body["factors_file"] == LIST_NAME
    published = {row["regionid"]: row for row in body["rows"]}
    assert set(published) == {*REGIONS, UNKNOWN_REGION}  # no unit registry in this data dir

    query = Query(QuerySettings(data_dir=pipeline, query_cache_size=0))
    try:
        start = INTERVAL - timedelta(minutes=5)
        answer = query.emissions(start, INTERVAL, resolution=Resolution.FIVE)
        rows = {row["region"]: row for row in answer.frame.to_dicts()}
        assert set(rows) == {*REGIONS, UNKNOWN_REGION, "NEM"}
        for region in REGIONS:
            assert rows[region]["emissions_t"] == pytest.approx(published[region]["emissions_t"])
            assert rows[region]["generation_mwh"] == pytest.approx(
                published[region]["generation_mwh"]
            )
            assert rows[region]["intensity"] == pytest.approx(published[region]["intensity"])
            assert rows[region]["intensity_with_rooftop"] is None  # no rooftop estimate then
        nem = rows["NEM"]
        assert nem["emissions_t"] == pytest.approx(
            sum(r["emissions_t"] for r in published.values())
        )
        assert nem["unfactored_units"] == 89
        assert nem["intensity"] == pytest.approx(nem["emissions_t"] / nem["generation_mwh"])
        assert (nem["intervals"], nem["complete"], answer.coverage) == (1, True, 1.0)
        half_hour = query.emissions(
            INTERVAL - timedelta(minutes=30),
            INTERVAL,
            regions=["NEM"],
            resolution=Resolution.THIRTY,
        ).frame
        assert half_hour["emissions_t"].to_list() == [pytest.approx(nem["emissions_t"])]
        assert half_hour["intervals"].to_list() == [1]
        assert half_hour["complete"].to_list() == [False]  # one 5-minute interval of six
        now = query.emissions_now()
        assert set(now["region"]) == set(rows)
        assert now["interval"].unique().to_list() == [INTERVAL]
        day = query.emissions(INTERVAL - timedelta(hours=24), INTERVAL).frame
        card = emissions_table(now, day).to_dicts()
        assert [r["region"] for r in card] == ["NEM", *REGIONS]  # as the dashboard shows it
        assert card[0]["intensity_24h"] == pytest.approx(nem["intensity"])
        assert all(r["with_rooftop_24h"] is None for r in card)  # never the sent-out figure

        app = create_app(ApiSettings(data_dir=pipeline), query, Hub(bus), Health())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get(
                "/v1/emissions",
                params={
                    "start": "2019-04-29T16:00:00+10:00",
                    "end": "2019-04-29T16:30:00+10:00",
                    "resolution": "5min",
                    "region": ["NEM", "SA1"],
                },
            )
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["meta"]["units"]["emissions_t"] == "t CO2-e"
            data = [r for r in page["data"] if r["interval_end"].startswith("2019-04-29T16:30")]
            assert {r["region"] for r in data} == {"NEM", "SA1"}
            by_region = {r["region"]: r for r in data}
            assert by_region["SA1"]["emissions_t"] == pytest.approx(published["SA1"]["emissions_t"])
            assert by_region["NEM"]["unfactored_units"] == 89
            missing = [r for r in page["data"] if r["intervals"] == 0]
            assert len(missing) == 2 * 5  # 16:05 to 16:25: null rows, said as such
            assert all(r["emissions_t"] is None for r in missing)
            csv = await client.get(
                "/v1/emissions",
                params={
                    "start": "2019-04-29T16:00:00+10:00",
                    "end": "2019-04-29T16:30:00+10:00",
                    "format": "csv",
                },
            )
            assert csv.status_code == 200
            assert csv.text.splitlines()[0].count("intensity_with_rooftop") == 1
            bad = await client.get("/v1/emissions", params={"region": "MARS1"})
            assert bad.status_code == 422
            listed = await client.get(
                "/v1/emissions/unfactored",
                params={"start": "2019-04-29T00:00:00+10:00", "end": "2019-04-30T00:00:00+10:00"},
            )
            assert listed.status_code == 200, listed.text
            units = listed.json()["data"]
            raw_factors, raw_scada = _raw_factors(samples), _raw_scada(samples)
            assert {u["duid"] for u in units} == set(raw_scada) - set(raw_factors)
            for unit in units:
                assert unit["mwh"] == pytest.approx(max(raw_scada[unit["duid"]], 0) * 5 / 60)
            ranked = query.unfactored_units(INTERVAL - timedelta(days=1), INTERVAL)
            assert ranked["mwh"].to_list() == sorted(ranked["mwh"].to_list(), reverse=True)
    finally:
        query.close()


def test_the_live_stream_has_an_emissions_kind() -> None:
    assert kind_of(EMISSIONS_REGION) == "emissions"
    assert "emissions" in STREAM_KINDS


async def test_the_refresher_rebuilds_from_the_newest_list_in_the_mirror(
    samples: SampleSet, tmp_path: Path
) -> None:
    folder = tmp_path / "nemweb"
    folder.mkdir()
    output = emission_factors_path(tmp_path / "data")
    async with running_mirror(folder) as mirror:
        settings = NemwebSettings(nemweb_url=mirror.url, http_backoff=0.01, http_backoff_max=0.05)
        async with NemwebClient(settings) as client:
            assert await refresh_factors(client, output) is None  # no list yet: nothing built
            assert not output.exists()

            os.symlink(samples.path(names.CO2EII_GENERATORS), folder / LIST_NAME)
            assert await refresh_factors(client, output) == LIST_NAME
            built = read_emission_factors(output)
            assert built.equals(read_co2eii(samples.path(names.CO2EII_GENERATORS)))
            stamp = output.stat().st_mtime_ns

            assert await refresh_factors(client, output) is None  # unchanged: not rewritten
            assert output.stat().st_mtime_ns == stamp

            headers = {"User-Agent": "nemstream-test"}
            async with httpx.AsyncClient(base_url=mirror.url, headers=headers) as http:
                served = await http.get(f"{CDEII.path()}{LIST_NAME}")
                assert served.status_code == 200
                assert served.headers["content-type"].startswith("text/csv")
                assert served.content == samples.path(names.CO2EII_GENERATORS).read_bytes()
                listing = await http.get(CDEII.path())
                assert LIST_NAME in listing.text


def _last_ok(refresher: FactorRefresher) -> float | None:
    """When the refresher last looked successfully (read fresh each time)."""
    return refresher.last_ok


async def test_a_failed_look_is_tried_again_soon_a_good_one_only_a_period_later(
    samples: SampleSet, tmp_path: Path
) -> None:
    folder = tmp_path / "nemweb"
    folder.mkdir()
    os.symlink(samples.path(names.CO2EII_GENERATORS), folder / LIST_NAME)
    output = emission_factors_path(tmp_path / "data")

    def nemweb(url: str) -> NemwebSettings:
        return NemwebSettings(
            nemweb_url=url, http_backoff=0.01, http_backoff_max=0.02, http_retries=0
        )

    nowhere = nemweb(f"http://127.0.0.1:{free_port()}")
    async with NemwebClient(nowhere) as client:
        refresher = FactorRefresher(client, output, every_s=6 * 3600)
        assert refresher.period == RETRY_S  # a look every few minutes at most
        await refresher()  # NEMWeb unreachable (e.g. still starting): no table, no success
        assert _last_ok(refresher) is None and not output.exists()
    async with (
        running_mirror(folder) as mirror,
        NemwebClient(nemweb(mirror.url)) as client,
    ):
        refresher.client = client
        await refresher()  # the next run tries again and builds the table
        assert _last_ok(refresher) is not None and output.exists()
        stamp, looked = output.stat().st_mtime_ns, _last_ok(refresher)
        (folder / LIST_NAME).unlink()  # would be "no list": not even looked at within the period
        await refresher()
        assert _last_ok(refresher) == looked and output.stat().st_mtime_ns == stamp
