"""The unit registry from the real registration lists, MMS tables and OpenNEM registry."""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from click.testing import CliRunner

from nemstream.cli import cli
from nemstream_registry import (
    COLUMNS,
    FUELS,
    RegistrySettings,
    RegistrySourceError,
    aemo_fuel,
    build_registry,
    default_registry_path,
    list_date,
    load_registry,
    opennem_fuel,
    read_aemo_list,
    read_opennem,
    read_registry,
)
from nemstream_testing import SampleSet, names

NEW = names.REGISTRATION_LIST
OLD = names.REGISTRATION_LIST_XLS
MMS = [
    names.DVD_DUDETAILSUMMARY,
    names.DVD_STATION,
    names.DVD_DUDETAIL,
]


def _row(frame: pl.DataFrame, duid: str) -> dict[str, object]:
    return frame.filter(pl.col("duid") == duid).row(0, named=True)


def test_2026_list(samples: SampleSet) -> None:
    units = read_aemo_list(samples.path(NEW))
    assert units.height == 563  # 573 rows: 9 "-" placeholders and ADPBA1 listed twice
    assert units["duid"].is_unique().all()
    battery = _row(units, "VBB1")
    assert battery["station_name"] == "Victorian Big Battery"
    assert (battery["region"], battery["fuel"], battery["dispatch_type"]) == (
        "VIC1",
        "battery",
        "bidirectional",
    )
    assert (battery["capacity_mw"], battery["storage_mwh"]) == (360.0, 450.0)
    # listed twice with the same capacities: counted once
    assert _row(units, "ADPBA1")["capacity_mw"] == 7.76
    # capacity split across unit groups: summed
    assert _row(units, "COOPGWF1")["capacity_mw"] == 452.0
    coal = _row(units, "LYA1")
    assert (coal["fuel"], coal["technology"], coal["capacity_mw"]) == (
        "coal",
        "Steam Sub-Critical",
        560.0,
    )
    assert units.filter(pl.col("dispatch_type") == "load").height == 5


def test_2021_list(samples: SampleSet) -> None:
    units = read_aemo_list(samples.path(OLD))
    assert units.height == 455  # 546 rows: 12 "-" placeholders, repeated DUIDs
    # "Battery storage" (2021) and "Battery Storage" (2026) are the same fuel
    hornsdale = _row(units, "HPRG1")
    assert (hornsdale["fuel"], hornsdale["fuel_source"], hornsdale["capacity_mw"]) == (
        "battery",
        "Battery storage",
        150.0,
    )
    # capacity on the first unit row, "-" on the others
    hallett = _row(units, "AGLHAL")
    assert (hallett["fuel"], hallett["capacity_mw"], hallett["max_capacity_mw"]) == (
        "gas",
        217.0,
        255.0,
    )
    assert _row(units, "BBASEHOS")["capacity_mw"] == 3.0
    assert set(units["dispatch_type"].unique()) == {"generator", "load"}


def test_every_fuel_label_in_the_samples_is_mapped(samples: SampleSet) -> None:
    checked = 0
    for name, sheet in [(OLD, "Generators and Scheduled Loads"), (NEW, "PU and Scheduled Loads")]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = fastexcel.read_excel(str(samples.path(name))).load_sheet(sheet, dtypes="string")
        rows = raw.to_polars().select(
            "Fuel Source - Primary", "Fuel Source - Descriptor", "Technology Type - Descriptor"
        )
        for primary, descriptor, technology in rows.unique().iter_rows():
            fuel = aemo_fuel(primary, descriptor, technology)
            blank = {None, "", "-", " "}
            if primary in blank and descriptor in blank and technology in blank:
                assert fuel is None, (primary, descriptor, technology)
            else:
                assert fuel in FUELS and fuel != "other", (primary, descriptor, technology)
            checked += 1
    assert checked > 40
    assert aemo_fuel("Fossil", "Natrual Gas/ Diesel", None) == "gas"
    assert aemo_fuel("Hydro", "Grid", "Pump Storage") == "hydro"
    assert aemo_fuel("-", "Grid", "Battery and Inverter") == "battery"
    assert aemo_fuel("Geothermal", "Steam", None) == "other"


