"""Emissions of a real SCADA interval (2019-04-29 16:30) with AEMO's real CO2EII factors (the
list of November 2017) equal Σ MW × factor × 5/60 computed here straight from the two raw CSV
files with the csv module; the units without a factor are exactly the DUIDs the list lacks;
negative MW never lowers emissions; the factor table is the mean of a DUID's generating sets."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from nemstream_aggregator import Emissions, compute, seed_from_samples
from nemstream_aggregator._emissions import Factor, factor_map
from nemstream_contracts import UNKNOWN_REGION, EmissionsRegion, UnitScada
from nemstream_fetcher import report_events
from nemstream_market import REGIONS
from nemstream_mms import read_report
from nemstream_registry import (
    emission_factors_path,
    read_co2eii,
    read_emission_factors,
    write_emission_factors,
)
from nemstream_testing import SampleSet, metric, names
from nemstream_testing.raw import mms_rows


def _raw_factors(samples: SampleSet) -> dict[str, tuple[float, str]]:
    """DUID -> (mean of its sets' factors, region), from the raw list."""
    sets: dict[str, list[float]] = defaultdict(list)
    regions: dict[str, str] = {}
    for row in mms_rows(samples.path(names.CO2EII_GENERATORS), "CO2EII,PUBLISHING"):
        sets[row["DUID"]].append(float(row["CO2E_EMISSIONS_FACTOR"]))
        regions[row["DUID"]] = row["REGIONID"]
    return {duid: (sum(v) / len(v), regions[duid]) for duid, v in sets.items()}


def _raw_scada(samples: SampleSet) -> dict[str, float]:
    rows = mms_rows(samples.path(names.SCADA_2019), "DISPATCH,UNIT_SCADA")
    return {row["DUID"]: float(row["SCADAVALUE"]) for row in rows}


def _scada_message(samples: SampleSet) -> UnitScada:
    (event,) = report_events("scada", read_report(samples.path(names.SCADA_2019)))
    assert isinstance(event.message, UnitScada)
    return event.message


def test_the_factor_table_has_one_row_per_duid_the_mean_of_its_sets(samples: SampleSet) -> None:
    factors = read_co2eii(samples.path(names.CO2EII_GENERATORS))
    raw = _raw_factors(samples)
    assert factors.height == len(raw) == 350
    assert factors["gensets"].sum() == 386
    for duid, factor, region in factors.select("duid", "factor", "regionid").iter_rows():
        assert factor == pytest.approx(raw[duid][0])
        assert region == raw[duid][1]
    bankstown = factors.filter(factors["duid"] == "BANKSPT1").row(0, named=True)
    assert (bankstown["gensets"], bankstown["factor_min"], bankstown["factor_max"]) == (
        2,
        pytest.approx(0.708),
        pytest.approx(0.90),
    )
    assert bankstown["published"].isoformat() == "2017-11-03T10:48:27"


def test_the_factor_table_is_written_atomically_and_read_back(
    samples: SampleSet, tmp_path: Path
) -> None:
    factors = read_co2eii(samples.path(names.CO2EII_GENERATORS))
    target = emission_factors_path(tmp_path)
    write_emission_factors(factors, target)
    assert read_emission_factors(target).equals(factors)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left


def test_real_interval_emissions_equal_the_sum_from_the_raw_files(
    samples: SampleSet, tmp_path: Path
) -> None:
    raw_factors = _raw_factors(samples)
    raw_scada = _raw_scada(samples)
    assert len(raw_scada) == 324
    expected: dict[str, list[float]] = {r: [0.0, 0.0] for r in REGIONS}
    for duid, mw in raw_scada.items():
        if duid in raw_factors and mw > 0:
            factor, region = raw_factors[duid]
            expected[region][0] += mw * factor * (5 / 60)
            expected[region][1] += mw * (5 / 60)
    absent = {duid for duid in raw_scada if duid not in raw_factors}
    assert len(absent) == 89  # units newer than the 2017 list (solar and wind farms mostly)

    write_emission_factors(
        read_co2eii(samples.path(names.CO2EII_GENERATORS)), emission_factors_path(tmp_path)
    )
    made = Emissions(tmp_path).message(_scada_message(samples))  # no unit registry: UNKNOWN
    assert made is not None
    message, unfactored = made
    assert isinstance(message, EmissionsRegion)
    assert unfactored == absent
    rows = {row.regionid: row for row in message.rows}
    assert set(rows) == {*REGIONS, UNKNOWN_REGION}
    for region in REGIONS:
        assert rows[region].emissions_t == pytest.approx(expected[region][0], rel=1e-12)
        assert rows[region].generation_mwh == pytest.approx(expected[region][1], rel=1e-12)
        assert rows[region].unfactored_units == 0
    assert rows[UNKNOWN_REGION].unfactored_units == len(absent)
    assert rows[UNKNOWN_REGION].unfactored_mwh == pytest.approx(
        sum(max(raw_scada[d], 0) for d in absent) * 5 / 60
    )
    assert sum(r.factored_units for r in rows.values()) == len(raw_scada) - len(absent)
    assert message.factors_file == Path(names.CO2EII_GENERATORS).name
    assert message.interval.isoformat() == "2019-04-29T16:30:00+10:00"


def test_unfactored_units_go_to_their_registry_region(samples: SampleSet) -> None:
    factors = factor_map(read_co2eii(samples.path(names.CO2EII_GENERATORS)))
    scada = _raw_scada(samples)
    regions = {"GRIFSF1": "NSW1", "BNGSF1": "NSW1", "KSP1": "QLD1"}
    computed = compute(scada.items(), factors, regions)
    rows = {row.regionid: row for row in computed.rows}
    assert rows["NSW1"].unfactored_units == 2
    assert rows["NSW1"].unfactored_mwh == pytest.approx((14.5 + 83.09) * 5 / 60)
    assert rows["QLD1"].unfactored_units == 1
    assert rows[UNKNOWN_REGION].unfactored_units == 89 - 3


def test_loads_without_a_factor_are_consumers_not_unfactored_generation(
    samples: SampleSet,
) -> None:
    factors = factor_map(read_co2eii(samples.path(names.CO2EII_GENERATORS)))
    scada = _raw_scada(samples)
    assert "DALNTHL1" in scada and "DALNTHL1" not in factors  # Dalrymple's charging unit
    regions = {"DALNTHL1": "SA1", "GRIFSF1": "NSW1"}
    computed = compute(scada.items(), factors, regions, loads={"DALNTHL1"})
    rows = {row.regionid: row for row in computed.rows}
    assert (rows["SA1"].load_units, rows["SA1"].unfactored_units) == (1, 0)
    assert "DALNTHL1" not in computed.unfactored
    assert rows["NSW1"].unfactored_units == 1  # a generator with no factor is still counted
    everything = compute(scada.items(), factors, regions)  # no registry: counted as unfactored
    assert {r.regionid: r for r in everything.rows}["SA1"].unfactored_units == 1
    # a load that has a factor (it is in the CO2EII list) is a generating unit there: kept
    factored = next(iter(factors))
    kept = compute([(factored, 10.0)], factors, {}, loads={factored})
    assert all(r.load_units == 0 for r in kept.rows)
    assert sum(r.factored_units for r in kept.rows) == 1


def test_negative_mw_never_lowers_emissions_nor_adds_generation() -> None:
    factors = {"COAL": Factor(1.0, "NSW1"), "PUMP": Factor(0.0, "NSW1")}
    computed = compute([("COAL", 120.0), ("PUMP", -300.0), ("LOAD", -50.0)], factors, {})
    nsw = next(r for r in computed.rows if r.regionid == "NSW1")
    assert nsw.emissions_t == pytest.approx(10.0)
    assert nsw.generation_mwh == pytest.approx(10.0)
    assert nsw.intensity == pytest.approx(1.0)
    assert nsw.factored_units == 2
    unknown = next(r for r in computed.rows if r.regionid == UNKNOWN_REGION)
    assert (unknown.unfactored_units, unknown.unfactored_mwh) == (1, 0.0)
    quiet = next(r for r in computed.rows if r.regionid == "TAS1")
    assert (quiet.emissions_t, quiet.generation_mwh, quiet.intensity) == (0.0, 0.0, None)


def test_no_factor_table_means_no_emissions_message(samples: SampleSet, tmp_path: Path) -> None:
    name = "nemstream_aggregator_emissions_skipped_total"
    before = metric(name, reason="no_factors")
    assert Emissions(tmp_path).message(_scada_message(samples)) is None
    assert metric(name, reason="no_factors") == before + 1  # counted, never made up as zeros


def test_with_no_table_yet_a_list_among_the_samples_seeds_it(
    samples: SampleSet, tmp_path: Path
) -> None:
    target = emission_factors_path(tmp_path)
    assert seed_from_samples(tmp_path / "nothing-here", target) is None
    assert seed_from_samples(samples.root, target) == Path(names.CO2EII_GENERATORS).name
    assert read_emission_factors(target).equals(read_co2eii(samples.path(names.CO2EII_GENERATORS)))
    assert seed_from_samples(samples.root, target) is None  # a table exists: left as it is
