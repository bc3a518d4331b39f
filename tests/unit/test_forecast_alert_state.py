"""The early-warning state machine of issue 14, rule by rule (docs/alerts.md), and its texts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nemstream_alerts import (
    AlertSettings,
    ForecastLimits,
    ForecastState,
    Transition,
    advance,
    forecast_text,
    with_dispatch,
    with_p5min,
    with_predispatch,
)
from nemstream_market import NEM_TZ

LIMITS = ForecastLimits(high=1000, extreme=10000, recover=300, predispatch_h=2)
T0 = datetime(2026, 3, 2, 18, 0, tzinfo=NEM_TZ)
MIN = timedelta(minutes=5)


def at(step: int) -> datetime:
    """The interval `step` five-minute intervals after 18:00."""
    return T0 + step * MIN


def run(start: int, prices: dict[int, float], base: float = 90.0) -> list[tuple[datetime, float]]:
    """A P5MIN run at `start`: twelve intervals, `base` except the steps given."""
    return [(at(start + i), prices.get(start + i, base)) for i in range(12)]


class Region:
    """One region's machine, fed inputs the way the consumer feeds it."""

    def __init__(self, limits: ForecastLimits = LIMITS) -> None:
        self.limits = limits
        self.state = ForecastState()
        self.log: list[Transition] = []
        self.ignored = 0

    def _take(self, taken: ForecastState | None) -> list[str]:
        if taken is None:
            self.ignored += 1
            return []
        self.state, out = advance(self.state, taken, self.limits)
        self.log += out
        return [t.event for t in out]

    def p5min(self, start: int, prices: dict[int, float], base: float = 90.0) -> list[str]:
        rows = run(start, prices, base)
        return self._take(with_p5min(self.state, at(start), rows, self.limits))

    def predispatch(self, start: int, prices: dict[int, float]) -> list[str]:
        """A pre-dispatch run whose first half hour ends at step `start` (half hours, 12 h)."""
        rows = [(at(start + 6 * i), prices.get(start + 6 * i, 90.0)) for i in range(24)]
        return self._take(with_predispatch(self.state, at(start), rows, self.limits))

    def price(self, step: int, rrp: float) -> list[str]:
        return self._take(with_dispatch(self.state, at(step), rrp, self.limits))


def test_one_warning_per_episode_however_many_runs_forecast_it() -> None:
    region = Region()
    assert region.p5min(0, {}) == []
    assert region.p5min(1, {6: 1500}) == ["high"]
    for start in range(2, 6):  # later runs keep forecasting it, the interval moves: silent
        assert region.p5min(start, {6: 1400, 7: 1300 + start}) == []
    (warning,) = region.log
    assert (warning.point and warning.point.interval, warning.now) == (at(6), at(1))
    assert forecast_text("SA1", warning) == "⚠️ SA1 forecast $1,500 at 18:30 (in 25 min)"


def test_escalation_texts_once_and_a_lower_forecast_keeps_the_warning() -> None:
    region = Region()
    assert region.p5min(0, {5: 1200}) == ["high"]
    assert region.p5min(1, {5: 12400}) == ["extreme"]
    assert region.p5min(2, {5: 13000}) == []
    assert region.p5min(3, {5: 2000}) == []  # extreme falls to high: no text, still extreme
    assert region.state.level == "extreme"
    assert region.p5min(4, {5: 11000}) == []  # back up: the warning stood all along
    assert forecast_text("SA1", region.log[1]) == "🚨 SA1 forecast $12,400 at 18:25 (in 20 min)"


def test_straight_to_extreme_is_one_text() -> None:
    region = Region()
    assert region.p5min(0, {4: 800, 6: 15000}) == ["extreme"]
    assert region.log[0].point is not None and region.log[0].point.interval == at(6)


