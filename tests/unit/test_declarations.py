"""The one-declaration rule: a table's columns are its contract's row model, a feed's tables are
its `FEED_SPECS` entry, and everything else (store schemas, the fetcher's columns, message ids,
the catalog) follows. These tests fail when two places that must agree do not."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, cast

import polars as pl
import pytest
from pydantic import Field

from nemstream_aggregator import SERIES
from nemstream_alerts import AlertSettings, ForecastAlerts, PriceAlerts
from nemstream_bus import Bus
from nemstream_contracts import (
    SUBJECTS,
    DispatchPrice,
    DispatchPriceRow,
    DispatchRegionSum,
    Mean,
    RegionSumRow,
    Subject,
    feed_subjects,
    row_model,
)
from nemstream_fetcher import FEED_SPECS
from nemstream_mailer import DuidMailer, MailerSettings
from nemstream_market import NEM_TZ
from nemstream_nemweb import FEEDS
from nemstream_store import (
    BY_SUBJECT,
    TABLES,
    SchemaMismatch,
    TableSpec,
    derive_schema,
    message_frame,
    polars_type,
)
from nemstream_writer import WriterSettings, consumer_spec


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_contract_field_is_a_column_of_its_table(name: str) -> None:
    table = TABLES[name]
    schema = table.schema
    subject = SUBJECTS[table.subject]
    if subject.mean is not None:
        source = row_model(SUBJECTS[subject.mean.source].model)
        assert source is not None
        expected = {subject.mean.key, subject.mean.measure, "intervals"}
    else:
        rows = row_model(subject.model)
        assert rows is not None
        expected = set(rows.model_fields) | set(table.message_columns)
        for field, info in rows.model_fields.items():
            assert schema[field] == polars_type(info.annotation), (name, field)
    assert expected | {table.time, "source_file"} == set(schema), name
    assert list(schema)[: len(table.key)] == list(table.key), "key columns come first"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_store_key_is_the_contract_row_key_plus_time_and_message_columns(name: str) -> None:
    table = TABLES[name]
    mean = SUBJECTS[table.subject].mean
    row_key = (mean.key,) if mean is not None else table.contract.row_key
    in_key = tuple(c for c in table.message_columns if c in table.key)
    assert table.key == (table.time, *row_key, *in_key), name


def test_every_subject_with_rows_has_one_table() -> None:
    with_rows = {name for name, s in SUBJECTS.items() if row_model(s.model) is not None}
    assert with_rows == set(BY_SUBJECT)
    assert len(BY_SUBJECT) == len(TABLES)


def test_feeds_publish_exactly_their_subjects() -> None:
    assert set(FEED_SPECS) == set(FEEDS)
    for feed, spec in FEED_SPECS.items():
        published = [p.subject for p in spec.publications]
        assert published == [s.name for s in feed_subjects(feed)], feed


@pytest.mark.parametrize(
    "publication",
    [p for spec in FEED_SPECS.values() for p in spec.publications],
    ids=lambda p: p.table,
)
def test_views_carry_every_contract_field_with_its_column_type(publication: object) -> None:
    from nemstream_fetcher import Publication

    assert isinstance(publication, Publication)
    view = publication.view.schema
    table = BY_SUBJECT[publication.subject]
    rows = row_model(publication.model)
    assert rows is not None
    for field in [*rows.model_fields, *table.message_columns]:
        assert field in view, f"{publication.table}: the view has no {field}"
        assert view[field] == table.schema[field], (publication.table, field)
    for column in publication.split_by:
        assert column in table.message_columns


def test_thirty_minute_subjects_are_what_the_aggregator_makes() -> None:
    means = {s.name: s.mean for s in SUBJECTS.values() if s.mean is not None}
    assert {series.target for series in SERIES.values()} == set(means)
    for series in SERIES.values():
        mean = means[series.target]
        assert isinstance(mean, Mean)
        assert (series.source, series.key, series.measure) == (mean.source, mean.key, mean.measure)


def _consumed() -> dict[str, set[str]]:
    """Subjects each consumer service's durable consumer reads (built as the services build
    them; no connection is made)."""
    nobody = cast(Bus, None)
    alerts = PriceAlerts(AlertSettings(metrics_port=-1), nobody)
    forecasts = ForecastAlerts(AlertSettings(metrics_port=-1), nobody)  # its own durable
    mailer = DuidMailer(MailerSettings(metrics_port=-1), nobody, pl.DataFrame({"duid": ["X"]}))
    return {
        "writer": set(consumer_spec(WriterSettings()).subjects),
        "aggregator": set(SERIES),
        "alerts": set(alerts.loop.spec.subjects) | set(forecasts.loop.spec.subjects),
        "mailer": set(mailer.loop.spec.subjects),
    }


def test_catalog_consumers_are_the_services_consumers() -> None:
    consumed = _consumed()
    for name, subject in SUBJECTS.items():
        listed = set(subject.consumers) - {"api"}  # the HTTP API's bridge comes with its issue
        reading = {service for service, subjects in consumed.items() if name in subjects}
        assert listed == reading, name


def test_a_field_added_to_a_contract_is_a_column_without_touching_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Row(DispatchPriceRow):
        x_new_measure: float | None = Field(None, description="a column added for this test")

    class Price(DispatchPrice):
        row_key: ClassVar[tuple[str, ...]] = DispatchPrice.row_key
        rows: list[Row] = Field(min_length=1)  # type: ignore[assignment]

    original = SUBJECTS["nem.dispatch.price.v1"]
    changed = Subject(
        original.name,
        Price,
        original.producer,
        original.consumers,
        original.description,
        feed=original.feed,
    )
    monkeypatch.setitem(SUBJECTS, original.name, changed)
    table = TableSpec("prices_new", original.name, "settlementdate", TABLES["prices5"].key, "")
    schema = derive_schema(table)
    assert schema["x_new_measure"] == pl.Float64()
    assert list(schema) == [*list(TABLES["prices5"].schema)[:-1], "x_new_measure", "source_file"]


def test_rows_a_table_has_no_column_for_are_refused_not_dropped() -> None:
    regionsum = DispatchRegionSum(
        feed="dispatch",
        source_file="f.zip",
        interval=datetime(2026, 3, 1, 0, 5, tzinfo=NEM_TZ),
        rows=[
            RegionSumRow(
                regionid="NSW1",
                intervention=0,
                totaldemand=1.0,
                dispatchablegeneration=2.0,
                netinterchange=3.0,
            )
        ],
    )
    with pytest.raises(SchemaMismatch, match="totaldemand"):
        message_frame(TABLES["prices5"], regionsum)
