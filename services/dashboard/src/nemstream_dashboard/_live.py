"""New data reaches every open page through one watcher per server process.

A single thread looks at the store's table versions (the manifests' modification times: no data
is read) every ``NEMSTREAM_DASHBOARD_LIVE_CHECK_S``. When one changes it tells every open
session, each on its own document's event loop (`Document.add_next_tick_callback`, the
thread-safe way into a Bokeh session), and the session refreshes what shows that table. Ten open
pages cost one check, not ten.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from nemstream_runtime import get_logger
from nemstream_store import TableReader

log = get_logger(__name__)

SESSIONS = Gauge("nemstream_dashboard_sessions", "Open dashboard sessions")
NOTIFIED = Counter("nemstream_dashboard_updates", "New-data notices sent to open sessions")

WATCHED = ("prices5", "prices30", "scada5", "scada30", "rooftop", "regionsum5", "interconnector5")
"""Tables whose changes a page shows."""

Refresh = Callable[[set[str]], None]


@dataclass(eq=False)
class _Session:
    document: Any  # bokeh.document.Document
    refresh: Refresh


@dataclass
class Live:
    """The process's watcher and the sessions it tells."""

    reader: TableReader
    every_s: float = 1.0
    tables: Sequence[str] = WATCHED
    versions: dict[str, int] = field(default_factory=dict)
    changed_at: float = field(default_factory=time.time)
    _sessions: dict[int, _Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching (once per process)."""
        self.versions = self._read()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dashboard-live", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()

    def subscribe(self, document: Any, refresh: Refresh) -> int:
        """Tell `refresh` (on `document`'s loop) the tables that changed; returns a handle."""
        with self._lock:
            handle = id(document)
            self._sessions[handle] = _Session(document, refresh)
            SESSIONS.set(len(self._sessions))
        return handle

    def unsubscribe(self, handle: int) -> None:
        """Forget a closed session."""
        with self._lock:
            self._sessions.pop(handle, None)
            SESSIONS.set(len(self._sessions))

    def _read(self) -> dict[str, int]:
        return {table: self.reader.version(table) for table in self.tables}

    def check(self) -> set[str]:
        """Look once; tell the sessions and return the tables that changed."""
        current = self._read()
        changed = {t for t, v in current.items() if v != self.versions.get(t)}
        self.versions = current
        if not changed:
            return changed
        self.changed_at = time.time()
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            try:
                session.document.add_next_tick_callback(
                    lambda refresh=session.refresh: refresh(changed)
                )
                NOTIFIED.inc()
            except Exception as exc:  # noqa: BLE001 - a closing session must not stop the rest
                log.debug("dashboard_notify_failed", error=repr(exc))
        log.debug("dashboard_new_data", tables=sorted(changed), sessions=len(sessions))
        return changed

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - the watcher outlives a bad read
                log.warning("dashboard_watch_failed", error=repr(exc))