def test_eased_when_a_newer_run_withdraws_it_before_the_interval() -> None:
    region = Region()
    region.p5min(0, {6: 1500})
    assert region.p5min(1, {}) == ["eased"]
    eased = region.log[-1]
    assert (
        forecast_text("SA1", eased) == "✅ SA1 forecast eased: $1,500 at 18:30 no longer forecast"
    )
    assert region.p5min(2, {}) == []  # once
    assert region.p5min(3, {8: 1100}) == ["high"]  # a new episode texts again
    assert [t.episode for t in region.log] == [1, 1, 2]


def test_passed_silently_when_the_interval_comes_without_the_price() -> None:
    region = Region()
    region.p5min(0, {3: 1500})
    assert region.p5min(1, {3: 1500}) == []
    assert region.price(3, 120.0) == ["passed"]  # the dispatch price came, below the level
    assert not region.log[-1].texted and region.state.level == "none"


def test_passed_when_the_run_of_the_interval_itself_comes_first() -> None:
    region = Region()
    region.p5min(0, {3: 1500})
    assert region.p5min(3, {}) == ["passed"]  # the run's first interval is now, not ahead


def test_arrived_silently_when_the_dispatch_price_reaches_the_level() -> None:
    region = Region()
    region.p5min(0, {3: 1500, 4: 1600})
    assert region.price(1, 80.0) == []
    assert region.price(2, 1100.0) == ["arrived"]  # before the forecast interval: still arrived
    assert region.state.price == "high" and region.state.level == "none"
    # while the price is high, high forecasts are no news: no new episode
    assert region.p5min(3, {3: 1500, 4: 1600, 5: 1700}) == []
    # an extreme forecast is
    assert region.p5min(4, {6: 11000}) == ["extreme"]
    assert region.price(5, 10500.0) == ["arrived"]
    assert region.p5min(5, {6: 14000}) == []  # the price is extreme: nothing is news
    assert region.price(6, 250.0) == []  # recovered, and nothing above $1,000 forecast after now
    assert region.p5min(7, {9: 1200}) == ["high"]


def test_an_extreme_warning_is_not_ended_by_a_high_price() -> None:
    region = Region()
    region.p5min(0, {4: 12000})
    assert region.price(1, 1500.0) == []
    assert region.state.level == "extreme"
    assert region.price(4, 12500.0) == ["arrived"]


def test_a_price_recovering_under_a_standing_forecast_opens_an_episode() -> None:
    region = Region()
    region.price(0, 1500.0)
    assert region.p5min(0, {3: 1400}) == []  # high price, high forecast: no news
    assert region.price(1, 200.0) == ["high"]  # recovered: the standing forecast is news now
    assert region.log[-1].point is not None and region.log[-1].point.interval == at(3)


def test_stale_and_replayed_inputs_change_nothing() -> None:
    region = Region()
    region.p5min(2, {6: 1500})
    before = region.state
    assert region.p5min(1, {}) == []  # an older run, arriving late: ignored
    assert region.p5min(2, {}) == []  # the same run again: ignored
    assert region.ignored == 2 and region.state == before
    region.price(3, 90.0)
    assert region.price(3, 2000.0) == [] and region.price(2, 2000.0) == []
    assert region.ignored == 4 and region.state.price == "normal"


def test_predispatch_speaks_only_beyond_p5min_and_within_its_horizon() -> None:
    region = Region()
    region.p5min(0, {})  # P5MIN: 18:00 … 18:55, no crossing
    assert region.predispatch(6, {6: 5000}) == []  # 18:30 is P5MIN's: P5MIN wins
    # a run whose first half hour ends 19:00 (now: 18:30); 21:30 is beyond the 2 h horizon
    assert region.predispatch(12, {18: 2000, 42: 20000}) == ["high"]
    warning = region.log[-1]
    assert warning.point is not None and warning.point.source == "predispatch"
    assert forecast_text("SA1", warning) == "⚠️ SA1 forecast $2,000 at 19:30 (in 1 h, pre-dispatch)"
    # the horizon slides with now: at 19:30 (19:30 itself come), 21:30 is two hours ahead
    assert [region.price(step, 90.0) for step in range(1, 18)] == [[]] * 17
    assert region.price(18, 90.0) == ["extreme"]
    assert forecast_text("SA1", region.log[-1]) == (
        "🚨 SA1 forecast $20,000 at 21:30 (in 2 h, pre-dispatch)"
    )
    p5min_only = Region(ForecastLimits(1000, 10000, 300, predispatch_h=0))
    p5min_only.p5min(0, {})
    assert p5min_only.predispatch(12, {18: 2000}) == []  # 0 h: P5MIN only


