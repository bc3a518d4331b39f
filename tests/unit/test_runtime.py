"""What every process shares: the log format (readable on a terminal, JSON otherwise), settings
errors in one line per variable, the crash hook that does nothing unless asked, storage faults
told apart from other failures, and `nemstream up`'s health ports."""

from __future__ import annotations

import errno
import json
import sqlite3
import sys

import polars as pl
import pytest
import structlog

from nemstream._supervisor import health_ports
from nemstream.commands.up import up  # noqa: F401 - the command imports cleanly
from nemstream_runtime import configure_logging, crash_point, get_logger, load_settings, log_format
from nemstream_store import StoreUnwritable, storage_cause
from nemstream_writer import WriterSettings


def test_log_format_follows_the_terminal_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEMSTREAM_LOG_FORMAT", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert log_format() == "console"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert log_format() == "json"
    monkeypatch.setenv("NEMSTREAM_LOG_FORMAT", "console")
    assert log_format() == "console"
    monkeypatch.setenv("NEMSTREAM_LOG_FORMAT", "xml")  # unknown: chosen by terminal, said so
    assert log_format() == "json"


@pytest.mark.parametrize("kind", ["json", "console"])
def test_log_lines_in_either_format_carry_the_bound_context(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", format=kind)
    try:
        get_logger("t", feed="dispatch").info("file_published", interval="2026-03-01T00:05")
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        structlog.reset_defaults()
    if kind == "json":
        record = json.loads(line)
        assert record["event"] == "file_published" and record["feed"] == "dispatch"
    else:
        assert "file_published" in line and "feed=dispatch" in line
        assert not line.startswith("{")


def test_bad_settings_end_in_one_line_per_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMSTREAM_WRITER_BATCH", "lots")
    with pytest.raises(SystemExit) as stopped:
        load_settings(WriterSettings)
    message = str(stopped.value)
    assert message.startswith("nemstream: invalid configuration")
    assert "NEMSTREAM_WRITER_BATCH='lots'" in message and "Traceback" not in message


def test_the_crash_hook_does_nothing_unless_its_point_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEMSTREAM_CRASH_AT", raising=False)
    crash_point("part_written")
    monkeypatch.setenv("NEMSTREAM_CRASH_AT", "published")
    crash_point("part_written")  # another point: still alive


def _polars_disk_full() -> BaseException:
    try:
        raise pl.exceptions.ComputeError(
            "failed to write parquet: No space left on device (os error 28)"
        )
    except pl.exceptions.ComputeError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "ENOSPC"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "EDQUOT"),
        (PermissionError(errno.EACCES, "Permission denied"), "EACCES"),
        (OSError(errno.EROFS, "Read-only file system"), "EROFS"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "ENOTDIR"),
        (_polars_disk_full(), "ENOSPC"),
        (sqlite3.OperationalError("database or disk is full"), "ENOSPC"),
        (StoreUnwritable("EROFS", "write"), "EROFS"),
        (ValueError("a bad value"), None),
        (OSError(errno.ECONNRESET, "Connection reset"), None),
    ],
)
def test_storage_faults_are_told_by_their_cause(error: BaseException, cause: str | None) -> None:
    assert storage_cause(error) == cause
    wrapped = RuntimeError("while writing")
    wrapped.__cause__ = error
    assert storage_cause(wrapped) == cause


def test_up_gives_every_service_its_own_health_port() -> None:
    ports = health_ports(["dispatch", "trading", "scada", "rooftop"], None)
    assert ports == {
        "fetch:dispatch": 9101,
        "fetch:trading": 9102,
        "fetch:scada": 9103,
        "fetch:rooftop": 9104,
        "write": 9110,
        "aggregate": 9111,
        "alerts": 9120,
        "mailer": 9121,
        "dashboard": 5006,
        "api": 8000,
        "status": 5011,
    }
    based = health_ports(["dispatch"], 9500)
    assert sorted(based.values()) == list(range(9500, 9500 + len(based)))
