"""One embedded proxy: a listener on 127.0.0.1, its toxics, its connections.

Mirrors Toxiproxy's Proxy + ToxicCollection: a chain of toxics per direction
in order of addition, applied to every live connection when it changes and to
each new connection when it is accepted. Toxic names are unique per proxy
across both directions. Disabling closes the listener (new connections are
refused) and drops live connections; enabling listens again on the same port.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from ...errors import FaultBackendError, PortError
from ..spec import ProxyInfo, ToxicSpec
from .connection import Connection
from .draws import Draws
from .stub import ToxicEntry

__all__ = ["EmbeddedProxy"]

log = logging.getLogger(__name__)

LISTEN_HOST = "127.0.0.1"  # never anything else
MAX_DELIVERY_RECORDS = 200_000  # per proxy; a run's connections, far more than any scenario opens


class EmbeddedProxy:
    def __init__(self, name: str, upstream: str, upstream_addr: tuple[str, int], draws: Draws):
        self.name = name
        self.upstream = upstream
        self.upstream_addr = upstream_addr
        self.draws = draws
        self.chain: dict[str, list[ToxicEntry]] = {"upstream": [], "downstream": []}
        self.entries: dict[str, ToxicEntry] = {}
        self.connections: set[Connection] = set()
        self.accepted = 0
        self.port = 0
        self.enabled = False
        self._server: asyncio.AbstractServer | None = None
        self._lock = asyncio.Lock()  # one chain change at a time
        # One (upstream port, opened, closed, reply bytes delivered) per finished connection.
        self._finished: deque[tuple[int, float, float | None, int]] = deque(maxlen=MAX_DELIVERY_RECORDS)

    @property
    def listen(self) -> str:
        return f"{LISTEN_HOST}:{self.port}"

    # -- listening -----------------------------------------------------------

    async def start(self) -> None:
        async with self._lock:
            await self._listen()

    def _accept(self):
        conn = Connection(self, self.accepted)
        self.accepted += 1
        return conn.client_side

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._accept, LISTEN_HOST, self.port, backlog=1024)
        except OSError as exc:
            raise PortError(
                f"embedded proxy '{self.name}' cannot listen on {LISTEN_HOST}:{self.port}: {exc}"
                + (" (another process took the port while the proxy was down)" if self.port else "")
            ) from exc
        self.port = self._server.sockets[0].getsockname()[1]
        self.enabled = True

    def _stop(self) -> None:
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self.connections):
            conn.abort()

    # -- toxics --------------------------------------------------------------

    async def add_toxic(self, spec: ToxicSpec) -> None:
        async with self._lock:
            if spec.name in self.entries:
                raise FaultBackendError(
                    f"toxic '{spec.name}' already exists on proxy '{self.name}'; "
                    f"update it or choose another name")
            entry = ToxicEntry(spec)
            self.entries[spec.name] = entry
            self.chain[spec.stream].append(entry)
            for conn in list(self.connections):
                conn.add_toxic(entry)

    async def update_toxic(self, spec: ToxicSpec) -> None:
        async with self._lock:
            old = self._get(spec.name)
            if (old.spec.type, old.spec.stream) != (spec.type, spec.stream):
                raise FaultBackendError(
                    f"toxic '{spec.name}' on proxy '{self.name}' is {old.spec.type}/{old.spec.stream}; "
                    f"an update cannot make it {spec.type}/{spec.stream}: remove it and add a new one")
            entry = ToxicEntry(spec)
            chain = self.chain[spec.stream]
            chain[chain.index(old)] = entry
            self.entries[spec.name] = entry
            await asyncio.gather(*(c.update_toxic(entry) for c in list(self.connections)))

    async def remove_toxic(self, name: str) -> None:
        async with self._lock:
            await self._remove(self._get(name))

    async def _remove(self, entry: ToxicEntry) -> None:
        del self.entries[entry.spec.name]
        self.chain[entry.spec.stream].remove(entry)
        await asyncio.gather(*(c.remove_toxic(entry) for c in list(self.connections)))

    def _get(self, name: str) -> ToxicEntry:
        entry = self.entries.get(name)
        if entry is None:
            known = ", ".join(self.entries) or "none"
            raise FaultBackendError(f"toxic '{name}' not found on proxy '{self.name}' (toxics: {known})")
        return entry

    # -- what reached the service ----------------------------------------------

    def record(self, conn: Connection) -> None:
        if conn.up_port:
            self._finished.append((conn.up_port, conn.t_open, time.monotonic(), conn.delivered()))

    def deliveries(self) -> list[tuple[int, float, float | None, int]]:
        """Per connection: the upstream port the provider saw, when it opened and
        closed (None: still open), and how many reply bytes reached the service."""
        live = [(c.up_port, c.t_open, None, c.delivered()) for c in self.connections if c.up_port]
        return [*self._finished, *live]

    # -- state ---------------------------------------------------------------

    async def set_enabled(self, enabled: bool) -> None:
        async with self._lock:
            if enabled and not self.enabled:
                await self._listen()
            elif not enabled and self.enabled:
                self._stop()

    async def reset(self) -> None:
        """Enabled, no toxics: as Toxiproxy's /reset (removal runs each cleanup)."""
        async with self._lock:
            if not self.enabled:
                await self._listen()
            for direction in ("upstream", "downstream"):
                while self.chain[direction]:
                    await self._remove(self.chain[direction][0])

    def info(self) -> ProxyInfo:
        toxics = tuple(e.spec for d in ("upstream", "downstream") for e in self.chain[d])
        return ProxyInfo(name=self.name, listen=self.listen, upstream=self.upstream,
                         enabled=self.enabled, toxics=toxics)

    def close(self) -> None:
        """Stop listening and drop every connection. Synchronous, idempotent."""
        self._stop()
        self.entries.clear()
        self.chain = {"upstream": [], "downstream": []}
