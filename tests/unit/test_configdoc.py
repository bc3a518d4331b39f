"""The configuration page is generated from the settings classes and is current; every variable
the README and the deployment manifests name is one some settings class reads."""

from __future__ import annotations

import re

from nemstream.commands.configdoc import every_variable, render
from nemstream_testing import repo_root

ROOT = repo_root()
READ_DIRECTLY = {
    "NEMSTREAM_LOG_LEVEL",
    "NEMSTREAM_LOG_FORMAT",
    "NEMSTREAM_CRASH_AT",
    "NEMSTREAM_TEST_ARTIFACTS",
}
"""Read from the environment by the logging set-up, the fault hook and the browser tests, not by
a settings class."""


def test_the_configuration_page_is_current() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    assert page == render(), "run: python -m nemstream.commands.configdoc > docs/configuration.md"


def test_every_variable_the_readme_names_is_read_by_a_settings_class() -> None:
    known = set(every_variable()) | READ_DIRECTLY
    named = set(re.findall(r"`(NEMSTREAM_[A-Z0-9_]+)`", (ROOT / "README.md").read_text("utf-8")))
    # the README shortens families as `NEMSTREAM_X_A` / `_B`: only whole names are checked
    unknown = sorted(n for n in named if n not in known and not n.endswith("_"))
    assert unknown == []
