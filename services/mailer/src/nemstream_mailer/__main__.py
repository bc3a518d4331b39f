"""`python -m nemstream_mailer`: the DUID discovery mailer (same as `nemstream mailer`)."""

from __future__ import annotations

from nemstream_mailer.cli import mailer


def main() -> None:
    """Run the mailer."""
    mailer(prog_name="nemstream-mailer")


if __name__ == "__main__":
    main()
