"""NEMWeb: file names, folders and listings, and a polite async client.

>>> from nemstream_nemweb import NemwebClient, pick_new
>>> async with NemwebClient() as client:
...     entries = await client.list_feed("dispatch")
...     for entry in pick_new(entries, seen=set()):
...         data = await client.download(entry)
"""

from nemstream_nemweb._client import (
    DownloadTooLarge,
    NemwebClient,
    NemwebError,
    NemwebHTTPError,
    NemwebUnavailable,
    pick_new,
)
from nemstream_nemweb._feeds import (
    ALL_FOLDERS,
    CDEII,
    FEEDS,
    LEGACY_DISPATCH,
    MMSDM_ROOT,
    REPORTS_ROOT,
    Area,
    Feed,
    feed_of,
    get_feed,
    mmsdm_folder,
    nemweb_folder,
)
from nemstream_nemweb._filenames import (
    ROOFTOP_PUBLICATION_LAG,
    FileNameError,
    NemwebFile,
    Period,
    parse_filename,
    report_name,
    try_parse_filename,
)
from nemstream_nemweb._listing import ListingEntry, ListingParseError, parse_listing, render_listing
from nemstream_nemweb._settings import DEFAULT_NEMWEB_URL, NemwebSettings

__all__ = [
    "ALL_FOLDERS",
    "CDEII",
    "DEFAULT_NEMWEB_URL",
    "FEEDS",
    "LEGACY_DISPATCH",
    "MMSDM_ROOT",
    "REPORTS_ROOT",
    "ROOFTOP_PUBLICATION_LAG",
    "Area",
    "DownloadTooLarge",
    "Feed",
    "FileNameError",
    "ListingEntry",
    "ListingParseError",
    "NemwebClient",
    "NemwebError",
    "NemwebFile",
    "NemwebHTTPError",
    "NemwebSettings",
    "NemwebUnavailable",
    "Period",
    "feed_of",
    "get_feed",
    "mmsdm_folder",
    "nemweb_folder",
    "parse_filename",
    "parse_listing",
    "pick_new",
    "render_listing",
    "report_name",
    "try_parse_filename",
]
