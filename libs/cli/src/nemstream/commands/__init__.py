"""Subcommands implemented by the CLI package itself (services bring their own)."""