def test_a_stale_p5min_run_leaves_the_later_hour_to_predispatch() -> None:
    region = Region()
    region.p5min(0, {})
    for step in range(1, 13):  # P5MIN stops; the dispatch prices go on
        region.price(step, 90.0)
    assert region.predispatch(18, {18: 1800}) == ["high"]  # 19:30, after P5MIN's 18:55


def test_the_state_survives_kv() -> None:
    region = Region()
    region.p5min(0, {6: 1500, 7: 12000})
    region.price(1, 1100.0)
    region.predispatch(18, {24: 2000})
    assert ForecastState.load(region.state.dump()) == region.state
    assert ForecastState.load(None) == ForecastState()


def test_settings_default_to_the_price_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMSTREAM_ALERT_HIGH", "5000")
    settings = AlertSettings()
    assert not settings.forecast_alerts  # opt-in
    assert (settings.forecast_high, settings.forecast_extreme) == (5000, 10000)
    assert settings.forecast_alert_predispatch_h == 2
    monkeypatch.setenv("NEMSTREAM_FORECAST_ALERTS", "true")
    monkeypatch.setenv("NEMSTREAM_FORECAST_ALERT_HIGH", "800")
    monkeypatch.setenv("NEMSTREAM_FORECAST_ALERT_EXTREME", "9000")
    monkeypatch.setenv("NEMSTREAM_FORECAST_ALERT_PREDISPATCH_H", "0")
    settings = AlertSettings()
    assert settings.forecast_alerts
    assert (settings.forecast_high, settings.forecast_extreme) == (800, 9000)
    assert settings.forecast_alert_predispatch_h == 0


def test_a_forecast_hovering_at_the_threshold_flaps_unless_easing_has_a_lower_level() -> None:
    hovering: list[dict[int, float]] = [{6: 1050}, {6: 990}, {6: 1020}, {6: 980}, {6: 1010}]
    flapping = Region()
    texts = [flapping.p5min(step, prices) for step, prices in enumerate(hovering)]
    assert texts == [["high"], ["eased"], ["high"], ["eased"], ["high"]]  # the rule
    damped = Region(ForecastLimits(1000, 10000, 300, predispatch_h=2, ease_below=800))
    texts = [damped.p5min(step, prices) for step, prices in enumerate(hovering)]
    assert texts == [["high"], [], [], [], []]  # one warning while it hovers above $800
    assert damped.p5min(5, {6: 700}) == ["eased"]  # below $800: eased, naming what still stood
    assert forecast_text("SA1", damped.log[-1]) == (
        "✅ SA1 forecast eased: $1,010 at 18:30 no longer forecast"
    )
    assert damped.p5min(6, {8: 1200}) == ["high"]  # a new episode texts again
    held = Region(ForecastLimits(1000, 10000, 300, predispatch_h=2, ease_below=800))
    held.p5min(0, {3: 1500})
    assert held.p5min(1, {3: 900}) == []  # held
    assert held.price(3, 850.0) == ["passed"]  # time reached it, the price below the level


def test_easing_below_must_be_under_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMSTREAM_FORECAST_ALERT_EASE_BELOW", "800")
    assert AlertSettings().forecast_alert_ease_below == 800
    monkeypatch.setenv("NEMSTREAM_FORECAST_ALERT_EASE_BELOW", "1000")
    with pytest.raises(ValueError, match="must be below the forecast high threshold"):
        AlertSettings()
