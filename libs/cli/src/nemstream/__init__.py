"""The `nemstream` command line: one tool whose subcommands are nemstream's services and tools."""

__version__ = "0.1.0"
