"""Locate the real NEMWeb sample files that tests and the offline demo read (never copied in)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SAMPLES_ENV = "NEMSTREAM_SAMPLES_DIR"
"""Environment variable naming a folder of real NEMWeb files (default: ../shared/nemweb)."""

CACHE_DIRNAME = ".cache/nemweb"
"""Ignored folder under the repository where `make test` downloads current files when offline
samples are absent."""


@cache
def repo_root() -> Path:
    """Return the workspace root, found by walking up to the pyproject that declares it."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "pyproject.toml"
        if candidate.is_file() and "[tool.uv.workspace]" in candidate.read_text("utf-8"):
            return parent
    return Path.cwd()


def find_samples_dir() -> Path | None:
    """The first samples folder that exists: $NEMSTREAM_SAMPLES_DIR, ../shared/nemweb, the cache."""
    configured = os.environ.get(SAMPLES_ENV)
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_dir() else None
    for path in (repo_root().parent / "shared" / "nemweb", repo_root() / CACHE_DIRNAME):
        if path.is_dir() and any(path.iterdir()):
            return path
    return None


@dataclass(frozen=True)
class SampleSet:
    """The sample folder, with helpers to pick files by name without hard-coding paths in tests."""

    root: Path

    def path(self, name: str) -> Path:
        """Return one named sample, or raise FileNotFoundError naming the folder searched."""
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(f"sample {name!r} not found in {self.root}")
        return path

    def folder(self, name: str) -> Path:
        """Return one named folder of samples (``history/dispatchis-2019-05-16``), or raise
        FileNotFoundError naming the folder searched."""
        path = self.root / name
        if not path.is_dir():
            raise FileNotFoundError(f"sample folder {name!r} not found in {self.root}")
        return path

    def has(self, name: str) -> bool:
        """Tell whether a named sample is present (the downloaded cache holds a different set)."""
        return (self.root / name).is_file()

    def files(self) -> list[Path]:
        """Every regular file in the folder except its documentation, in name order."""
        return sorted(
            p for p in self.root.iterdir() if p.is_file() and p.suffix.lower() not in {".md"}
        )

    def glob(self, pattern: str) -> list[Path]:
        """Files matching a glob, in name order."""
        return sorted(p for p in self.root.glob(pattern) if p.is_file())
