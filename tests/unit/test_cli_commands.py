"""The umbrella CLI: every fixed command name is there (scripts and operators rely on them)."""

from __future__ import annotations

from click.testing import CliRunner

from nemstream.cli import COMMANDS, cli


def test_fixed_command_names() -> None:
    assert set(COMMANDS) >= {
        "inspect",
        "mirror",
        "registry",
        "fetch",
        "backfill",
        "replay",
        "up",
        "schemas",
    }
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
        sub = CliRunner().invoke(cli, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)


def test_backfill_rejects_unknown_feeds_and_bad_dates() -> None:
    runner = CliRunner()
    bad_feed = runner.invoke(
        cli, ["backfill", "--feed", "prices", "--from", "2024-01-01", "--to", "2024-01-02"]
    )
    assert bad_feed.exit_code == 2 and "prices" in bad_feed.output
    bad_date = runner.invoke(
        cli, ["backfill", "--feed", "dispatch", "--from", "yesterday", "--to", "2024-01-02"]
    )
    assert bad_date.exit_code == 2
