"""Shared test helpers: where the real NEMWeb samples are, and loopback servers for tests."""

from nemstream_testing.samples import (
    SAMPLES_ENV,
    SampleSet,
    find_samples_dir,
    repo_root,
)

__all__ = ["SAMPLES_ENV", "SampleSet", "find_samples_dir", "repo_root"]
