"""The NEMWeb client against the mirror with injected faults: retried, capped, or given up."""

from __future__ import annotations

import httpx
import pytest

from nemstream_mirror import RunningMirror
from nemstream_nemweb import (
    DownloadTooLarge,
    NemwebClient,
    NemwebHTTPError,
    NemwebSettings,
    NemwebUnavailable,
)
from nemstream_testing import SampleSet, metric

FILE = "/Reports/CURRENT/TradingIS_Reports/PUBLIC_TRADINGIS_202403031335_0000000412683134.zip"


pytestmark = pytest.mark.faults


def _client(mirror: RunningMirror, **overrides: object) -> NemwebClient:
    options: dict[str, object] = {
        "nemweb_url": mirror.url,
        "http_backoff": 0.01,
        "http_backoff_max": 0.05,
        "http_retries": 3,
        "http_timeout": 1.0,
    }
    options.update(overrides)
    return NemwebClient(NemwebSettings(**options))  # type: ignore[arg-type]


async def _fault(mirror: RunningMirror, **fault: object) -> None:
    async with httpx.AsyncClient(base_url=mirror.url, headers={"User-Agent": "t"}) as http:
        response = await http.post("/_mirror/faults", json=fault)
        assert response.status_code == 201, response.text


def _retries(reason: str) -> float:
    return metric("nemstream_nemweb_retries_total", kind="download", reason=reason)


async def test_server_errors_are_retried_then_succeed(
    mirror: RunningMirror, samples: SampleSet
) -> None:
    before = _retries("http_503")
    await _fault(mirror, path=FILE, status=503, count=2)
    async with _client(mirror) as client:
        data = await client.download(FILE)
    assert data == samples.path(FILE.rsplit("/", 1)[1]).read_bytes()
    assert _retries("http_503") - before == 2


async def test_persistent_server_errors_give_up_with_a_typed_error(mirror: RunningMirror) -> None:
    await _fault(mirror, path=FILE, status=500)
    async with _client(mirror, http_retries=2) as client:
        with pytest.raises(NemwebHTTPError) as caught:
            await client.download(FILE)
    assert caught.value.status == 500
    assert mirror.state.faults.injected == 3  # first try + 2 retries


async def test_timeouts_are_retried_then_give_up(mirror: RunningMirror) -> None:
    before = _retries("timeout")
    await _fault(mirror, path=FILE, delay=0.5)
    async with _client(mirror, http_timeout=0.1, http_retries=1) as client:
        with pytest.raises(NemwebUnavailable, match="timeout"):
            await client.download(FILE)
    assert _retries("timeout") - before == 1


async def test_not_found_is_not_retried(mirror: RunningMirror) -> None:
    async with _client(mirror) as client:
        with pytest.raises(NemwebHTTPError) as caught:
            await client.download("/Reports/CURRENT/TradingIS_Reports/missing.zip")
    assert caught.value.status == 404


async def test_download_over_the_size_cap(mirror: RunningMirror) -> None:
    async with _client(mirror, http_max_bytes=100) as client:
        with pytest.raises(DownloadTooLarge, match="over the 100-byte cap"):
            await client.download(FILE)


async def test_dropped_transfer_is_retried(mirror: RunningMirror, samples: SampleSet) -> None:
    await _fault(mirror, path=FILE, drop_after=100, count=1)
    async with _client(mirror) as client:
        data = await client.download(FILE)
    assert data == samples.path(FILE.rsplit("/", 1)[1]).read_bytes()


async def test_truncated_file_is_delivered_for_the_reader_to_reject(mirror: RunningMirror) -> None:
    from nemstream_mms import CorruptContainerError, read_report

    await _fault(mirror, path=FILE, truncate=300, count=1)
    async with _client(mirror) as client:
        data = await client.download(FILE)
    assert len(data) == 300
    with pytest.raises(CorruptContainerError):
        read_report(data, name=FILE)


async def test_listing_errors_are_retried(mirror: RunningMirror) -> None:
    await _fault(mirror, path="/Reports/CURRENT/TradingIS_Reports/", status=502, count=1)
    async with _client(mirror) as client:
        entries = await client.list_feed("trading")
    assert [e.name for e in entries if not e.is_dir] == [FILE.rsplit("/", 1)[1]]


async def test_download_many_reports_each_outcome(mirror: RunningMirror) -> None:
    missing = (
        "/Reports/CURRENT/TradingIS_Reports/PUBLIC_TRADINGIS_202403031340_0000000412683135.zip"
    )
    async with _client(mirror, http_concurrency=2) as client:
        results = {
            str(target): outcome async for target, outcome in client.download_many([FILE, missing])
        }
    assert isinstance(results[FILE], bytes)
    assert isinstance(results[missing], NemwebHTTPError)
