"""`python -m nemstream_mirror DIR [--port N] [--release-every S]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from nemstream_mirror._server import serve
from nemstream_runtime import configure_logging


def main() -> None:
    """Serve a folder of NEMWeb files as a local NEMWeb."""
    parser = argparse.ArgumentParser(prog="nemstream-mirror", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--release-every", type=float, default=None)
    args = parser.parse_args()
    configure_logging()
    serve(args.directory, port=args.port, host=args.host, release_every=args.release_every)


if __name__ == "__main__":
    main()
