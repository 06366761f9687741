"""The run's clock, injected into everything below the run (timeline, drain,
workload engines, client), so that nothing reads real time on its own and a
virtual clock can drive a whole run.

``now()`` is monotonic seconds. On Linux the real one is the system-wide
CLOCK_MONOTONIC, so it compares directly with the provider host's and the
target's timestamps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "RealClock", "ManualClock", "REAL_CLOCK"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    async def sleep_until(self, t: float) -> None: ...


class RealClock:
    """time.monotonic and asyncio.sleep."""

    now = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, t: float) -> None:
        delay = t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


REAL_CLOCK = RealClock()


class ManualClock:
    """A virtual clock: time moves only when ``advance()`` is called; sleepers
    wake in deadline order (ties in the order they went to sleep)."""

    def __init__(self, start: float = 0.0):
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + max(0.0, seconds))

    async def sleep_until(self, t: float) -> None:
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (t, next(self._order), fut))
        await fut

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper due on the way, each at its own time."""
        target = self._now + seconds
        for _ in range(5):  # let tasks that are ready run up to their next sleep first
            await asyncio.sleep(0)
        while self._sleepers and self._sleepers[0][0] <= target:
            t, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, t)
            if not fut.done():
                fut.set_result(None)
            # Let the woken task run (and maybe sleep again) before time moves on.
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
