"""Calls to the target through its request templates, read through its response map.

Built on aiohttp (httpx collapses under concurrency: see measurements.md). A
call never raises: a timeout, a refused connection or a garbage body is
recorded on the TargetCall as evidence about the target.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from harness.clock import REAL_CLOCK, Clock
from harness.evidence.model import TargetCall
from harness.spec.target import RequestTemplate, ResponseSpec, Target
from harness.spec.templates import render_value
from harness.workload.orders import Order

__all__ = ["TargetClient", "read_path", "read_outcome"]

MAX_BODY = 64 * 1024  # what we keep of a response as evidence


def read_path(body: Any, path: str | None) -> Any:
    """``error.action`` / ``errors.0.code`` in a JSON body; None when absent."""
    if not path:
        return None
    current = body
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


def read_outcome(spec: ResponseSpec, status: int | None, body: Any) -> str | None:
    out = spec.outcome
    if out.field and isinstance(body, dict):
        value = read_path(body, out.field)
        if value is not None:
            for outcome, values in out.map.items():
                if str(value) in values:
                    return outcome
    if status is not None and status in out.by_status:
        return out.by_status[status]
    return None


class TargetClient:
    def __init__(self, target: Target, base_url: str, max_connections: int, clock: Clock = REAL_CLOCK):
        self._target = target
        self._base = base_url
        self._max = max_connections
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "TargetClient":
        connector = aiohttp.TCPConnector(limit=self._max, limit_per_host=self._max, force_close=False)
        self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def pay(self, order: Order) -> TargetCall:
        return await self._call("pay", self._target.requests.pay, order)

    async def lookup(self, order: Order) -> TargetCall | None:
        if self._target.requests.lookup is None:
            return None
        return await self._call("lookup", self._target.requests.lookup, order)

    async def _call(self, kind: str, template: RequestTemplate, order: Order) -> TargetCall:
        assert self._session is not None, "use TargetClient as an async context manager"
        ctx = order.context()
        url = self._base + str(render_value(template.path, ctx))
        kwargs: dict[str, Any] = {"headers": {k: str(v) for k, v in render_value(template.headers, ctx).items()}}
        if template.json_body is not None:
            kwargs["json"] = render_value(template.json_body, ctx)
        elif template.form is not None:
            kwargs["data"] = {k: str(v) for k, v in render_value(template.form, ctx).items()}
        t_start = self._clock.now()
        status: int | None = None
        raw = b""
        error: str | None = None
        try:
            async with asyncio.timeout(template.timeout_s):
                async with self._session.request(template.method, url, allow_redirects=False, **kwargs) as resp:
                    status = resp.status
                    raw = await resp.content.read(MAX_BODY)
        except TimeoutError:
            error = f"no complete answer within {template.timeout_s:g}s"
        except aiohttp.ClientConnectorError as exc:
            error = f"connection failed: {exc.os_error.strerror if exc.os_error else exc}"
        except aiohttp.ServerDisconnectedError:
            error = "the target closed the connection without answering"
        except aiohttp.ClientPayloadError as exc:
            error = f"truncated or malformed body: {exc}"
        except aiohttp.ClientResponseError as exc:
            error = f"malformed HTTP response: {exc.message}"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        t_end = self._clock.now()
        body, text = _decode(raw)
        outcome = read_outcome(self._target.response, status, body) if status is not None else None
        return TargetCall(order_id=order.id, kind=kind, t_start=t_start, t_end=t_end, status=status, body=body,
                          text=text, error=error, outcome=outcome)


def _decode(raw: bytes) -> tuple[Any, str]:
    if not raw:
        return None, ""
    try:
        return json.loads(raw), ""
    except (ValueError, UnicodeDecodeError):
        return None, raw[:2000].decode("utf-8", "replace")
