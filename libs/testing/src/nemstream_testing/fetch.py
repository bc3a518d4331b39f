"""`python -m nemstream_testing.fetch`: say where the real samples are (download comes next)."""

from __future__ import annotations

import sys

from nemstream_testing.samples import SAMPLES_ENV, find_samples_dir


def main() -> int:
    """Report the samples folder in use."""
    found = find_samples_dir()
    if found is not None:
        print(f"NEMWeb samples: {found}")
        return 0
    print(f"no NEMWeb samples: set {SAMPLES_ENV} or provide ../shared/nemweb", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
