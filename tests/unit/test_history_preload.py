"""What `nemstream up --offline` preloads: every sample the mirror will not release as a live
interval report (the subfolders, the MMSDM/ARCHIVE files), found through the mirror's own
catalog; replay reads a folder as every file in it, recursively, in name order; a one-shot
child is bounded; `--history` is an offline option."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nemstream import _supervisor
from nemstream._supervisor import Child, _run_once, history_paths
from nemstream.cli import cli
from nemstream_fetcher._replay import replay_files
from nemstream_mirror import build_catalog
from nemstream_testing import SampleSet, names


def test_replay_reads_folders_recursively_in_name_order(tmp_path: Path) -> None:
    for name in ("b.zip", "a/z.csv", "a/c/d.zip", ".hidden", ".git/x.zip", "a/.cache/y.zip"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "a" / "loop").symlink_to(tmp_path, target_is_directory=True)  # read once
    single = tmp_path / "a" / "z.csv"
    assert replay_files([tmp_path, single]) == [
        tmp_path / "a" / "c" / "d.zip",
        tmp_path / "a" / "z.csv",
        tmp_path / "b.zip",
        single,  # a file given is replayed as given
    ]


def test_history_is_every_sample_the_mirror_does_not_release(samples: SampleSet) -> None:
    paths, skipped = history_paths(samples.root)
    releasable = {f.source for f in build_catalog(samples.root).files.values() if f.releasable}
    assert releasable and not releasable & set(paths)
    # the subfolders whole (history/, forecasts/, other/), and the top-level months
    assert samples.folder("history") in paths
    assert samples.folder(names.P5MIN_RUNS) in paths
    assert samples.path(names.SCADA_2019).parent in paths
    for name in (names.PRICE_ARCHIVE, names.ROOFTOP_MONTH, names.DVD_TRADINGINTERCONNECT):
        assert samples.path(name) in paths
    # interval reports are left to the mirror (the fetchers publish them live)
    for name in (names.DISPATCHIS_2020, names.DISPATCHIS_2025, names.SCADA, names.TRADINGIS):
        assert samples.path(name) not in paths
    # what is no MMS report is said, once each, and left out
    reasons = dict(skipped)
    for name in (names.REGISTRATION_LIST, names.REGISTRATION_LIST_XLS, names.STATIONS_JSON):
        assert "not an MMS report" in reasons[name]
    assert "SOURCES.md" not in reasons and all(p.suffix != ".md" for p in paths)


async def test_a_one_shot_child_is_bounded(tmp_path: Path) -> None:
    stop = asyncio.Event()
    failing = Child("history", [sys.executable, "-c", "raise SystemExit(3)"], {}, "36")
    assert await _run_once(failing, stop, timeout_s=30) == 3
    hanging = Child("history", [sys.executable, "-c", "import time; time.sleep(60)"], {}, "36")
    assert await _run_once(hanging, stop, timeout_s=0.5) is None  # timed out, terminated
    assert hanging.process is not None and hanging.process.returncode is not None


def test_history_is_on_by_default_offline_only(
    samples: SampleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[dict[str, Any]] = []

    async def run_stack(**kwargs: Any) -> None:
        asked.append(kwargs)

    monkeypatch.setattr(_supervisor, "run_stack", run_stack)
    runner = CliRunner()
    offline = ["up", "--offline", "--samples", str(samples.root)]
    for args in (offline, [*offline, "--no-history"], [*offline, "--history"], ["up"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert [a["history"] for a in asked] == [True, False, True, False]
    result = runner.invoke(cli, ["up", "--history"])
    assert result.exit_code == 2 and "--offline" in result.output
    assert "--history / --no-history" in runner.invoke(cli, ["up", "--help"]).output
