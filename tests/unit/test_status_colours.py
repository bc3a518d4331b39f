"""The status page's colours: a 5-minute feed amber after 10 minutes and red after 30, rooftop
PV (half-hourly) amber after 45 and red after 90, no data red; consumers; the worst wins."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nemstream_status import Colour, StatusSettings, consumer_colour, feed_colour, worst

MINUTE = 60.0


@pytest.mark.parametrize(
    ("feed", "minutes", "colour"),
    [
        ("dispatch", 0, Colour.GREEN),
        ("dispatch", 10, Colour.GREEN),  # exactly the limit: not yet late
        ("dispatch", 10.1, Colour.AMBER),
        ("trading", 29, Colour.AMBER),
        ("scada", 30.1, Colour.RED),
        ("rooftop", 30, Colour.GREEN),  # a 5-minute feed would be amber here
        ("rooftop", 45.1, Colour.AMBER),
        ("rooftop", 89, Colour.AMBER),
        ("rooftop", 90.1, Colour.RED),
    ],
)
def test_a_feed_goes_amber_then_red_as_it_stays_quiet(
    feed: str, minutes: float, colour: Colour
) -> None:
    amber, red = StatusSettings().thresholds(feed)
    assert feed_colour(minutes * MINUTE, amber, red) is colour


def test_default_thresholds() -> None:
    settings = StatusSettings()
    assert settings.thresholds("dispatch") == (600.0, 1800.0)
    assert settings.thresholds("rooftop") == (2700.0, 5400.0)


def test_a_feed_with_no_data_is_red() -> None:
    assert feed_colour(None, 600, 1800) is Colour.RED


def test_thresholds_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMSTREAM_STATUS_AMBER_AFTER_S", "120")
    monkeypatch.setenv("NEMSTREAM_STATUS_RED_AFTER_S", "240")
    amber, red = StatusSettings().thresholds("dispatch")
    assert feed_colour(150, amber, red) is Colour.AMBER
    assert feed_colour(250, amber, red) is Colour.RED
    monkeypatch.setenv("NEMSTREAM_STATUS_RED_AFTER_S", "60")
    with pytest.raises(ValidationError, match="must exceed"):
        StatusSettings()


def test_consumer_colours() -> None:
    assert consumer_colour(False, 0, 0, 1000) is Colour.RED  # nobody consumes
    assert consumer_colour(True, 0, 0, 1000) is Colour.GREEN
    assert consumer_colour(True, 1001, 0, 1000) is Colour.AMBER  # far behind
    assert consumer_colour(True, 5, 2, 1000) is Colour.AMBER  # a handler failing


def test_the_worst_colour_wins() -> None:
    assert worst([]) is Colour.GREEN
    assert worst([Colour.GREEN, Colour.AMBER, Colour.GREEN]) is Colour.AMBER
    assert worst([Colour.AMBER, Colour.RED, Colour.GREEN]) is Colour.RED
