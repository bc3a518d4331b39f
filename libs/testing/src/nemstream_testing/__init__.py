"""Shared test helpers: where the real NEMWeb samples are and what they are called (`names`),
and loopback servers for tests."""

from nemstream_testing import names
from nemstream_testing.metrics import metric
from nemstream_testing.net import free_port, free_port_block
from nemstream_testing.samples import (
    SAMPLES_ENV,
    SampleSet,
    find_samples_dir,
    repo_root,
)
from nemstream_testing.waiting import (
    Publishable,
    Stored,
    consumer_drained,
    publish_all,
    run_until_drained,
    running,
    stream_messages,
    wait_until,
)

__all__ = [
    "SAMPLES_ENV",
    "Publishable",
    "SampleSet",
    "Stored",
    "consumer_drained",
    "find_samples_dir",
    "free_port",
    "free_port_block",
    "metric",
    "names",
    "publish_all",
    "repo_root",
    "run_until_drained",
    "running",
    "stream_messages",
    "wait_until",
]
