"""The mirror over the real samples, driven by nemstream's own NEMWeb client."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest

from nemstream_mirror import ZIP_TYPE, RunningMirror, running_mirror
from nemstream_mms import read_report, views
from nemstream_nemweb import (
    Area,
    NemwebClient,
    NemwebHTTPError,
    NemwebSettings,
    get_feed,
    parse_filename,
    pick_new,
)
from nemstream_testing import SampleSet


def _settings(mirror: RunningMirror) -> NemwebSettings:
    return NemwebSettings(nemweb_url=mirror.url, http_backoff=0.01, http_backoff_max=0.05)


async def test_feeds_list_and_download_the_real_files(
    mirror: RunningMirror, samples: SampleSet
) -> None:
    async with NemwebClient(_settings(mirror)) as client:
        scada = await client.list_feed("scada")
        (entry,) = pick_new(scada, set(), feed=get_feed("scada"))
        assert entry.name == "PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip"
        assert [e.name for e in scada if e.is_duplicate_folder] == ["DUPLICATE"]
        data = await client.download(entry)
        assert data == samples.path(entry.name).read_bytes()  # zips byte for byte

        rooftop = pick_new(await client.list_feed("rooftop"), set(), feed=get_feed("rooftop"))
        assert [e.name for e in rooftop] == [
            "PUBLIC_ROOFTOP_PV_ACTUAL_SATELLITE_20230902183000_0000000396168830.zip",
            "PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303200000_0000000412707330.zip",
        ]


async def test_plain_csv_reports_are_served_zipped(
    mirror: RunningMirror, samples: SampleSet
) -> None:
    async with NemwebClient(_settings(mirror)) as client:
        entries = pick_new(await client.list_feed("dispatch"), set())
        names = [e.name for e in entries]
        # the 2020 report by its own name; sample_dispatchis.csv named from its content
        assert names == [
            "PUBLIC_DISPATCHIS_202001131410_0000000317693747.zip",
            "PUBLIC_DISPATCHIS_202512270005_0000000495867501.zip",
        ]
        for entry, original in zip(
            entries,
            ["PUBLIC_DISPATCHIS_202001131410_0000000317693747.csv", "sample_dispatchis.csv"],
            strict=True,
        ):
            data = await client.download(entry)
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                (member,) = archive.namelist()
                assert member == entry.name.replace(".zip", ".CSV")
                assert archive.read(member) == samples.path(original).read_bytes()
            report = read_report(data, name=entry.name)
            interval = views.dispatch_price(report)["settlementdate"].max()
            assert interval == parse_filename(entry.name).interval


async def test_history_folders(mirror: RunningMirror) -> None:
    async with NemwebClient(_settings(mirror)) as client:
        monthly = await client.list_url(
            "/Data_Archive/Wholesale_Electricity/MMSDM/2026/MMSDM_2026_03/"
            "MMSDM_Historical_Data_SQLLoader/DATA/"
        )
        (entry,) = monthly
        assert entry.name == "PUBLIC_ARCHIVE#DISPATCHPRICE#FILE01#202603010000.zip"
        assert views.dispatch_price(read_report(await client.download(entry))).height == 2880
        archive = await client.list_feed("dispatch", Area.ARCHIVE)
        assert archive == []  # no ARCHIVE day zips among the samples
        extras = {e.name for e in await client.list_url("/files/")}
        assert {"old.xls", "stations.json", "NEM-Registration-and-Exemption-List.xlsx"} <= extras


async def test_http_details(mirror: RunningMirror) -> None:
    path = "/Reports/CURRENT/TradingIS_Reports/PUBLIC_TRADINGIS_202403031335_0000000412683134.zip"
    async with httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "test"}) as http:
        response = await http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == ZIP_TYPE
        assert int(response.headers["content-length"]) == len(response.content) == 720
        etag, modified = response.headers["etag"], response.headers["last-modified"]
        assert (await http.get(path, headers={"If-None-Match": etag})).status_code == 304
        assert (await http.get(path, headers={"If-Modified-Since": modified})).status_code == 304
        head = await http.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == "720"
        lower = await http.get(path.lower())  # IIS ignores case
        assert lower.status_code == 200
        assert (await http.get("/Reports/CURRENT/Nope/")).status_code == 404
        folder = await http.get("/Reports/CURRENT/TradingIS_Reports")
        assert folder.status_code == 301
    async with httpx.AsyncClient(base_url=mirror.url) as bare:
        bare.headers.pop("User-Agent")
        assert (await bare.get(path)).status_code == 403  # as NEMWeb does without a User-Agent


async def test_listing_is_fetched_conditionally(mirror: RunningMirror) -> None:
    async with NemwebClient(_settings(mirror)) as client:
        first = await client.list_feed("trading")
        second = await client.list_feed("trading")
        assert second == first
    async with httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http:
        response = await http.get("/Reports/CURRENT/TradingIS_Reports/")
        again = await http.get(
            "/Reports/CURRENT/TradingIS_Reports/",
            headers={"If-None-Match": response.headers["etag"]},
        )
        assert again.status_code == 304


async def test_release_mode_shows_files_one_at_a_time(samples: SampleSet) -> None:
    async with (
        running_mirror(samples.root, release_every=60.0, auto_release=False) as mirror,
        NemwebClient(_settings(mirror)) as client,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
    ):
        status = (await http.get("/_mirror/status")).json()
        assert status["released"] > 0  # history (MMSDM, /files/) is visible from the start
        assert status["pending"] == 6  # the interval reports, to be released in time order
        assert pick_new(await client.list_feed("dispatch"), set()) == []
        released = []
        for _ in range(status["pending"]):
            released.append((await http.post("/_mirror/release")).json()["released"])
        assert (await http.post("/_mirror/release")).status_code == 404
        names = [path.rsplit("/", 1)[1] for path in released]
        stamps = [parse_filename(n).stamp for n in names]
        assert stamps == sorted(stamps)
        assert names[0] == "PUBLIC_DISPATCHIS_202001131410_0000000317693747.zip"
        dispatch = pick_new(await client.list_feed("dispatch"), set())
        assert len(dispatch) == 2


async def test_unreleased_files_are_not_found(samples: SampleSet) -> None:
    async with (
        running_mirror(samples.root, release_every=60.0, auto_release=False) as mirror,
        NemwebClient(_settings(mirror)) as client,
    ):
        with pytest.raises(NemwebHTTPError) as caught:
            await client.download(
                "/Reports/CURRENT/TradingIS_Reports/"
                "PUBLIC_TRADINGIS_202403031335_0000000412683134.zip"
            )
        assert caught.value.status == 404


async def test_sample_download_for_fresh_clones(mirror: RunningMirror, tmp_path: Path) -> None:
    from nemstream_testing.fetch import download_current

    written = await download_current(
        tmp_path,
        _settings(mirror),
        registration_list="/files/NEM-Registration-and-Exemption-List.xlsx",
    )
    names = sorted(p.name for p in written)
    assert "PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip" in names
    assert "NEM-Registration-and-Exemption-List.xlsx" in names
    assert len(names) == 7  # 2 dispatch, 1 trading, 1 scada, 2 rooftop, the list
    for path in written:
        if path.suffix == ".zip":
            assert read_report(path).tables
