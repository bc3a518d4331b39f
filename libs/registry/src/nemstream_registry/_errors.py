"""Registry errors: each names the source it is about."""

from __future__ import annotations

from pathlib import Path


class RegistryError(Exception):
    """Base of the registry's errors."""


class RegistrySourceError(RegistryError):
    """A source that cannot be read as any registry input."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path.name}: {message}")


class RegistryUnavailable(RegistryError):
    """No registry file, no local list to build one from, and AEMO's list out of reach."""
