"""pytest fixtures shared by every test package (registered through the root conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemstream_bus import Bus, BusSettings, NatsServer, connect
from nemstream_mirror import RunningMirror, running_mirror
from nemstream_testing.nats import nats_for_tests
from nemstream_testing.samples import SAMPLES_ENV, SampleSet, find_samples_dir


class _TestSamples(SampleSet):
    """Samples for tests: a file the folder in use lacks skips the test (the downloaded set of
    current files holds different names from the shared samples)."""

    def path(self, name: str) -> Path:
        if not self.has(name):
            pytest.skip(f"sample {name} not in {self.root}")
        return super().path(name)


@pytest.fixture(scope="session")
def samples() -> SampleSet:
    """The real NEMWeb samples; tests that need them skip with a reason when none are present."""
    root = find_samples_dir()
    if root is None:
        pytest.skip(
            f"no NEMWeb samples: set {SAMPLES_ENV}, provide ../shared/nemweb, "
            "or run `make samples` with internet access"
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
