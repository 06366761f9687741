"""HTTP/1.1 on ``asyncio.Protocol`` and the httptools (llhttp) parser.

Why not an ASGI framework: faults need the wire (close without answering,
answer late only if the client is still there, notice a client that left),
and a protocol-level server is ~3x faster than starlette/uvicorn on one core
(see shared/reference/measurements.md).

The handler is a plain callable ``handler(request) -> Reply | Awaitable[Reply]``.
A ``Reply`` is returned synchronously on the hot path (no task per request);
only slow work (a ``delay`` fault) returns an awaitable. Pipelined requests
are answered strictly in order: while one is awaited, later ones queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from http import HTTPStatus

import httptools

__all__ = ["Request", "Reply", "HttpConnection", "build_response", "status_line", "DELIVERED", "DROPPED",
           "CLIENT_GONE"]

log = logging.getLogger("mock_providers.http")

DELIVERED = "delivered"
DROPPED = "dropped"
CLIENT_GONE = "client_gone"

_monotonic = time.monotonic

# Pipelined requests parked behind a slow one before we stop reading the socket.
_MAX_QUEUED = 64

_STATUS_LINES = {
    s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("latin-1")) for s in HTTPStatus
}


def status_line(status: int) -> bytes:
    return _STATUS_LINES.get(status) or b"HTTP/1.1 %d Unknown\r\n" % status


def build_response(status: int, body: bytes, headers: bytes = b"", content_type: bytes = b"application/json") -> bytes:
    """Serialise one response. ``headers`` is pre-joined ``Name: value\\r\\n`` lines."""
    line = _STATUS_LINES.get(status) or b"HTTP/1.1 %d Unknown\r\n" % status
    return b"%sContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n%s" % (
        line, content_type, len(body), headers, body)


class Request:
    """One parsed request. Header names are lower-case bytes; values raw bytes."""

    __slots__ = ("method", "path", "query", "headers", "body", "keep_alive", "t_start", "conn")

    def __init__(self, method, path, query, headers, body, keep_alive, t_start, conn):
        self.method: str = method
        self.path: str = path
        self.query: str = query
        self.headers: dict[bytes, bytes] = headers
        self.body: bytes = body
        self.keep_alive: bool = keep_alive
        self.t_start: float = t_start  # time.monotonic() when the request began
        self.conn: HttpConnection = conn

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")


class Reply:
    """What to put on the wire. ``data=None`` closes without answering.

    ``record`` (optional) receives ``delivery`` and ``t_end`` once the
    connection knows them: the journal entry of the request.
    """

    __slots__ = ("data", "close", "record")

    def __init__(self, data: bytes | None, close: bool = False, record=None):
        self.data = data
        self.close = close
        self.record = record


class _Reject(Exception):
    """Raised from a parser callback to refuse a request (e.g. body too large)."""


class HttpConnection(asyncio.Protocol):
    """One client connection. ``server`` provides ``handler``, ``max_body``,
    ``connections`` (a set) and ``loop``."""

    def __init__(self, server):
        self._server = server
        self._handler = server.handler
        self._max_body = server.max_body
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._queue: deque[Request] = deque()
        self._busy = False  # an awaited reply is outstanding
        self._paused = False
        self._closing = False  # we decided to close: ignore further requests
        self.closed = False  # the transport is gone (either side)
        self.closed_at: float | None = None
        # Idle detection without a clock read per packet: data_received sets
        # _active; the server's 1 s ticker turns that into last_active.
        self._active = False
        self.last_active = _monotonic()
        self._reject: tuple[int, str] | None = None
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] | None = None
        self._body_len = 0
        self._t = 0.0
        # Which of the caller's connections, and how many reply bytes it has been
        # written so far: a proxy in front can say whether a reply's last byte
        # (``record.conn``) ever reached the caller.
        self.peer_port = 0
        self.sent = 0

    # -- asyncio.Protocol ---------------------------------------------------
    def connection_made(self, transport):
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.peer_port = peer[1] if peer else 0
        self._server.connections.add(self)

    def connection_lost(self, exc):
        self.closed = True
        self.closed_at = _monotonic()
        self._server.connections.discard(self)
        # The parser holds us as its callback object, the transport holds us as its
        # protocol: break both cycles so the connection is freed by reference
        # counting (the provider process rarely runs the cyclic GC, see gctune).
        self._parser = None
        self._transport = None

    def data_received(self, data):
        self._active = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            status, msg = self._reject or (500, "internal error")
            self._refuse(status, msg)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrade is not supported")
        except httptools.HttpParserError as exc:
            self._refuse(400, f"malformed HTTP request: {exc}")

    def pause_writing(self):
        # The client is not reading its answers: stop reading its requests.
        self._transport.pause_reading()

    def resume_writing(self):
        if not self._paused:
            self._transport.resume_reading()

    # -- httptools callbacks ------------------------------------------------
    def on_message_begin(self):
        self._url = b""
        self._headers = {}
        self._body = None
        self._t = _monotonic()

    def on_url(self, url):
        self._url += url

    def on_header(self, name, value):
        name = name.lower()
        headers = self._headers
        if name in headers:
            headers[name] += b", " + value
        else:
            headers[name] = value

    def on_body(self, body):
        if self._body is None:
            self._body = [body]
            self._body_len = len(body)
        else:
            self._body.append(body)
            self._body_len += len(body)
        if self._body_len > self._max_body:
            self._reject = (413, f"request body larger than {self._max_body} bytes")
            raise _Reject

    def on_message_complete(self):
        if self._closing:
            return
        path, _, query = self._url.decode("utf-8", "replace").partition("?")
        body = self._body
        parser = self._parser
        req = Request(
            parser.get_method().decode("ascii", "replace"), path, query, self._headers,
            b"" if body is None else body[0] if len(body) == 1 else b"".join(body),
            parser.should_keep_alive(), self._t, self,
        )
        if self._busy:
            self._queue.append(req)
            if len(self._queue) >= _MAX_QUEUED and not self._paused:
                self._paused = True
                self._transport.pause_reading()
            return
        self._dispatch(req)

    # -- dispatch -----------------------------------------------------------
    def _dispatch(self, req: Request) -> None:
        try:
            result = self._handler(req)
        except Exception:
            log.exception("handler failed on %s %s", req.method, req.path)
            result = Reply(build_response(500, b'{"error":"mock provider bug; see its stderr"}'), close=True)
        if result.__class__ is Reply:
            self._send(result, req)
        else:
            self._busy = True
            self._server.loop.create_task(self._await(result, req))

    async def _await(self, awaitable, req: Request) -> None:
        try:
            reply = await awaitable
        except Exception:
            log.exception("handler failed on %s %s", req.method, req.path)
            reply = Reply(build_response(500, b'{"error":"mock provider bug; see its stderr"}'), close=True)
        self._send(reply, req)
        self._busy = False
        # Requests that arrived behind the slow one, in order; stop if one is slow too.
        while self._queue and not self._busy and not self._closing:
            self._dispatch(self._queue.popleft())
        if self._paused and not self._busy and not self.closed:
            self._paused = False
            self._transport.resume_reading()

    def _send(self, reply: Reply, req: Request) -> None:
        record = reply.record
        if self.closed:
            # The client left while we worked (e.g. its timeout fired): nothing is sent.
            if record is not None:
                record.delivery = CLIENT_GONE
                record.t_end = self.closed_at
            return
        if reply.data is None:
            self._close()
            if record is not None:
                record.delivery = DROPPED
                record.t_end = _monotonic()
            return
        self._transport.write(reply.data)
        self.sent += len(reply.data)
        if record is not None:
            record.delivery = DELIVERED
            record.t_end = _monotonic()
            record.conn = (self.peer_port, self.sent)
        if reply.close or not req.keep_alive:
            self._close()

    def _refuse(self, status: int, message: str) -> None:
        if not self.closed and not self._closing:
            body = b'{"error":{"type":"invalid_request_error","message":"%s"}}' % message.replace('"', "'").encode()
            self._transport.write(build_response(status, body, b"Connection: close\r\n"))
        self._close()

    def _close(self) -> None:
        self._closing = True
        self._queue.clear()
        if self._transport is not None:
            self._transport.close()

    def close_if_idle(self, now: float, idle_timeout: float) -> None:
        """Close a connection that has been quiet too long (keep-alive or a stalled request)."""
        if self._active:
            self._active = False
            self.last_active = now
        elif not self._busy and now - self.last_active > idle_timeout:
            self._close()

    def abort(self) -> None:
        self._close()
