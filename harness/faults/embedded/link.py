"""One direction of one connection: source socket -> toxic stubs -> destination.

Like Toxiproxy's ToxicLink, a link chains one stub per toxic of its direction,
in the order the toxics were added. With no toxics, bytes go straight from one
transport to the other (the fast path that costs tens of microseconds).

Changing the chain under traffic keeps every byte and the order of bytes:
- add: append a stub; the old tail's next ``send`` reaches it. Nothing pauses.
- update: interrupt the stub, give it the new toxic, run it again (its state
  and its per-connection draw stay).
- remove: interrupt the stub (it flushes what it holds), pass on what is still
  in its queue, then take it out. Every wait is a cancellation with a
  deadline, so a removal cannot hang on a blocked toxic.

Flow control: bytes inside the chain are counted; the source stops being read
above ``HIGH`` and resumes below ``LOW``, or while the destination's own
buffer is over its limit. This is the role of Go's unbuffered channels.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING

from ..toxics.base import Chunk
from .stub import Stub, ToxicEntry

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Link"]

HIGH = 256 * 1024
LOW = 64 * 1024


class Link:
    def __init__(self, connection: Connection, direction: str,
                 source: asyncio.Transport, dest: asyncio.Transport):
        self.connection = connection
        self.direction = direction
        self.source = source
        self.dest = dest
        self.stubs: list[Stub] = []
        self.buffered = 0  # bytes inside the chain
        self.dest_blocked = False
        self.source_paused = False
        self.fed_end = False  # the source ended
        self.ended = False  # the end reached the destination
        self.written = 0  # bytes handed to the destination socket

    # -- data path -------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self.stubs:
            self.buffered += len(data)
            self.stubs[0].put(Chunk(data, time.monotonic()))
            if self.buffered > HIGH:
                self._flow()
        elif not self.ended and not self.dest.is_closing():
            self.dest.write(data)
            self.written += len(data)

    def feed_end(self) -> None:
        if self.fed_end:
            return
        self.fed_end = True
        if self.stubs:
            self.stubs[0].put(None)
        else:
            self._end()

    def forward(self, stub: Stub, chunk: Chunk | None) -> None:
        """``stub`` sends ``chunk`` on: to the next stub, or to the destination."""
        i = self.stubs.index(stub) + 1
        if i < len(self.stubs):
            self.stubs[i].put(chunk)
        elif chunk is None:
            self._end()
        else:
            self.consumed(len(chunk.data))
            if not self.ended and not self.dest.is_closing():
                self.dest.write(chunk.data)
                self.written += len(chunk.data)

    def consumed(self, nbytes: int) -> None:
        self.buffered = max(0, self.buffered - nbytes)
        if self.source_paused:
            self._flow()

    def set_dest_blocked(self, blocked: bool) -> None:
        self.dest_blocked = blocked
        self._flow()

    def _flow(self) -> None:
        if self.buffered > HIGH or self.dest_blocked:
            if not self.source_paused:
                self.source_paused = True
                _call(self.source.pause_reading)
        elif self.source_paused and self.buffered < LOW:
            self.source_paused = False
            _call(self.source.resume_reading)

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self.connection.end_direction(self)

    # -- chain changes ---------------------------------------------------------

    def add(self, entry: ToxicEntry, draw: float, rng: random.Random) -> None:
        if self.ended:  # Go closes the new stub at once in this case: same effect
            return
        stub = Stub(self, entry, draw, rng)
        self.stubs.append(stub)
        stub.start()

    async def update(self, entry: ToxicEntry) -> None:
        stub = self._find(entry.spec.name)
        if stub is None:
            return
        await stub.interrupt()
        stub.entry = entry
        if not (stub.closed or stub.detached) and stub in self.stubs:
            stub.start()

    async def remove(self, name: str) -> None:
        stub = self._find(name)
        if stub is None:
            return
        stopped = await stub.interrupt()
        if stub not in self.stubs:  # the connection ended while we waited
            return
        stub.entry.toxic.cleanup(stub)  # timeout closes the connection here, as in Go
        if not stub.closed and stopped:
            while stub.queue:
                chunk = stub.queue.popleft()
                if chunk is None:
                    stub.input_ended = True
                    break
                self.forward(stub, chunk)
            if stub.input_ended:  # e.g. slow_close interrupted while holding the close
                stub.close()
        else:
            for chunk in stub.queue:
                if chunk is not None:
                    self.consumed(len(chunk.data))
            stub.queue.clear()
        self.stubs.remove(stub)
        stub.detached = True

    def cancel(self) -> None:
        """The connection is gone: stop every toxic without flushing."""
        for stub in self.stubs:
            stub.detached = True
            if stub.task is not None:
                stub.task.cancel()
        self.stubs.clear()

    def _find(self, name: str) -> Stub | None:
        for stub in self.stubs:
            if stub.entry.spec.name == name:
                return stub
        return None


def _call(method) -> None:
    try:
        method()
    except (RuntimeError, AttributeError, OSError):  # transport already closing
        pass
