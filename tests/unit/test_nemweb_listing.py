"""NEMWeb listings: both real forms parse; the mirror's rendering matches the real layout."""

from __future__ import annotations

from datetime import datetime

import pytest

from nemstream_nemweb import (
    ListingEntry,
    ListingParseError,
    get_feed,
    parse_listing,
    pick_new,
    render_listing,
)
from nemstream_testing import SampleSet

SCADA_URL = "https://nemweb.com.au/Reports/CURRENT/Dispatch_SCADA/"


def test_raw_iis_listing(samples: SampleSet) -> None:
    page = samples.path("nemweb_dispatch_scada_dirlisting.html").read_text()
    entries = parse_listing(page, SCADA_URL)
    files = [e for e in entries if not e.is_dir]
    assert len({e.name for e in files}) == 578
    assert files[0].name == "PUBLIC_DISPATCHSCADA_202108311255_0000000348260618.zip"
    assert files[-1].name == "PUBLIC_DISPATCHSCADA_202109021300_0000000348376390.zip"
    assert files[0].url == SCADA_URL + files[0].name
    assert files[0].size == 3071
    assert files[0].modified == datetime(2021, 8, 31, 12, 50)
    (duplicate,) = [e for e in entries if e.is_dir]
    assert duplicate.is_duplicate_folder and duplicate.size is None
    assert duplicate.modified == datetime(2017, 5, 12, 10, 56)


def test_browser_saved_listing(samples: SampleSet) -> None:
    page = samples.path("nemweb_dirlisting.html").read_text()
    entries = parse_listing(page, "http://nemweb.com.au/Reports/Current/DispatchIS_Reports/")
    files = [e for e in entries if not e.is_dir]
    assert len({e.name for e in files}) == 577
    assert files[0].name == "PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip"
    assert files[-1].name == "PUBLIC_DISPATCHIS_202111101435_0000000352367891.zip"
    assert files[0].url.startswith("http://nemweb.com.au/Reports/Current/DispatchIS_Reports/")
    assert [e.name for e in entries if e.is_duplicate_folder] == ["DUPLICATE"]


def test_pick_new_skips_folders_seen_files_and_other_feeds(samples: SampleSet) -> None:
    page = samples.path("nemweb_dispatch_scada_dirlisting.html").read_text()
    entries = parse_listing(page, SCADA_URL)
    files = [e for e in entries if not e.is_dir]
    seen = {e.name for e in files[:-3]}
    new = pick_new(entries, seen, feed=get_feed("scada"))
    assert [e.name for e in new] == [e.name for e in files[-3:]]
    assert pick_new(entries, seen, feed=get_feed("dispatch")) == []
    recent = pick_new(entries, set(), since=datetime(2021, 9, 2, 12, 55))
    assert [e.name for e in recent] == [e.name for e in files[-2:]]


def test_render_matches_the_real_layout(samples: SampleSet) -> None:
    page = samples.path("nemweb_dispatch_scada_dirlisting.html").read_text()
    entries = parse_listing(page, SCADA_URL)
    relative = [
        ListingEntry(
            e.name, e.url.removeprefix("https://nemweb.com.au"), e.modified, e.size, e.is_dir
        )
        for e in entries
    ]
    rendered = render_listing("/Reports/CURRENT/Dispatch_SCADA/", relative)
    assert rendered == page  # byte for byte, spacing included
    assert parse_listing(rendered, SCADA_URL) == entries


def test_error_pages_are_not_listings() -> None:
    with pytest.raises(ListingParseError):
        parse_listing("<html><body><h1>Service Unavailable</h1></body></html>", SCADA_URL)
    empty = render_listing("/Reports/CURRENT/Dispatch_SCADA/", [])
    assert parse_listing(empty, SCADA_URL) == []
