"""Entry point of `nemstream`: a click group that imports each subcommand only when it runs.

Subcommand names are fixed (docs/architecture.md, "Commands and environment"): operators' scripts
rely on them. Importing lazily keeps `nemstream --help` and short commands fast.
"""

from __future__ import annotations

import importlib
import os

import click

from nemstream import __version__
from nemstream_runtime import configure_logging

COMMANDS: dict[str, tuple[str, str]] = {
    "aggregate": ("nemstream_aggregator.cli:aggregate", "The 30-minute aggregator service."),
    "alerts": ("nemstream_alerts.cli:alerts", "Price alerts by SMS, data-freshness alerts."),
    "api": ("nemstream_api.cli:api", "The HTTP API for other systems (port 8000)."),
    "backfill": ("nemstream_fetcher.cli:backfill", "Publish history from ARCHIVE or MMSDM."),
    "dashboard": ("nemstream_dashboard.cli:dashboard", "The analysts' dashboard (port 5006)."),
    "fetch": ("nemstream_fetcher.cli:fetch", "The fetcher service for one feed."),
    "mailer": ("nemstream_mailer.cli:mailer", "New generating units and registry changes by mail."),
    "inspect": ("nemstream.commands.inspect:inspect", "Tables and row counts of MMS files."),
    "mirror": ("nemstream.commands.mirror:mirror", "A local NEMWeb look-alike."),
    "registry": ("nemstream_registry.cli:registry", "The unit registry (DUID to station, fuel)."),
    "replay": ("nemstream_fetcher.cli:replay", "Publish real historical files as if live."),
    "schemas": ("nemstream.commands.schemas:schemas", "Message contracts: export proto_schemas/."),
    "status": ("nemstream_status.cli:status", "The status page with repair actions (port 5011)."),
    "up": ("nemstream.commands.up:up", "The whole stack, embedded nats-server."),
    "write": ("nemstream_writer.cli:write", "The writer service: events into the store."),
}
"""Subcommand name -> (``module:attribute`` of its click command, one-line help)."""


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand name, sorted, without importing any of them."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return one subcommand."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target[0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{target[0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands with their help without importing them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nemstream")
@click.option(
    "--log-level",
    default=lambda: os.environ.get("NEMSTREAM_LOG_LEVEL", "INFO"),
    show_default="INFO (env NEMSTREAM_LOG_LEVEL)",
    help="Minimum level of the log lines written to stderr (format: NEMSTREAM_LOG_FORMAT).",
)
def cli(log_level: str) -> None:
    """nemstream: AEMO NEMWeb market data as typed events, live."""
    os.environ["NEMSTREAM_LOG_LEVEL"] = log_level  # subcommands and `up`'s services inherit it
    configure_logging(log_level)


def main() -> None:
    """Run the command line (the `nemstream` console script)."""
    cli(prog_name="nemstream")


if __name__ == "__main__":  # pragma: no cover
    main()
