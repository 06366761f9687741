"""A free TCP port on 127.0.0.1, for servers that must be told their port."""

from __future__ import annotations

import socket

from ..errors import PortError

__all__ = ["free_loopback_port"]


def free_loopback_port() -> int:
    """Ask the OS for a free port. Another process may take it before we bind
    it again, so callers retry with a new port when their bind fails."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    except OSError as exc:
        raise PortError(f"no free TCP port on 127.0.0.1: {exc}") from exc
