"""Calls to the target through its request templates, read through its response map.

Built on aiohttp (httpx collapses under concurrency: see measurements.md). A
call never raises: a timeout, a refused connection or a garbage body is
recorded on the TargetCall as evidence about the target.
"""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser
from typing import Any

import aiohttp

from harness.clock import REAL_CLOCK, Clock
from harness.evidence.model import TargetCall
from harness.spec.paths import read_path
from harness.spec.target import RequestTemplate, ResponseSpec, Sequence, Target
from harness.spec.templates import render_value
from harness.workload.orders import Order

__all__ = ["TargetClient", "read_path", "read_outcome"]

MAX_BODY = 64 * 1024  # what we keep of a response as evidence


def read_outcome(spec: ResponseSpec, status: int | None, body: Any) -> str | None:
    out = spec.outcome
    if out.rules:
        for rule in out.rules:
            if rule.holds(status, body):
                return rule.outcome
        return out.default if status is not None else None
    if out.field and isinstance(body, dict):
        value = read_path(body, out.field)
        if value is not None:
            for outcome, values in out.map.items():
                if str(value) in values:
                    return outcome
    if status is not None and status in out.by_status:
        return out.by_status[status]
    return None


class _Sent:
    __slots__ = ("status", "raw", "headers", "cookies", "error", "t_start", "t_end")

    def __init__(self) -> None:
        self.status: int | None = None
        self.raw = b""
        self.headers: Any = {}
        self.cookies: dict[str, str] = {}
        self.error: str | None = None
        self.t_start = self.t_end = 0.0


