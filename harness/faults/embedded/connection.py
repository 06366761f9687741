"""One proxied TCP connection: the client socket, the upstream socket, two links.

Close semantics follow Toxiproxy (link.go): when a direction ends (its source
closed, or a toxic closed it), its destination socket is closed fully after
what was already sent; the other direction then sees its source go away and
ends too. A reset sets SO_LINGER 0 on both sockets first, so both peers get
RST instead of FIN.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from typing import TYPE_CHECKING

from .link import Link

if TYPE_CHECKING:
    from .proxy import EmbeddedProxy
    from .stub import ToxicEntry

__all__ = ["Connection"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
_LINGER_ZERO = struct.pack("ii", 1, 0)


class _Side(asyncio.Protocol):
    """Protocol for one socket; hands everything to the connection."""

    __slots__ = ("conn", "side", "link", "early")

    def __init__(self, conn: Connection, side: str):
        self.conn = conn
        self.side = side  # "client" | "upstream"
        self.link: Link | None = None  # the link this socket feeds
        # Reading is paused until the link exists, but a loop may deliver a read
        # it had already started (uvloop does): keep it, and the end, for later.
        self.early: list[bytes | None] = []

    def attach(self, link: Link) -> None:
        self.link = link
        for data in self.early:
            link.feed(data) if data is not None else link.feed_end()
        self.early.clear()

    def connection_made(self, transport) -> None:
        self.conn.made(self.side, transport)

    def data_received(self, data: bytes) -> None:
        if self.link is not None:
            self.link.feed(data)
        else:
            self.early.append(data)

    def eof_received(self) -> bool:
        if self.link is not None:
            self.link.feed_end()
        else:
            self.early.append(None)
        return True  # keep our write side open until the other direction ends

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.lost(self.side)

    def pause_writing(self) -> None:
        self.conn.dest_blocked(self.side, True)

    def resume_writing(self) -> None:
        self.conn.dest_blocked(self.side, False)


class Connection:
    def __init__(self, proxy: EmbeddedProxy, index: int):
        self.proxy = proxy
        self.index = index  # accept order on this proxy; keys the seeded draws
        self.client_side = _Side(self, "client")
        self.upstream_side = _Side(self, "upstream")
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.links: dict[str, Link] = {}
        self._lost: set[str] = set()
        self._connecting: asyncio.Task | None = None
        self._reset = False
        # What reached the service: the upstream socket's local port (the port the
        # provider journals as the caller's), and reply bytes lost in our send
        # buffer when the client socket was aborted.
        self.t_open = time.monotonic()
        self.up_port = 0
        self.unsent = 0

    # -- socket events ---------------------------------------------------------

    def made(self, side: str, transport: asyncio.Transport) -> None:
        transport.pause_reading()  # nothing is read until both ends and links exist
        if side == "client":
            self.client = transport
            self.proxy.connections.add(self)
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        else:
            self.upstream = transport

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.proxy.upstream_addr
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: self.upstream_side, host, port), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError) as exc:
            # As Toxiproxy: the client is accepted, then closed.
            log.info("proxy %s: upstream %s unreachable: %r", self.proxy.name, self.proxy.upstream, exc)
            self.client.close()
            return
        if "client" in self._lost or self.client.is_closing():
            self.upstream.close()
            return
        sockname = self.upstream.get_extra_info("sockname")
        self.up_port = sockname[1] if sockname else 0
        up = Link(self, "upstream", source=self.client, dest=self.upstream)
        down = Link(self, "downstream", source=self.upstream, dest=self.client)
        self.links = {"upstream": up, "downstream": down}
        for direction, link in self.links.items():
            for entry in self.proxy.chain[direction]:
                self._add_to(link, entry)
        self.client_side.attach(up)
        self.upstream_side.attach(down)
        self.client.resume_reading()
        self.upstream.resume_reading()

    def lost(self, side: str) -> None:
        self._lost.add(side)
        link = self.client_side.link if side == "client" else self.upstream_side.link
        if link is not None:
            link.feed_end()
        if len(self._lost) == 2:
            self._finish()
        elif side == "client" and self.upstream is None and self._connecting is not None:
            self._connecting.cancel()
            self._finish()

    def dest_blocked(self, side: str, blocked: bool) -> None:
        # The client is the destination of the downstream link, and vice versa.
        link = self.links.get("downstream" if side == "client" else "upstream")
        if link is not None:
            link.set_dest_blocked(blocked)

    # -- called by links and the proxy ---------------------------------------

    def end_direction(self, link: Link) -> None:
        if self._reset:
            self._note_unsent(link.dest)
            link.dest.abort()  # linger 0 is set: the kernel sends RST
        else:
            link.dest.close()  # after the buffered bytes, FIN

    def arm_reset(self) -> None:
        """From now on, closing either socket sends RST (Toxiproxy: SetLinger(0))."""
        self._reset = True
        for transport in (self.client, self.upstream):
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
                except OSError:  # already closed
                    pass

    def add_toxic(self, entry: ToxicEntry) -> None:
        link = self.links.get(entry.spec.stream)
        if link is not None:  # still connecting: the links will be built from the chain
            self._add_to(link, entry)

    async def update_toxic(self, entry: ToxicEntry) -> None:
        link = self.links.get(entry.spec.stream)
        if link is not None:
            await link.update(entry)

    async def remove_toxic(self, entry: ToxicEntry) -> None:
        link = self.links.get(entry.spec.stream)
        if link is not None:
            await link.remove(entry.spec.name)

    def abort(self) -> None:
        """Drop the connection now (proxy disabled or closed)."""
        if self._connecting is not None:
            self._connecting.cancel()
        for transport in (self.client, self.upstream):
            if transport is not None:
                self._note_unsent(transport)
                transport.abort()
        self._finish()

    def _add_to(self, link: Link, entry: ToxicEntry) -> None:
        draws, name = self.proxy.draws, entry.spec.name
        link.add(entry, draws.toxicity(self.proxy.name, name, self.index),
                 draws.rng(self.proxy.name, name, self.index))

    def _note_unsent(self, transport: asyncio.Transport) -> None:
        """Bytes still in our buffer for the client when it is aborted never reach it."""
        if transport is self.client:
            try:
                self.unsent = transport.get_write_buffer_size()
            except (AttributeError, RuntimeError):
                pass

    def delivered(self) -> int:
        """Reply bytes that reached the service's socket on this connection."""
        down = self.links.get("downstream")
        return 0 if down is None else max(0, down.written - self.unsent)

    def _finish(self) -> None:
        for link in self.links.values():
            link.cancel()
        if self in self.proxy.connections:
            self.proxy.connections.discard(self)
            self.proxy.record(self)
