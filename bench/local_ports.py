"""A loopback port nothing listens on, for the servers a bench starts itself (the tests
have their own: ``tests/fixtures/ports.py``; bench scripts do not import the tests)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A free 127.0.0.1 port (the kernel's choice; free when this returns)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
