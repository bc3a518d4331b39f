"""pytest fixtures shared by every test package (registered through the root conftest)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import pytest

from nemstream_bus import Bus, BusSettings, NatsServer, connect
from nemstream_mirror import RunningMirror, running_mirror
from nemstream_testing.nats import nats_for_tests
from nemstream_testing.samples import SAMPLES_ENV, SampleSet, find_samples_dir


def _missing(reason: str) -> NoReturn:
    """Skip a test whose samples are absent, except in CI (``CI`` set), where a test that cannot
    run is a failure: a build must never pass by skipping what it was meant to check."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: samples are required, not skipped)", pytrace=False)
    pytest.skip(reason)


class _TestSamples(SampleSet):
    """Samples for tests: a file the folder in use lacks skips the test (the downloaded set of
    current files holds different names from the shared samples), or fails it in CI."""

    def path(self, name: str) -> Path:
        if not self.has(name):
            _missing(f"sample {name} not in {self.root}")
        return super().path(name)

    def folder(self, name: str) -> Path:
        if not (self.root / name).is_dir():
            _missing(f"sample folder {name} not in {self.root}")
        return super().folder(name)


@pytest.fixture(scope="session")
def samples() -> SampleSet:
    """The real NEMWeb samples; tests that need them skip with a reason when none are present
    (and fail, saying what to do, in CI)."""
    root = find_samples_dir()
    if root is None:
        _missing(
            f"no NEMWeb samples: set {SAMPLES_ENV} to a folder of real NEMWeb files, provide "
            "../shared/nemweb, or run `make samples` with internet access"
        )
    return _TestSamples(root)


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[NatsServer]:
    """A real nats-server with JetStream for one test: its own port and store directory."""
    async with nats_for_tests(tmp_path / "nats") as server:
        yield server


@pytest.fixture
async def bus(nats_server: NatsServer) -> AsyncIterator[Bus]:
    """A connected Bus (streams declared) on the test's own nats-server."""
    connected = await connect(BusSettings(nats_url=nats_server.url), name="test", wait_s=10)
    try:
        yield connected
    finally:
        await connected.close()


@pytest.fixture
async def mirror(samples: SampleSet) -> AsyncIterator[RunningMirror]:
    """The local NEMWeb mirror over the samples, everything visible at once."""
    async with running_mirror(samples.root) as running:
        yield running
