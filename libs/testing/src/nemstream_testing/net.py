"""Loopback ports for servers a test or benchmark starts in another process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for servers that cannot report the one they got)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_port_block(count: int, *, start: int = 20000, stop: int = 60000) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1 right now (for a stack that
    numbers its services' ports from a base)."""
    for base in range(start, stop, count):
        sockets = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
        return base
    raise RuntimeError(f"no {count} consecutive free ports between {start} and {stop}")
