"""A listening HTTP server for one handler, bound to loopback only.

Owns the set of open connections so that shutdown can close them, and a
1-second ticker that closes idle or stalled connections: no client can hold
the provider forever.
"""

from __future__ import annotations

import asyncio
import socket
import time

from .http import HttpConnection

__all__ = ["HttpServer", "LOOPBACK", "install_uvloop"]

LOOPBACK = "127.0.0.1"


def install_uvloop() -> bool:
    """Use uvloop when it is importable (measured ~2x faster here)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


class HttpServer:
    """``await HttpServer(handler).start(port)`` listens on 127.0.0.1:port."""

    def __init__(self, handler, *, max_body: int = 64 * 1024, idle_timeout: float = 60.0):
        self.handler = handler
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.connections: set[HttpConnection] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ticker: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self, port: int = 0, host: str = LOOPBACK) -> "HttpServer":
        if host != LOOPBACK:
            raise ValueError(f"host={host!r} is refused: mock providers bind {LOOPBACK} only")
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(
            lambda: HttpConnection(self), host, port, reuse_address=True, backlog=1024,
            family=socket.AF_INET,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ticker = self.loop.create_task(self._tick())
        return self

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(self.connections):
                conn.close_if_idle(now, self.idle_timeout)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection, wait (bounded) for them to go."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.abort()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), timeout)
            except asyncio.TimeoutError:
                pass
            self._server = None
