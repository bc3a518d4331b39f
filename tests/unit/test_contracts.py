"""Message contracts: real files make valid messages; committed JSON Schemas are current and
accept those messages; what can never be valid is refused."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from nemstream_contracts import (
    DISPATCH_PRICE,
    SUBJECTS,
    DispatchPrice,
    RooftopActual,
    TradingPrice,
    UnitScada,
    decode,
    message_id,
    schema_documents,
)
from nemstream_fetcher import feed_of_report, report_events, source_file
from nemstream_market import NEM_TZ
from nemstream_mms import iter_reports
from nemstream_testing import SampleSet, names, repo_root

SCHEMAS = repo_root() / "proto_schemas"
FEED_SAMPLES = [
    names.DISPATCHIS_2025,
    names.DISPATCHIS_2020,
    names.TRADINGIS,
    names.SCADA,
    names.ROOFTOP_MEASUREMENT,
    names.ROOFTOP_SATELLITE,
    names.PRICE_ARCHIVE,
    names.ROOFTOP_MONTH,
    names.P5MIN_FIRST_RUN,
    names.PREDISPATCH_RUN,
]


def test_committed_schemas_are_current() -> None:
    expected = schema_documents()
    on_disk = {p.name: p.read_text("utf-8") for p in SCHEMAS.iterdir() if p.is_file()}
    stale = sorted(n for n in expected if on_disk.get(n) != expected[n])
    extra = sorted(set(on_disk) - set(expected))
    assert not stale and not extra, (
        f"proto_schemas/ is stale ({stale}) or has extra files ({extra}): "
        "run `nemstream schemas export`"
    )


def test_catalog_names_every_subject_with_producer_and_consumers() -> None:
    catalog = json.loads((SCHEMAS / "catalog.json").read_text())
    assert [c["subject"] for c in catalog] == list(SUBJECTS)
    for entry in catalog:
        assert entry["producer"] and entry["consumers"]
        assert (SCHEMAS / entry["schema"]).exists()


@pytest.mark.parametrize("name", FEED_SAMPLES)
def test_real_files_make_messages_the_published_schemas_accept(
    samples: SampleSet, name: str
) -> None:
    validators = {
        s.name: jsonschema.Draft202012Validator(json.loads((SCHEMAS / s.schema_file).read_text()))
        for s in SUBJECTS.values()
    }
    count = 0
    for report in iter_reports(samples.path(name)):
        feed = feed_of_report(report)
        assert feed is not None
        for event in report_events(feed, report):
            body = event.message.model_dump_json().encode()
            assert len(body) < 1024 * 1024  # a message stays under NATS' 1 MiB
            validators[event.subject].validate(json.loads(body))
            assert decode(event.subject, body) == event.message  # round trip
            assert body.count(b'"interval":"') == 1 and b"+10:00" in body
            count += 1
    assert count > 0


def test_dispatch_file_gives_one_message_per_table_and_interval(samples: SampleSet) -> None:
    (report,) = iter_reports(samples.path(names.DISPATCHIS_2025))
    events = report_events("dispatch", report)
    assert sorted(e.subject for e in events) == [
        "nem.dispatch.interconnector.v1",
        "nem.dispatch.price.v1",
        "nem.dispatch.regionsum.v1",
    ]
    price = next(e for e in events if e.subject == DISPATCH_PRICE)
    assert isinstance(price.message, DispatchPrice)
    assert price.message.interval == datetime(2025, 12, 27, 0, 5, tzinfo=NEM_TZ)
    assert price.message.interval.isoformat() == "2025-12-27T00:05:00+10:00"
    assert {r.regionid: r.rrp for r in price.message.rows}["VIC1"] == -2.69976
    assert price.msg_id == "dispatch:sample_dispatchis.csv:DISPATCH,PRICE:202512270005"


def test_scada_keeps_negative_values_and_odd_duids(samples: SampleSet) -> None:
    (report,) = iter_reports(samples.path(names.SCADA))
    (event,) = report_events("scada", report)
    assert isinstance(event.message, UnitScada)
    rows = {r.duid: r.scadavalue for r in event.message.rows}
    assert len(rows) == 390 and sum(v < 0 for v in rows.values()) == 8
    assert "W/HOE#1" in rows  # real DUIDs carry '/' and '#'


def test_monthly_archive_gives_one_message_per_interval(samples: SampleSet) -> None:
    reports = list(iter_reports(samples.path(FEED_SAMPLES[6])))
    events = [e for r in reports for e in report_events("dispatch", r)]
    assert len(events) == len({e.interval for e in events}) == 1440  # 5 days x 288
    assert {e.msg_id.split(":")[1] for e in events} == {names.PRICE_ARCHIVE}


def test_source_file_is_the_innermost_zip() -> None:
    assert source_file("day.zip!PUBLIC_DISPATCHIS_202111080005_0000000352000000.zip!X.CSV") == (
        "PUBLIC_DISPATCHIS_202111080005_0000000352000000.zip"
    )
    assert source_file(names.DISPATCHIS_2025) == names.DISPATCHIS_2025


def _price(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "feed": "dispatch",
        "source_file": "f.zip",
        "interval": "2025-12-27T00:05:00+10:00",
        "rows": [{"regionid": "NSW1", "intervention": 0, "rrp": 33.5}],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "bad",
    [
        {"interval": "2025-12-27T00:05:00"},  # naive: whose clock?
        {"rows": []},
        {"rows": [{"regionid": "NSW1", "intervention": 0, "rrp": math.nan}]},
        {"rows": [{"regionid": "nsw", "intervention": 0, "rrp": 1.0}]},
        {"rows": [{"regionid": "NSW1", "intervention": 2, "rrp": 1.0}]},
        {"schema_version": 2},
        {"surprise": 1},
        {"rows": [{"regionid": "XYZ1", "intervention": 0, "rrp": 1.0}]},  # not a NEM region
        {"interval": "2020-03-01T00:52:00+10:00"},  # off the 5-minute grid
        {"interval": "2020-03-01T00:05:30+10:00"},  # seconds
        {  # one key twice with different prices
            "rows": [
                {"regionid": "NSW1", "intervention": 0, "rrp": 33.5},
                {"regionid": "NSW1", "intervention": 0, "rrp": 34.5},
            ]
        },
    ],
)
def test_invalid_messages_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DispatchPrice.model_validate(_price(**bad))


def test_exact_repeats_pass_the_contract_and_are_dropped_by_unique_rows() -> None:
    row = {"regionid": "NSW1", "intervention": 0, "rrp": 33.5}
    pricing, intervention = row, {**row, "intervention": 1}
    message = DispatchPrice.model_validate(_price(rows=[pricing, intervention, pricing]))
    rows, repeated = message.unique_rows()
    assert repeated == 1 and [r.intervention for r in rows] == [0, 1]


def test_each_subject_has_its_interval_grid() -> None:
    half_hour = "2025-12-27T00:30:00+10:00"
    trading = {
        "feed": "trading",
        "source_file": "f.zip",
        "rows": [{"regionid": "NSW1", "rrp": 33.5}],
    }
    TradingPrice.model_validate({**trading, "interval": half_hour, "interval_minutes": 30})
    with pytest.raises(ValidationError, match="30-minute grid"):
        TradingPrice.model_validate(
            {**trading, "interval": "2020-01-01T00:05:00+10:00", "interval_minutes": 30}
        )
    rooftop = {"feed": "rooftop", "source_file": "f.zip", "type": "MEASUREMENT"}
    row = {"regionid": "QLDN", "power": 1.0, "is_subregion": True}
    RooftopActual.model_validate({**rooftop, "interval": half_hour, "rows": [row]})
    with pytest.raises(ValidationError, match="30-minute grid"):
        RooftopActual.model_validate(
            {**rooftop, "interval": "2025-12-27T00:35:00+10:00", "rows": [row]}
        )


def test_utc_intervals_are_normalised_to_nem_time() -> None:
    message = DispatchPrice.model_validate(_price(interval="2025-12-26T14:05:00Z"))
    assert message.interval.isoformat() == "2025-12-27T00:05:00+10:00"


def test_message_ids_are_deterministic() -> None:
    when = datetime(2025, 12, 27, 0, 5, tzinfo=NEM_TZ)
    assert message_id("dispatch", "f.zip", "DISPATCH,PRICE", when) == message_id(
        "dispatch", "f.zip", "DISPATCH,PRICE", when.astimezone(NEM_TZ)
    )


def test_schema_export_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from nemstream.cli import cli

    result = CliRunner().invoke(cli, ["schemas", "export", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.iterdir())) == len(SUBJECTS) + 2
