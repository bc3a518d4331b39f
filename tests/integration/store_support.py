"""Store helpers for integration tests: real sample files as events, a table's rows as the
manifests list them, and writer settings that flush quickly."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import polars as pl

from nemstream_bus import NatsServer
from nemstream_fetcher import Event, feed_of_report, report_events
from nemstream_mms import iter_reports
from nemstream_store import TABLES, TableReader
from nemstream_testing import SampleSet
from nemstream_writer import WriterSettings


def events(samples: SampleSet, files: list[str]) -> list[Event]:
    """Every event the named sample files give, as the fetchers would publish them."""
    out = []
    for name in files:
        for report in iter_reports(samples.path(name)):
            feed = feed_of_report(report)
            assert feed is not None
            out += report_events(feed, report)
    return out


def rows(store: Path, table: str) -> pl.DataFrame:
    """A table's rows, read through its manifest."""
    files = TableReader(store).files(table)
    return pl.read_parquet(files) if files else pl.DataFrame(schema=TABLES[table].schema)


def duplicated_keys(store: Path, table: str) -> int:
    """How many rows share their key with another row (must always be 0)."""
    return int(rows(store, table).select(TABLES[table].key).is_duplicated().sum())


def writer_settings(tmp_path: Path, **overrides: object) -> WriterSettings:
    """A writer on the test's own data directory, flushing every 0.2 s, no health port."""
    options: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "writer_flush_s": 0.2,
        "compact_every_s": 3600,
        "metrics_port": -1,
    }
    options.update(overrides)
    return WriterSettings(**options)  # type: ignore[arg-type]


async def writer_process(
    nats: NatsServer, data: Path, *, log: Path | None = None, **env: str
) -> asyncio.subprocess.Process:
    """`python -m nemstream_writer` on `data`: stderr to `log` (appended), else a pipe; no
    registry inputs and an unreachable registry URL, so it never waits on the network."""
    options = {
        **os.environ,
        "NEMSTREAM_NATS_URL": nats.url,
        "NEMSTREAM_DATA_DIR": str(data),
        "NEMSTREAM_METRICS_PORT": "-1",
        "NEMSTREAM_WRITER_FLUSH_S": "0.2",
        "NEMSTREAM_WRITER_BATCH": "100",
        "NEMSTREAM_LOG_FORMAT": "json",
        "NEMSTREAM_SAMPLES_DIR": str(data / "no-registry-inputs"),
        "NEMSTREAM_REGISTRY_URL": "http://127.0.0.1:9/unreachable.xlsx",
        "NEMSTREAM_REGISTRY_TIMEOUT": "2",
        **env,
    }
    command = (sys.executable, "-m", "nemstream_writer")
    if log is None:
        return await asyncio.create_subprocess_exec(
            *command, env=options, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
    with log.open("ab") as sink:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            *command, env=options, stdout=asyncio.subprocess.DEVNULL, stderr=sink
        )
