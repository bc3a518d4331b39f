"""pytest fixtures shared by every test package (registered through the root conftest)."""

from __future__ import annotations

import pytest

from nemstream_testing.samples import SAMPLES_ENV, SampleSet, find_samples_dir


@pytest.fixture(scope="session")
def samples() -> SampleSet:
    """The real NEMWeb samples; tests that need them skip with a reason when none are present."""
    root = find_samples_dir()
    if root is None:
        pytest.skip(
            f"no NEMWeb samples: set {SAMPLES_ENV}, provide ../shared/nemweb, "
            "or run `make samples` with internet access"
        )
    return SampleSet(root)


def require_sample(samples: SampleSet, name: str) -> None:
    """Skip the calling test when one specific sample file is not in the folder in use."""
    if not samples.has(name):
        pytest.skip(f"sample {name} not in {samples.root}")
