"""NEMWeb directory listings (IIS's HTML), parsed into entries and rendered the same way.

Two forms are read: the raw server page (upper-case ``<A HREF="/Reports/...">``, host-relative
links) and a page saved by a browser (lower-case tags, absolute ``http://`` links). Each entry
line reads ``Weekday, Month D, YYYY  H:MM AM|PM  size <A HREF="...">name</A><br>``, with
``&lt;dir&gt;`` for a size on folders (NEMWeb lists a ``DUPLICATE/`` folder to skip). Listing
times are NEM time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urljoin

_ENTRY = re.compile(
    r"(?P<date>[A-Za-z]+,\s+[A-Za-z]+\s+\d{1,2},\s+\d{4})\s+"
    r"(?P<time>\d{1,2}:\d{2}\s*[AP]M)\s+"
    r"(?P<size>&lt;dir&gt;|<dir>|\d+)\s+"
    r"<a\s+href=\"(?P<href>[^\"]+)\">(?P<name>[^<]*)</a>",
    re.IGNORECASE,
)


class ListingParseError(ValueError):
    """A page that is not a NEMWeb directory listing (an error page, a login wall, ...)."""


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One line of a listing: a file (with its size) or a folder."""

    name: str
    url: str
    modified: datetime  # NEM time, to the minute
    size: int | None  # None for folders
    is_dir: bool

    @property
    def is_duplicate_folder(self) -> bool:
        """NEMWeb's ``DUPLICATE/`` folder, whose contents are never to be fetched."""
        return self.is_dir and self.name.strip("/").upper() == "DUPLICATE"


def parse_listing(page: str, base_url: str) -> list[ListingEntry]:
    """Entries of a listing page; links resolved against `base_url` (the page's own URL)."""
    entries: list[ListingEntry] = []
    for match in _ENTRY.finditer(page):
        stamp = " ".join(f"{match['date']} {match['time']}".split())
        try:
            modified = datetime.strptime(stamp, "%A, %B %d, %Y %I:%M %p")
        except ValueError as exc:
            raise ListingParseError(f"bad listing date {stamp!r}") from exc
        is_dir = not match["size"].isdigit()
        href = html.unescape(match["href"])
        entries.append(
            ListingEntry(
                name=unquote(html.unescape(match["name"]).strip()),
                url=urljoin(base_url, href),
                modified=modified,
                size=None if is_dir else int(match["size"]),
                is_dir=is_dir,
            )
        )
    if not entries and "[To Parent Directory]" not in page:
        raise ListingParseError("not a NEMWeb directory listing")
    return entries


def _when(moment: datetime) -> str:
    date = f"{moment:%A}, {moment:%B} {moment.day}, {moment.year}"
    hour = moment.hour % 12 or 12
    time = f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
    return f"{date:>29} {time:>8}"


def render_listing(
    path: str, entries: Iterable[ListingEntry], *, host: str = "www.nemweb.com.au"
) -> str:
    """A listing page in IIS's format, byte-compatible with NEMWeb's (hrefs host-relative)."""
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    lines = []
    for entry in entries:
        size = "<dir>" if entry.is_dir else str(entry.size or 0)
        href = html.escape(entry.url, quote=True)
        lines.append(
            f"{_when(entry.modified)} {html.escape(f'{size:>12}')} "
            f'<A HREF="{href}">{html.escape(entry.name)}</A><br>'
        )
    title = f"{host} - {path}"
    return (
        f"<html><head><title>{title}</title></head><body><H1>{title}</H1><hr>\n\n"
        f'<pre><A HREF="{parent}">[To Parent Directory]</A><br><br>'
        + "".join(lines)
        + "</pre><hr></body></html>"
    )
