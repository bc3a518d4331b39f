"""One writer per data directory: an ``flock`` on ``store/.writer.lock``, whose file says who
holds it, so a second writer exits with one line naming the first."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any


class StoreLocked(RuntimeError):
    """Another writer holds the store (one writer per data directory)."""


LOCK_FILE = ".writer.lock"
"""The writer's lock (``flock``), holding who took it: pid, host and when."""


def lock_holder(path: Path) -> str:
    """Who holds a writer lock, as its file says (``pid 123 on host since ...``)."""
    try:
        record = json.loads(path.read_text("utf-8"))
        return f"pid {record['pid']} on {record['host']} since {record['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that did not say who it is"


def take_lock(path: Path) -> Any:
    """Take the writer lock or raise `StoreLocked` naming its holder; then say who holds it."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StoreLocked(
            f"the store {path.parent} is in use by another writer ({lock_holder(path)}); one "
            "writer per data directory"
        ) from None
    handle.seek(0)
    handle.truncate()
    since = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since}))
    handle.flush()
    return handle
