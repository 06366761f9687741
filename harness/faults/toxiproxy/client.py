"""toxiproxy-python, bound to one server, with deadlines and our exceptions.

toxiproxy-python 0.1.1 keeps the server's host and port as CLASS attributes
of ``toxiproxy.api.APIConsumer``, and its ``Toxiproxy``/``Proxy`` objects call
that class directly: two servers in one process, or one run after another,
would talk to whichever server was set last. So we never touch those globals
and never use those objects: each client gets its own ``APIConsumer``
subclass with its own host and port, and calls the library's
``get``/``post``/``delete`` on it (which read ``cls.host``), passing a
timeout the library's objects never pass. The library is synchronous
(requests): the backend calls this from a worker thread.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from ...errors import FaultBackendError

__all__ = ["ToxiproxyClient", "normalise_url"]

# Statuses behind the library's exceptions (toxiproxy/api.py validate_response).
_STATUS = {ProxyExists: 409, NotFound: 404, InvalidToxic: 400}


def normalise_url(url: str) -> tuple[str, str, int]:
    """'127.0.0.1:8474' or 'http://127.0.0.1:8474/' -> (url, host, port)."""
    text = url if "://" in url else f"http://{url}"
    parts = urlsplit(text)
    if parts.scheme != "http" or not parts.hostname:
        raise FaultBackendError(f"TOXIPROXY_URL={url!r} is invalid: expected http://HOST:PORT")
    port = parts.port or 8474
    return f"http://{parts.hostname}:{port}", parts.hostname, port


def _server_message(body: Any) -> str:
    """Toxiproxy answers errors as {"error": "...", "status": N}."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return str(body).strip() or "(empty answer)"


class ToxiproxyClient:
    def __init__(self, url: str, *, connect_timeout: float = 2.0, read_timeout: float = 20.0):
        self.url, host, port = normalise_url(url)
        self.timeout = (connect_timeout, read_timeout)
        self.api: type[APIConsumer] = type(
            f"APIConsumer_{host}_{port}", (APIConsumer,),
            {"host": host, "port": port, "__module__": __name__},
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One API request; the decoded JSON answer (or text). Raises FaultBackendError."""
        what = f"toxiproxy at {self.url}: {method} {path}"
        try:
            if method == "GET":
                resp = self.api.get(path, timeout=self.timeout)
            elif method == "POST":
                resp = self.api.post(path, json=body, timeout=self.timeout)
            elif method == "DELETE":
                resp = self.api.delete(path, timeout=self.timeout)
            else:  # pragma: no cover - programming error
                raise ValueError(method)
        except (ProxyExists, NotFound, InvalidToxic) as exc:
            status = _STATUS[type(exc)]
            raise FaultBackendError(f"{what} failed: {_server_message(exc.args[0] if exc.args else '')}"
                                    f" (HTTP {status})") from exc
        except requests.Timeout as exc:
            raise FaultBackendError(f"{what} timed out after {self.timeout[1]:g}s") from exc
        except requests.ConnectionError as exc:
            raise FaultBackendError(f"{what}: server unreachable ({exc.__class__.__name__}); "
                                    f"is toxiproxy-server running?") from exc
        except requests.RequestException as exc:
            raise FaultBackendError(f"{what} failed: {exc}") from exc
        if resp.status_code >= 400:  # the library lets 5xx through
            raise FaultBackendError(f"{what} failed: {_server_message(resp.content)} "
                                    f"(HTTP {resp.status_code})")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    def version(self) -> str:
        """``/version`` is plain text up to 2.5 and JSON {"version": ...} later."""
        answer = self.call("GET", "/version")
        if isinstance(answer, dict):
            return str(answer.get("version", answer))
        return str(answer).strip()
