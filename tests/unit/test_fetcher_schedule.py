"""The adaptive poll schedule: brisk around a file's due time, light otherwise, never blind."""

from __future__ import annotations

from nemstream_fetcher import PollSchedule


def test_polls_briskly_until_a_first_file_is_seen() -> None:
    schedule = PollSchedule(cadence=300)
    assert schedule.delay(0) == schedule.fast


def test_sleeps_until_shortly_before_the_next_file_is_due() -> None:
    schedule = PollSchedule(cadence=300, fast=2, slow=30, early=30, late=120)
    schedule.seen_new(1000)
    assert schedule.due() == 1300
    assert schedule.delay(1001) == 30  # light polling while far from due
    assert schedule.delay(1260) == 10  # wakes exactly when the window opens (1270)
    assert schedule.delay(1275) == 2  # inside the window
    assert schedule.delay(1400) == 2  # late, still brisk
    assert schedule.delay(1420) == 2


def test_backs_off_when_a_file_is_very_late() -> None:
    schedule = PollSchedule(cadence=300, fast=2, slow=30, early=30, late=120)
    schedule.seen_new(0)
    delays = [schedule.delay(t) for t in (420, 540, 1000, 5000)]
    assert delays == sorted(delays) and delays[-1] == 30


def test_errors_back_off_exponentially_and_reset() -> None:
    schedule = PollSchedule(cadence=300, fast=2, slow=30)
    steps = []
    for _ in range(8):
        schedule.failed()
        steps.append(schedule.delay(0))
    assert steps[:4] == [4, 8, 16, 32] and max(steps) == 120
    schedule.succeeded()
    assert schedule.delay(0) == 2


def test_compared_with_a_blind_poll() -> None:
    # over one day of 5-minute files the schedule lists about as often as a 4.5-minute poll
    # plus a few brisk polls per file, and finds each file within one fast period
    schedule = PollSchedule(cadence=300, fast=2, slow=30, early=10, late=20)
    arrivals = [i * 300.0 + 20 for i in range(288)]
    now, polls, found_after = 0.0, 0, []
    pending = list(arrivals)
    while pending:
        polls += 1
        if now >= pending[0]:
            found_after.append(now - pending.pop(0))
            schedule.seen_new(now)
        now += schedule.delay(now)
    assert max(found_after) <= 30  # first file waits for the first poll only
    assert sorted(found_after)[len(found_after) // 2] <= 2
    assert polls < 288 * 25
