"""API keys: who may act (and, when reads are private, read). ``NEMSTREAM_API_KEYS`` is a comma
list of ``name:key`` pairs (a bare ``key`` is named ``key1``, ``key2``, ...); the name is what logs
and jobs record, the key itself never is."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

MIN_KEY_LENGTH = 16
"""Shorter keys are refused: they could be guessed."""


class KeyRefused(Exception):
    """A request's key does not allow it: the HTTP status to answer, a sentence to send, and a
    short reason for metrics and logs."""

    def __init__(self, status: int, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """The keys an HTTP service accepts, by name (never shown by ``repr``: it would log them)."""

    keys: dict[str, str] = field(default_factory=dict, repr=False)  # key -> name

    @classmethod
    def parse(cls, value: str) -> ApiKeys:
        """Keys from the setting's text (empty: none, so actions are refused)."""
        keys: dict[str, str] = {}
        for index, item in enumerate((p.strip() for p in value.split(",")), start=1):
            if not item:
                continue
            name, sep, key = item.partition(":")
            if not sep:
                name, key = "", name
            name, key = name.strip() or f"key{index}", key.strip()
            if len(key) < MIN_KEY_LENGTH:
                raise ValueError(f"API key {name!r} is shorter than {MIN_KEY_LENGTH} characters")
            if key in keys:
                raise ValueError(f"API key {name!r} is the same key as {keys[key]!r}")
            keys[key] = name
        return cls(keys)

    def __bool__(self) -> bool:
        return bool(self.keys)

    @property
    def names(self) -> list[str]:
        """The keys' names (what may be shown and logged)."""
        return sorted(self.keys.values())

    def name_of(self, presented: str | None) -> str | None:
        """The name of the key presented, or None; compared in constant time."""
        if not presented:
            return None
        found = None
        for key, name in self.keys.items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                found = name
        return found

    def from_headers(self, authorization: str | None, x_api_key: str | None) -> str | None:
        """The name of the key in ``Authorization: Bearer <key>`` or ``X-API-Key``, or None."""
        return self.name_of(_presented(authorization, x_api_key))

    def reader(
        self, authorization: str | None, x_api_key: str | None, *, required: bool
    ) -> str | None:
        """Who reads: the key's name, None for an anonymous read (allowed unless `required`);
        `KeyRefused` (401) for a key that is not one of these, or none where one is needed."""
        name = self.from_headers(authorization, x_api_key)
        if name is None and _presented(authorization, x_api_key):
            raise KeyRefused(401, "the API key is not valid", "bad_key")
        if name is None and required:
            raise KeyRefused(401, NEEDED, "no_key")
        return name

    def actor(self, authorization: str | None, x_api_key: str | None) -> str:
        """Who acts: always a valid key's name; `KeyRefused` 403 while no keys are configured
        (actions are off), 401 for a missing or wrong key."""
        if not self.keys:
            raise KeyRefused(
                403, "actions are disabled until NEMSTREAM_API_KEYS is set", "actions_disabled"
            )
        name = self.reader(authorization, x_api_key, required=True)
        assert name is not None  # required: reader refused an anonymous request
        return name


NEEDED = "an API key is needed: send Authorization: Bearer <key> (or X-API-Key: <key>)"


def _presented(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request presents, if any (a Bearer token first)."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return x_api_key or None
