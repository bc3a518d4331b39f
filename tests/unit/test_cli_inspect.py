"""`nemstream inspect`: JSON lines per table; one-line errors; exit status tells."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from nemstream.cli import cli
from nemstream_testing import SampleSet, names


def test_inspect_prints_one_json_line_per_table(samples: SampleSet) -> None:
    path = samples.path(names.DISPATCHIS_2025)
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["table"] for r in records] == [
        "DISPATCH,CASE_SOLUTION",
        "DISPATCH,LOCAL_PRICE",
        "DISPATCH,PRICE",
        "DISPATCH,REGIONSUM",
        "DISPATCH,INTERCONNECTORRES",
        "DISPATCH,CONSTRAINT",
        "DISPATCH,INTERCONNECTION",
    ]
    price = records[2]
    assert price == {
        "file": str(path),
        "table": "DISPATCH,PRICE",
        "version": 5,
        "rows": 5,
        "columns": price["columns"],
        "first": "2025-12-27T00:05:00",
        "last": "2025-12-27T00:05:00",
    }
    assert len(price["columns"]) == 66 and price["columns"][:3] == [
        "SETTLEMENTDATE",
        "RUNNO",
        "REGIONID",
    ]


def test_inspect_reports_bad_files_and_still_the_good_ones(
    samples: SampleSet, tmp_path: Path
) -> None:
    good = samples.path(names.TRADINGIS)
    bad = tmp_path / "PUBLIC_TRADINGIS_202403031340_0000000412683300.zip"
    bad.write_bytes(good.read_bytes()[:300])
    archive = samples.path(names.PRICE_ARCHIVE)
    result = CliRunner().invoke(cli, ["inspect", str(bad), str(good), str(archive)])
    assert result.exit_code == 1
    tables = [json.loads(line)["table"] for line in result.stdout.splitlines()]
    assert tables == ["TRADING,INTERCONNECTORRES", "TRADING,PRICE", "DISPATCH,PRICE"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {bad}: not a readable zip: File is not a zip file"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "footer declares 44643 lines" in warnings[0]


def test_inspect_a_folder(samples: SampleSet) -> None:
    result = CliRunner().invoke(cli, ["inspect", str(samples.root)])
    assert result.exit_code == 0, result.stderr
    files = {json.loads(line)["file"] for line in result.stdout.splitlines()}
    assert len(files) == len([p for p in samples.files() if p.suffix.lower() in {".csv", ".zip"}])
