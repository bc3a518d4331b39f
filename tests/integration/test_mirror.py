"""The mirror over the real samples, driven by nemstream's own NEMWeb client."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from urllib.parse import quote

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
    nemweb_folder,
    parse_filename,
    pick_new,
)
from nemstream_testing import SampleSet, names, wait_until


def _settings(mirror: RunningMirror) -> NemwebSettings:
    return NemwebSettings(nemweb_url=mirror.url, http_backoff=0.01, http_backoff_max=0.05)


async def test_feeds_list_and_download_the_real_files(
    mirror: RunningMirror, samples: SampleSet
) -> None:
    async with NemwebClient(_settings(mirror)) as client:
        scada = await client.list_feed("scada")
        (entry,) = pick_new(scada, set(), feed=get_feed("scada"))
        assert entry.name == names.SCADA
        assert [e.name for e in scada if e.is_duplicate_folder] == ["DUPLICATE"]
        data = await client.download(entry)
        assert data == samples.path(entry.name).read_bytes()  # zips byte for byte

        rooftop = pick_new(await client.list_feed("rooftop"), set(), feed=get_feed("rooftop"))
        assert [e.name for e in rooftop] == [
            names.ROOFTOP_SATELLITE,
            names.ROOFTOP_MEASUREMENT,
        ]


async def test_plain_csv_reports_are_served_zipped(
    mirror: RunningMirror, samples: SampleSet
) -> None:
    async with NemwebClient(_settings(mirror)) as client:
        entries = pick_new(await client.list_feed("dispatch"), set())
        served = [e.name for e in entries]
        # the 2020 report by its own name; sample_dispatchis.csv named from its content
        assert served == [
            "PUBLIC_DISPATCHIS_202001131410_0000000317693747.zip",
            "PUBLIC_DISPATCHIS_202512270005_0000000495867501.zip",
        ]
        for entry, original in zip(
            entries,
            [names.DISPATCHIS_2020, names.DISPATCHIS_2025],
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
        assert {names.REGISTRATION_LIST_XLS, names.STATIONS_JSON, names.REGISTRATION_LIST} <= extras


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
        served = [path.rsplit("/", 1)[1] for path in released]
        stamps = [parse_filename(n).stamp for n in served]
        assert stamps == sorted(stamps)
        assert served[0] == "PUBLIC_DISPATCHIS_202001131410_0000000317693747.zip"
        dispatch = pick_new(await client.list_feed("dispatch"), set())
        assert len(dispatch) == 2


async def test_unreleased_files_are_not_found(samples: SampleSet) -> None:
    async with (
        running_mirror(samples.root, release_every=60.0, auto_release=False) as mirror,
        NemwebClient(_settings(mirror)) as client,
    ):
        with pytest.raises(NemwebHTTPError) as caught:
            await client.download("/Reports/CURRENT/TradingIS_Reports/" + names.TRADINGIS)
        assert caught.value.status == 404


async def test_sample_download_for_fresh_clones(mirror: RunningMirror, tmp_path: Path) -> None:
    from nemstream_testing.fetch import download_current

    written = await download_current(
        tmp_path,
        _settings(mirror),
        registration_list="/files/" + names.REGISTRATION_LIST,
    )
    got = sorted(p.name for p in written)
    assert names.SCADA in got
    assert names.REGISTRATION_LIST in got
    assert len(got) == 7  # 2 dispatch, 1 trading, 1 scada, 2 rooftop, the list
    for path in written:
        if path.suffix == ".zip":
            assert read_report(path).tables


def _url(name: str) -> str:
    """Where the mirror serves a sample report (under its .zip name, ``#`` quoted)."""
    parsed = parse_filename(name)
    folder = nemweb_folder(parsed)
    assert folder is not None
    return quote(folder + (parsed.name if parsed.is_mmsdm else parsed.zip_name))


def _day(samples: SampleSet, *stamps: str) -> list[Path]:
    """DispatchIS zips of the sample day, by the HHMM of their interval."""
    return [
        samples.glob(f"{names.HISTORY_DAY}/PUBLIC_DISPATCHIS_20190516{stamp}_*.zip")[0]
        for stamp in stamps
    ]


@pytest.mark.faults
async def test_files_dropped_in_later_are_listed_and_served(
    samples: SampleSet, tmp_path: Path
) -> None:
    shutil.copyfile(samples.path(names.TRADINGIS), tmp_path / names.TRADINGIS)
    async with (
        running_mirror(tmp_path) as mirror,
        NemwebClient(_settings(mirror)) as client,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
    ):
        assert pick_new(await client.list_feed("dispatch"), set()) == []
        known = dict(mirror.state.catalog.files)
        shutil.copyfile(samples.path(names.SCADA), tmp_path / names.SCADA)
        shutil.copyfile(samples.path(names.DISPATCHIS_2020), tmp_path / names.DISPATCHIS_2020)

        scada = await http.get(_url(names.SCADA))  # not listed yet: found on request
        assert scada.status_code == 200
        assert scada.content == samples.path(names.SCADA).read_bytes()
        (entry,) = pick_new(await client.list_feed("dispatch"), set())  # listing was cached
        assert entry.name == parse_filename(names.DISPATCHIS_2020).zip_name
        report = read_report(await client.download(entry), name=entry.name)
        assert views.dispatch_price(report).height > 0
        # files already known were neither read nor zipped again
        assert all(mirror.state.catalog.files[key] is item for key, item in known.items())

        (tmp_path / names.TRADINGIS).unlink()
        assert pick_new(await client.list_feed("trading"), set()) == []
        assert (await http.get(_url(names.TRADINGIS))).status_code == 404
        status = (await http.get("/_mirror/status")).json()
        assert status["files"] == 2


async def test_listing_changes_when_an_old_file_is_dropped_in(
    samples: SampleSet, tmp_path: Path
) -> None:
    first, later = _day(samples, "1200", "1205")
    shutil.copy2(first, tmp_path / first.name)
    folder = get_feed("dispatch").path(Area.CURRENT)
    async with (
        running_mirror(tmp_path) as mirror,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
    ):
        before = await http.get(folder)
        assert first.name in before.text
        shutil.copy2(later, tmp_path / later.name)  # keeps its old mtime: older than the listing
        since = {"If-Modified-Since": before.headers["last-modified"]}
        after = await http.get(folder, headers=since)
        assert after.status_code == 200
        assert later.name in after.text
        assert after.headers["last-modified"] != before.headers["last-modified"]
        (tmp_path / later.name).unlink()
        gone = await http.get(folder, headers={"If-None-Match": after.headers["etag"]})
        assert gone.status_code == 200
        assert later.name not in gone.text


async def test_release_mode_queues_files_dropped_in_later(
    samples: SampleSet, tmp_path: Path
) -> None:
    early, first, second, late = _day(samples, "1155", "1200", "1205", "1210")
    for path in (first, second):
        shutil.copyfile(path, tmp_path / path.name)
    async with (
        running_mirror(tmp_path, release_every=60.0, auto_release=False) as mirror,
        NemwebClient(_settings(mirror)) as client,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
    ):
        assert (await http.post("/_mirror/release")).json()["released"].endswith(first.name)
        for path in (late, early):
            shutil.copyfile(path, tmp_path / path.name)
        archive = samples.path(names.PRICE_ARCHIVE)
        shutil.copyfile(archive, tmp_path / archive.name)

        # interval reports wait their turn, even when requested by name; history is there now
        listed = [e.name for e in pick_new(await client.list_feed("dispatch"), set())]
        assert listed == [first.name]
        assert (await http.get(_url(late.name))).status_code == 404
        month = _url(names.PRICE_ARCHIVE)
        (monthly,) = await client.list_url(month.rsplit("/", 1)[0] + "/")
        assert await client.download(monthly) == archive.read_bytes()
        status = (await http.get("/_mirror/status")).json()
        assert status["pending"] == 3
        released = []
        for _ in range(3):
            released.append((await http.post("/_mirror/release")).json()["released"])
        assert [path.rsplit("/", 1)[1] for path in released] == [
            early.name,  # older than the one already out: next in time order
            second.name,
            late.name,
        ]
        assert (await http.get(_url(late.name))).content == late.read_bytes()


async def test_release_timer_takes_files_dropped_in_after_the_queue_ran_dry(
    samples: SampleSet, tmp_path: Path
) -> None:
    first, later = _day(samples, "1200", "1205")
    shutil.copyfile(first, tmp_path / first.name)
    async with (
        running_mirror(tmp_path, release_every=0.05) as mirror,
        NemwebClient(_settings(mirror)) as client,
    ):

        async def listed(count: int) -> bool:
            return len(pick_new(await client.list_feed("dispatch"), set())) == count

        await wait_until(lambda: listed(1), within=10)
        assert mirror.state.pending == []
        shutil.copyfile(later, tmp_path / later.name)
        await wait_until(lambda: listed(2), within=10)


@pytest.mark.faults
async def test_zips_are_served_byte_for_byte_even_empty_or_truncated(
    samples: SampleSet, tmp_path: Path
) -> None:
    truncated = samples.path(names.TRADINGIS).read_bytes()[:100]
    (tmp_path / names.TRADINGIS).write_bytes(truncated)
    (tmp_path / names.SCADA).write_bytes(b"")
    async with (
        running_mirror(tmp_path) as mirror,
        NemwebClient(_settings(mirror)) as client,
        httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http,
    ):
        (tmp_path / names.ROOFTOP_SATELLITE).write_bytes(b"")  # dropped in later: a rescan
        served = [(names.TRADINGIS, truncated), (names.SCADA, b""), (names.ROOFTOP_SATELLITE, b"")]
        for name, content in served:
            response = await http.get(_url(name))
            assert response.status_code == 200
            assert response.headers["content-type"] == ZIP_TYPE
            assert response.content == content
            assert response.headers["content-length"] == str(len(content))
            head = await http.head(_url(name))
            assert head.headers["content-length"] == str(len(content))
        (entry,) = pick_new(await client.list_feed("trading"), set())
        assert entry.size == 100
        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(await client.download(entry)))
