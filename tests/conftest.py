"""Root conftest: shared fixtures come from the nemstream_testing library."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["nemstream_testing.pytest_plugin"]

# CI runs the same property-test examples every time (a red build is reproducible); locally
# Hypothesis explores new ones on each run and remembers failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")


_BY_FOLDER = {"integration": pytest.mark.integration, "e2e": pytest.mark.e2e}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by the folder it lives in, so ``-m "not integration and not e2e"`` is
    the fast unit run and no test can forget its marker."""
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in _BY_FOLDER:
            item.add_marker(_BY_FOLDER[folder])
