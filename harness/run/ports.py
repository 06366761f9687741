"""Loopback ports and the network-safety rule: everything stays on 127.0.0.1
unless the user names a host with ``--allow-host``."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from harness.errors import DefinitionError, PortError

__all__ = ["free_port", "check_target_host", "LOOPBACK"]

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port the OS says is free now. The target binds it a moment later; if
    something else grabbed it in between the target fails to start (exit 3)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            return s.getsockname()[1]
    except OSError as exc:
        raise PortError(f"no free port on {LOOPBACK}: {exc.strerror}") from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target_host(url: str, allow_hosts: list[str]) -> None:
    """Refuse a non-loopback target unless it is explicitly allowed."""
    host = urlsplit(url).hostname or ""
    if _is_loopback(host) or host in allow_hosts:
        return
    raise DefinitionError(
        f"target base_url {url} is not on loopback; paychaos only sends faults and load to 127.0.0.1 "
        f"unless you pass --allow-host {host} (and are sure that host is yours to test)"
    )