class TargetClient:
    """Calls to the target (and, for steps a customer's browser makes, to a
    provider instance), one ``TargetCall`` per pay or lookup."""

    def __init__(self, target: Target, base_url: str, max_connections: int, clock: Clock = REAL_CLOCK,
                 provider_urls: dict[str, str] | None = None, credentials: dict[str, dict[str, str]] | None = None):
        self._target = target
        self._base = base_url
        self._max = max_connections
        self._clock = clock
        self._providers = dict(provider_urls or {})
        self._credentials = dict(credentials or {})
        self._connector: aiohttp.TCPConnector | None = None
        self._session: aiohttp.ClientSession | None = None
        self._jars: dict[str, aiohttp.ClientSession] = {}  # order id -> its session (cookies) in a sequence
        # Captured values correlations name are kept with the call (the rest, secrets included, are not).
        self._ref_names = {c.capture for b in target.providers.values() for c in b.correlate if c.capture}
        self._captured: dict[str, dict[str, Any]] = {}  # order id -> values its steps captured

    async def __aenter__(self) -> "TargetClient":
        self._connector = aiohttp.TCPConnector(limit=self._max, limit_per_host=self._max, force_close=False)
        self._session = aiohttp.ClientSession(connector=self._connector, auto_decompress=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for session in self._jars.values():
            await session.close()
        self._jars.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def pay(self, order: Order) -> TargetCall:
        return await self._call("pay", self._target.requests.pay, order)

    async def lookup(self, order: Order) -> TargetCall | None:
        if self._target.requests.lookup is None:
            return None
        return await self._call("lookup", self._target.requests.lookup, order)

    async def _call(self, kind: str, request: RequestTemplate | Sequence, order: Order) -> TargetCall:
        assert self._session is not None, "use TargetClient as an async context manager"
        if isinstance(request, Sequence):
            return await self._sequence(kind, request, order)
        sent = await self._send(self._session, request, self._base, self._context(order))
        return self._record(order, kind, sent)

    def _context(self, order: Order) -> dict[str, Any]:
        return {**order.context(), "credentials": self._credentials, **self._captured.get(order.id, {})}

    def _record(self, order: Order, kind: str, sent: _Sent, steps: list[dict] | None = None) -> TargetCall:
        body, text = _decode(sent.raw)
        outcome = read_outcome(self._target.response, sent.status, body) if sent.status is not None else None
        return TargetCall(order_id=order.id, kind=kind, t_start=sent.t_start, t_end=sent.t_end, status=sent.status,
                          body=body, text=text, error=sent.error, outcome=outcome, steps=steps or [],
                          refs=self._refs(order))

    def _refs(self, order: Order) -> dict[str, Any]:
        captured = self._captured.get(order.id, {})
        return {k: captured[k] for k in self._ref_names if k in captured}

    async def _sequence(self, kind: str, seq: Sequence, order: Order) -> TargetCall:
        session = self._jars.get(order.id)
        if session is None:
            session = self._jars[order.id] = aiohttp.ClientSession(
                connector=self._connector, connector_owner=False, auto_decompress=True,
                cookie_jar=aiohttp.CookieJar(unsafe=True))  # unsafe: cookies for 127.0.0.1 too
        captured = self._captured.setdefault(order.id, {})
        records: list[dict] = []
        payer = seq.payer
        paid: _Sent | None = None
        for i, step in enumerate(seq.steps):
            base = self._base if step.provider is None else self._providers.get(step.provider, "")
            sent = await self._send(session, step, base, self._context(order),
                                    customer=step.provider is not None)
            ok = sent.error is None and (sent.status in step.expect_status if step.expect_status
                                         else sent.status is not None and sent.status < 400)
            records.append({"name": step.name or f"step{i + 1}", "to": step.to, "method": step.method,
                            "path": _path_only(sent, step, self._context(order)), "status": sent.status,
                            "t_start": sent.t_start, "t_end": sent.t_end, "error": sent.error})
            if i == payer:
                paid = sent
            if not ok and i != payer:
                why = sent.error or f"HTTP {sent.status}"
                sent.error = f"step {records[-1]['name']} ({step.method} {records[-1]['path']}) failed: {why}"
                if paid is not None:  # a step after the payment failed: the payment's answer stands
                    return self._record(order, kind, paid, records)
                return self._failed_before_paying(order, kind, sent, records)
            for name, capture in step.capture.items():
                value = _capture(capture, sent)
                if value is not None:
                    captured[name] = value
            if not ok:  # the paying step itself failed: its answer is the payment's
                break
        assert paid is not None
        return self._record(order, kind, paid, records)

    def _failed_before_paying(self, order: Order, kind: str, sent: _Sent, records: list[dict]) -> TargetCall:
        body, text = _decode(sent.raw)
        return TargetCall(order_id=order.id, kind=kind, t_start=records[0]["t_start"], t_end=sent.t_end,
                          status=None, body=body, text=text, error=sent.error, outcome=None, steps=records,
                          refs=self._refs(order))

    async def _send(self, session: aiohttp.ClientSession, template: RequestTemplate, base: str,
                    ctx: dict[str, Any], customer: bool = False) -> _Sent:
        url = base + str(render_value(template.path, ctx))
        headers = {k: str(v) for k, v in render_value(template.headers, ctx).items()}
        if customer:
            headers[CUSTOMER_HEADER] = "customer"  # the provider journals it: the customer's attempt
        kwargs: dict[str, Any] = {"headers": headers}
        if template.json_body is not None:
            kwargs["json"] = render_value(template.json_body, ctx)
        elif template.form is not None:
            kwargs["data"] = {k: str(v) for k, v in render_value(template.form, ctx).items()}
        sent = _Sent()
        sent.t_start = self._clock.now()
        try:
            async with asyncio.timeout(template.timeout_s):
                async with session.request(template.method, url, allow_redirects=False, **kwargs) as resp:
                    sent.status = resp.status
                    sent.headers = resp.headers
                    sent.cookies = {k: m.value for k, m in resp.cookies.items()}
                    sent.raw = await resp.content.read(MAX_BODY)
        except TimeoutError:
            sent.error = f"no complete answer within {template.timeout_s:g}s"
        except aiohttp.ClientConnectorError as exc:
            sent.error = f"connection failed: {exc.os_error.strerror if exc.os_error else exc}"
        except aiohttp.ServerDisconnectedError:
            sent.error = "the target closed the connection without answering"
        except aiohttp.ClientPayloadError as exc:
            sent.error = f"truncated or malformed body: {exc}"
        except aiohttp.ClientResponseError as exc:
            sent.error = f"malformed HTTP response: {exc.message}"
        except aiohttp.ClientError as exc:
            sent.error = f"{type(exc).__name__}: {exc}"
        sent.t_end = self._clock.now()
        return sent


CUSTOMER_HEADER = "Paychaos-Actor"


def _path_only(sent: _Sent, step: RequestTemplate, ctx: dict[str, Any]) -> str:
    return str(render_value(step.path, ctx)).split("?", 1)[0]


class _FormFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "meta") and (a.get("name")):
            self.fields.setdefault(a["name"], a.get("value") if tag == "input" else a.get("content") or "")


def _capture(capture: Any, sent: _Sent) -> Any:
    """A value from an answer: JSON path, header, HTML form field (or meta tag), cookie."""
    import re

    value: Any = None
    if capture.json_path is not None:
        body, _ = _decode(sent.raw)
        value = read_path(body, capture.json_path)
    elif capture.header is not None:
        value = sent.headers.get(capture.header) if sent.headers else None
    elif capture.cookie is not None:
        value = sent.cookies.get(capture.cookie)
    elif capture.form_field is not None:
        parser = _FormFields()
        parser.feed(sent.raw.decode("utf-8", "replace"))
        value = parser.fields.get(capture.form_field)
    if value is None or capture.pattern is None:
        return value
    m = re.search(capture.pattern, str(value))
    return None if m is None else (m.group(1) if m.groups() else m.group(0))


def _decode(raw: bytes) -> tuple[Any, str]:
    if not raw:
        return None, ""
    try:
        return json.loads(raw), ""
    except (ValueError, UnicodeDecodeError):
        return None, raw[:2000].decode("utf-8", "replace")
