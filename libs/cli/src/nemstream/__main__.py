"""`python -m nemstream` runs the command line."""

from nemstream.cli import main

main()
