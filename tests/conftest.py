"""Root conftest: shared fixtures come from the nemstream_testing library."""

pytest_plugins = ["nemstream_testing.pytest_plugin"]