def test_opennem_fuels_and_nem_only(samples: SampleSet) -> None:
    for tech, fuel in [
        ("coal_black", "coal"),
        ("coal_brown", "coal"),
        ("gas_ccgt", "gas"),
        ("gas_wcmg", "gas"),
        ("battery_charging", "battery"),
        ("bioenergy_biomass", "biomass"),
        ("distillate", "liquid"),
        ("pumps", "hydro"),
        ("solar_utility", "solar"),
        ("aggregator_vpp", "other"),
        (None, None),
    ]:
        assert opennem_fuel(tech) == fuel
    units = read_opennem(samples.path(names.STATIONS_JSON))
    assert units.height == 663  # 676 NEM facilities, one DUID twice, interconnectors dropped
    assert set(units["region"].drop_nulls().unique()) <= {"NSW1", "QLD1", "SA1", "TAS1", "VIC1"}
    nowra = _row(units, "AGLNOW1")
    assert (nowra["station_name"], nowra["fuel"], nowra["capacity_mw"]) == (
        "West Nowra",
        "biomass",
        1.0,
    )


def test_merge_precedence(samples: SampleSet, tmp_path: Path) -> None:
    sources = [samples.path(n) for n in [OLD, *MMS, names.STATIONS_JSON, NEW]]
    registry, report = build_registry(sources, tmp_path / "units.parquet")
    assert tuple(registry.columns) == COLUMNS
    assert registry["duid"].is_unique().all()
    assert registry["duid"].to_list() == sorted(registry["duid"].to_list())
    assert [s.rows for s in report.sources][:1] == [455]
    # the 2026 list is newer than the 2021 one: its values win
    assert list_date(samples.path(NEW)) > list_date(samples.path(OLD))  # type: ignore[operator]
    assert _row(registry, "ADPBA1")["source"] == f"aemo_list:{NEW}"
    assert _row(registry, "DDPS1")["capacity_mw"] == 644.0  # 2026 list (2021 list: 643)
    # a DUID only the old list knows keeps it as its source
    assert _row(registry, "HPRG1")["source"] == f"aemo_list:{OLD}"
    # MMS fills DUIDs retired before the lists: region and station from DUDETAILSUMMARY/STATION
    mms_only = registry.filter(pl.col("source").str.starts_with("mms:"))
    assert mms_only.height > 100
    assert mms_only["region"].null_count() < mms_only.height
    assert read_registry(tmp_path / "units.parquet").equals(registry)


def test_unreadable_source_fails_unless_told_to_keep_going(
    samples: SampleSet, tmp_path: Path
) -> None:
    broken = tmp_path / names.REGISTRATION_LIST
    broken.write_bytes(samples.path(NEW).read_bytes()[:5000])
    with pytest.raises(RegistrySourceError, match=re.escape(NEW)):
        build_registry([broken, samples.path(OLD)], tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
    registry, report = build_registry(
        [broken, samples.path(OLD)], tmp_path / "out.parquet", keep_going=True
    )
    assert registry.height == 455 and len(report.failed) == 1


def test_cli_build(samples: SampleSet, tmp_path: Path) -> None:
    output = tmp_path / "units.parquet"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "registry",
            "build",
            str(samples.path(NEW)),
            str(samples.path(names.STATIONS_JSON)),
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{NEW}: 563 rows (aemo_list)" in result.stdout
    assert read_registry(output).height > 563
    bad = tmp_path / "units.json"
    bad.write_text("{not json")
    failed = runner.invoke(cli, ["registry", "build", str(bad), "-o", str(tmp_path / "x.parquet")])
    assert failed.exit_code == 1
    assert failed.stderr.strip().splitlines() == [
        "error: units.json: not readable JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    ]


def test_default_registry_is_built_once_from_the_samples(
    samples: SampleSet, tmp_path: Path
) -> None:
    settings = RegistrySettings(data_dir=tmp_path / "data", samples_dir=samples.root)
    first = load_registry(settings)
    path = default_registry_path(settings)
    assert path.exists() and first.height > 563
    built_at = path.stat().st_mtime_ns
    second = load_registry(settings)
    assert path.stat().st_mtime_ns == built_at  # loaded, not rebuilt
    assert second.equals(first)
    assert _row(first, "VBB1")["source"] == f"aemo_list:{NEW}"


def test_default_registry_without_sources_or_network(tmp_path: Path) -> None:
    from nemstream_registry import RegistryUnavailable

    settings = RegistrySettings(
        data_dir=tmp_path / "data",
        samples_dir=tmp_path,
        registry_url="http://127.0.0.1:9/nem-registration-and-exemption-list.xlsx",
        registry_timeout=2.0,
    )
    with pytest.raises(RegistryUnavailable, match="could not be downloaded"):
        load_registry(settings)
    assert not default_registry_path(settings).exists()


def test_list_dates(samples: SampleSet) -> None:
    assert list_date(samples.path(NEW)) is not None
    old = list_date(samples.path(OLD))
    assert old is not None and old.date() == datetime(2021, 8, 18).date()
