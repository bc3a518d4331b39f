"""pytest fixtures shared by every test package (registered through the root conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
