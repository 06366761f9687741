"""One toxic running on one direction of one connection (Toxiproxy's ToxicStub).

A stub owns an input queue and a task running its toxic's ``pipe``. What the
toxic sends goes to whatever follows the stub in its link *at that moment*, so
adding or removing a neighbour never needs to touch this stub. Interrupting is
cancelling the task; the toxic flushes what it holds synchronously and exits.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from typing import TYPE_CHECKING, Any

from ..spec import ToxicSpec
from ..toxics import REGISTRY
from ..toxics.base import NOOP, TIMED_OUT, Chunk, Toxic

if TYPE_CHECKING:
    from .link import Link

__all__ = ["Stub", "ToxicEntry"]

log = logging.getLogger(__name__)

# An interrupted toxic only runs synchronous cleanup, so it ends within a loop
# turn or two; this bounds the wait if a toxic misbehaves.
INTERRUPT_DEADLINE = 2.0


class ToxicEntry:
    """A toxic as configured on a proxy: its spec and a toxic instance."""

    __slots__ = ("spec", "toxic")

    def __init__(self, spec: ToxicSpec):
        self.spec = spec
        self.toxic: Toxic = REGISTRY[spec.type](spec.parsed_attributes())


class Stub:
    def __init__(self, link: Link, entry: ToxicEntry, draw: float, rng: random.Random):
        self.link = link
        self.entry = entry
        self.draw = draw  # fixed per connection; compared with the current toxicity
        self.rng = rng
        self.state: Any = entry.toxic.new_state()
        self.active = False
        self.queue: collections.deque[Chunk | None] = collections.deque()
        self.input_ended = False  # saw the end marker: recv() returns None from now on
        self.closed = False  # passed the end on; later input is discarded
        self.detached = False  # removed from its link; anything it sends is discarded
        self._waiter: asyncio.Future | None = None
        self.task: asyncio.Task | None = None

    # -- driven by the link ----------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def put(self, chunk: Chunk | None) -> None:
        if self.closed or self.detached:
            if chunk is not None:
                self.link.consumed(len(chunk.data))
            return
        self.queue.append(chunk)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def interrupt(self) -> bool:
        """Stop the toxic; True when it stopped within the deadline."""
        task = self.task
        if task is None or task.done():
            return True
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=INTERRUPT_DEADLINE)
        if not done:
            log.error("toxic %s ignored its interrupt for %ss; detaching it",
                      self.entry.spec.name, INTERRUPT_DEADLINE)
            self.detached = True
            return False
        return True

    async def _run(self) -> None:
        self.active = self.draw < self.entry.spec.toxicity
        try:
            await (self.entry.toxic if self.active else NOOP).pipe(self)
        except asyncio.CancelledError:
            raise
        except Exception:  # a toxic bug ends the direction rather than wedging it
            log.exception("toxic %s failed; closing the connection", self.entry.spec.name)
            self.close()

    # -- the StubAPI toxics use ------------------------------------------------

    async def recv(self, timeout: float | None = None) -> Chunk | None:
        while True:
            if self.queue:
                chunk = self.queue.popleft()
                if chunk is None:
                    self.input_ended = True
                return chunk
            if self.input_ended:
                return None
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _expire, waiter) if timeout is not None else None
            try:
                if await waiter is TIMED_OUT:
                    return TIMED_OUT
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()

    def send(self, chunk: Chunk) -> None:
        if self.detached or self.closed:
            self.link.consumed(len(chunk.data))
            return
        self.link.forward(self, chunk)

    def drop(self, nbytes: int) -> None:
        self.link.consumed(nbytes)

    def close(self) -> None:
        if not self.closed and not self.detached:
            self.closed = True
            self.link.forward(self, None)

    def reset(self) -> None:
        self.link.connection.arm_reset()
        self.close()


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(TIMED_OUT)
