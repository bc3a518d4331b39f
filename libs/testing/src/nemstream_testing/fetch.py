"""`python -m nemstream_testing.fetch`: find the real NEMWeb samples, or download a current set.

Tests and the offline demo read real NEMWeb files from ``../shared/nemweb`` (or
``$NEMSTREAM_SAMPLES_DIR``). A fresh clone without that folder gets a small set of current files
from NEMWeb instead - the newest report of each feed and AEMO's registration list - in the
ignored ``.cache/nemweb/``. Offline, it says so and exits 0: tests needing samples then skip.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from nemstream_nemweb import FEEDS, NemwebClient, NemwebError, NemwebSettings, pick_new
from nemstream_testing.samples import CACHE_DIRNAME, SAMPLES_ENV, find_samples_dir, repo_root

REGISTRATION_LIST = (
    "https://www.aemo.com.au/-/media/files/electricity/nem/participant_information/"
    "nem-registration-and-exemption-list.xlsx"
)


async def download_current(
    target: Path,
    settings: NemwebSettings | None = None,
    *,
    registration_list: str | None = REGISTRATION_LIST,
) -> list[Path]:
    """Download the two newest reports of every fetcher feed (and the registration list) into
    an existing folder `target`; returns the files written."""
    written: list[Path] = []
    async with NemwebClient(settings) as client:
        for feed in FEEDS.values():
            entries = pick_new(await client.list_feed(feed), set(), feed=feed)
            for entry in entries[-2:]:
                path = target / entry.name
                await asyncio.to_thread(path.write_bytes, await client.download(entry))
                written.append(path)
        if registration_list:
            try:
                data = await client.download(registration_list)
            except NemwebError as exc:
                print(f"registration list not downloaded: {exc}", file=sys.stderr)
            else:
                path = target / "NEM-Registration-and-Exemption-List.xlsx"
                await asyncio.to_thread(path.write_bytes, data)
                written.append(path)
    return written


def main() -> int:
    """Report the samples in use, downloading a current set when there are none."""
    found = find_samples_dir()
    if found is not None:
        print(f"NEMWeb samples: {found}")
        return 0
    cache = repo_root() / CACHE_DIRNAME
    print(
        f"no NEMWeb samples (neither ${SAMPLES_ENV} nor ../shared/nemweb): downloading a small "
        f"set of current NEMWeb files to {cache}"
    )
    cache.mkdir(parents=True, exist_ok=True)
    try:
        written = asyncio.run(download_current(cache))
    except (NemwebError, OSError) as exc:
        print(
            f"could not download samples ({exc}); tests that need them will skip", file=sys.stderr
        )
        return 0
    print(f"downloaded {len(written)} files into {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
