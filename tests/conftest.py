"""Root conftest: shared fixtures come from the nemstream_testing library."""

import os

from hypothesis import settings

pytest_plugins = ["nemstream_testing.pytest_plugin"]

# CI runs the same property-test examples every time (a red build is reproducible); locally
# Hypothesis explores new ones on each run and remembers failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")
