"""Shared test helpers: where the real NEMWeb samples are, and loopback servers for tests."""

from nemstream_testing.samples import (
    SAMPLES_ENV,
    SampleSet,
    find_samples_dir,
    repo_root,
)
from nemstream_testing.waiting import Stored, stream_messages, wait_until

__all__ = [
    "SAMPLES_ENV",
    "SampleSet",
    "Stored",
    "find_samples_dir",
    "repo_root",
    "stream_messages",
    "wait_until",
]
