"""Faults the mirror can be told to inject, so clients are tested against real failures."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(slots=True)
class Fault:
    """What to do to requests whose path matches `path` (a glob, case-insensitive).

    * ``status``: answer with this HTTP status instead;
    * ``delay``: wait this many seconds before answering (provokes client timeouts);
    * ``truncate``: serve only the first N bytes, with a matching Content-Length (a short file);
    * ``drop_after``: declare the full length but close the connection after N bytes;
    * ``count``: how many requests to affect (-1: all, until cleared).
    """

    path: str
    status: int | None = None
    delay: float = 0.0
    truncate: int | None = None
    drop_after: int | None = None
    count: int = -1

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        """Build from the JSON of ``POST /_mirror/faults`` (unknown keys are an error)."""
        allowed = {"path", "status", "delay", "truncate", "drop_after", "count"}
        unknown = set(body) - allowed
        if unknown or "path" not in body:
            raise ValueError(f"fault needs 'path' and only {sorted(allowed)}; got {sorted(body)}")
        return cls(
            path=str(body["path"]),
            status=int(body["status"]) if body.get("status") is not None else None,
            delay=float(body.get("delay", 0.0)),
            truncate=int(body["truncate"]) if body.get("truncate") is not None else None,
            drop_after=int(body["drop_after"]) if body.get("drop_after") is not None else None,
            count=int(body.get("count", -1)),
        )

    def matches(self, path: str) -> bool:
        """Whether this fault applies to a request path (and has uses left)."""
        return self.count != 0 and fnmatchcase(path.lower(), self.path.lower())

    def use(self) -> None:
        """Count one affected request."""
        if self.count > 0:
            self.count -= 1


class Faults:
    """The active faults, first match wins."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self.injected = 0

    def add(self, fault: Fault) -> None:
        """Add a rule."""
        self._rules.append(fault)

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def take(self, path: str) -> Fault | None:
        """The rule for a request, counted as used; None when no rule applies."""
        for rule in self._rules:
            if rule.matches(path):
                rule.use()
                self.injected += 1
                return rule
        return None
