"""API keys of the status page and the API (``NEMSTREAM_API_KEYS``): parsed once, refused when
malformed, compared in constant time, and never shown: only their names are."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nemstream_control import ApiKeys
from nemstream_status import StatusSettings

OPS = "ops-key-0123456789abcdef"
CI = "ci-key-fedcba9876543210"


def test_named_and_bare_keys() -> None:
    keys = ApiKeys.parse(f"ops:{OPS}, {CI} ,")
    assert keys.names == ["key2", "ops"]
    assert keys.name_of(OPS) == "ops" and keys.name_of(CI) == "key2"
    assert keys.name_of(OPS + "x") is None and keys.name_of("") is None
    assert keys and not ApiKeys.parse("") and not ApiKeys.parse(" , ")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("ops:short", "shorter than 16"),
        (f"ops:{OPS},again:{OPS}", "the same key"),
    ],
)
def test_malformed_keys_are_refused(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ApiKeys.parse(text)


def test_keys_from_headers() -> None:
    keys = ApiKeys.parse(f"ops:{OPS}")
    assert keys.from_headers(f"Bearer {OPS}", None) == "ops"
    assert keys.from_headers(f"bearer  {OPS} ", None) == "ops"
    assert keys.from_headers(None, OPS) == "ops"
    assert keys.from_headers(f"Basic {OPS}", None) is None  # not a bearer token
    assert keys.from_headers(f"Bearer {CI}", OPS) is None  # the bearer token is the one used
    assert keys.from_headers(None, None) is None


def test_keys_are_never_shown() -> None:
    keys = ApiKeys.parse(f"ops:{OPS}")
    assert OPS not in repr(keys) and OPS not in str(keys)
    settings = StatusSettings(api_keys=f"ops:{OPS}")
    assert OPS not in repr(settings)
    assert settings.log_fields()["api_keys"] == ["ops"]
    assert OPS not in str(settings.log_fields())


def test_the_setting_is_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMSTREAM_API_KEYS", "ops:tooshort")
    with pytest.raises(ValidationError, match="shorter than 16"):
        StatusSettings()
    monkeypatch.setenv("NEMSTREAM_API_KEYS", f"ops:{OPS}")
    assert StatusSettings().keys.names == ["ops"]
