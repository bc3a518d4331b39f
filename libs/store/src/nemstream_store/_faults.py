"""Telling a store that cannot be written (a full disk, a read-only mount, lost permissions) from
any other failure, whatever layer reports it.

The cause surfaces in different clothes: an ``OSError`` with its errno from Python, a polars
``ComputeError`` whose text ends in ``(os error 28)``, SQLite's ``database or disk is full``. All
of them mean the same thing to the writer - stop acknowledging, raise the alarm, retry until the
operator has made room - so they are classified by their underlying cause, not their type.
"""

from __future__ import annotations

import contextlib
import errno
import re
import sqlite3
from collections.abc import Iterator

STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a file where the store keeps a folder",
    errno.EISDIR: "a folder where the store keeps a file",
}
"""Errors that mean the store's disk cannot take writes, and what they mean."""

_OS_ERROR = re.compile(r"os error (\d+)")
_TEXTS = {
    "no space left on device": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
    "database or disk is full": errno.ENOSPC,
    "attempt to write a readonly database": errno.EROFS,
}


class StoreUnwritable(OSError):
    """The store's disk refuses writes (full, read-only, no permission, a broken layout);
    `cause` is the errno name (``ENOSPC``, ``EDQUOT``, ``EROFS``, ``EACCES``, ``ENOTDIR`` ...)."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(getattr(errno, cause, None), detail)
        self.cause = cause
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.cause}: {self.detail}"


def storage_cause(exc: BaseException) -> str | None:
    """The errno name of a storage failure anywhere in an exception's chain, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreUnwritable):
            return current.cause
        if isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            return errno.errorcode[current.errno]
        text = str(current).lower()
        match = _OS_ERROR.search(text)
        if match and int(match.group(1)) in STORAGE_ERRNOS:
            return errno.errorcode[int(match.group(1))]
        if (
            isinstance(current, sqlite3.Error | OSError)
            or "error" in type(current).__name__.lower()
        ):
            for phrase, number in _TEXTS.items():
                if phrase in text:
                    return errno.errorcode[number]
        current = current.__cause__ or current.__context__
    return None


@contextlib.contextmanager
def unwritable_as_such(what: str) -> Iterator[None]:
    """Turn a storage failure of any layer (``OSError``, polars, SQLite) into
    `StoreUnwritable` naming its cause; other failures pass through unchanged."""
    try:
        yield
    except StoreUnwritable:
        raise
    except Exception as exc:
        cause = storage_cause(exc)
        if cause is None:
            raise
        raise StoreUnwritable(cause, f"{what}: {exc}") from exc
