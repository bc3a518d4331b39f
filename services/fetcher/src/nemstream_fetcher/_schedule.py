"""When to look at NEMWeb next: briskly around the moment a file is due, lightly otherwise.

NEMWeb publishes each feed on a fixed cadence (5 minutes; rooftop PV 30). Once a file has been
seen, the next one is due one cadence after it appeared: the fetcher polls every few seconds
from a little before that moment until a while after it, then, if the file is late, backs off
gradually to a light poll. Nothing seen yet (first start, catching up): poll briskly. Errors
back off exponentially. The older tools' blind 4.5-minute poll wastes requests and delays each
file by up to 4.5 minutes; this finds it within one fast-poll period.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PollSchedule:
    """Delays between listings of one feed (all times in seconds, on one clock)."""

    cadence: float
    fast: float = 1.0
    slow: float = 30.0
    early: float = 15.0  # start polling fast this long before a file is due
    late: float = 90.0  # keep polling fast this long after it was due
    last_arrival: float | None = None
    _errors: int = 0

    def seen_new(self, now: float) -> None:
        """A new file appeared at `now`."""
        self.last_arrival = now
        self._errors = 0

    def failed(self) -> None:
        """The listing failed."""
        self._errors += 1

    def succeeded(self) -> None:
        """The listing worked (whether or not it had something new)."""
        self._errors = 0

    def due(self) -> float | None:
        """When the next file is expected, if a file has been seen."""
        return None if self.last_arrival is None else self.last_arrival + self.cadence

    def delay(self, now: float) -> float:
        """Seconds to wait before the next listing."""
        if self._errors:
            return float(min(self.slow * 4, self.fast * 2 ** min(self._errors, 10)))
        due = self.due()
        if due is None:
            return self.fast
        if now < due - self.early:
            return max(self.fast, min(self.slow, due - self.early - now))
        if now <= due + self.late:
            return self.fast
        overdue = now - due - self.late
        return min(self.slow, self.fast * (1 + overdue / self.late))
