"""The async workload driver: a closed loop of N workers, or a fixed arrival rate.

Bounded twice: by the number of orders and by max_duration_s (no new order
starts after it; calls in flight finish within their own timeout).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from harness.evidence.model import TargetCall
from harness.spec.scenario import Workload
from harness.workload.client import TargetClient
from harness.workload.orders import Order

__all__ = ["Driver", "DriverResult"]


@dataclass
class DriverResult:
    orders: list[Order] = field(default_factory=list)
    calls: list[TargetCall] = field(default_factory=list)
    not_submitted: int = 0
    t0: float = 0.0
    t_end: float = 0.0


class Driver:
    def __init__(
        self,
        client: TargetClient,
        orders: Iterator[Order],
        workload: Workload,
        on_call: Callable[[TargetCall], None] | None = None,
    ):
        self._client = client
        self._orders = orders
        self._w = workload
        self._on_call = on_call or (lambda call: None)
        self.result = DriverResult()

    async def run(self) -> DriverResult:
        self.result.t0 = time.monotonic()
        deadline = self.result.t0 + self._w.max_duration_s
        try:
            if self._w.rate is not None:
                await self._open_loop(deadline)
            else:
                await self._closed_loop(deadline)
        finally:
            self.result.t_end = time.monotonic()
            self.result.not_submitted = self._w.orders - len(self.result.orders)
        return self.result

    async def _one(self, order: Order) -> None:
        self.result.orders.append(order)
        call = await self._client.pay(order)
        self.result.calls.append(call)
        self._on_call(call)

    def _next(self, deadline: float) -> Order | None:
        if time.monotonic() >= deadline:
            return None
        return next(self._orders, None)

    async def _closed_loop(self, deadline: float) -> None:
        async def worker() -> None:
            while (order := self._next(deadline)) is not None:
                await self._one(order)

        await asyncio.gather(*(worker() for _ in range(self._w.workers)))

    async def _open_loop(self, deadline: float) -> None:
        assert self._w.rate is not None
        interval = 1.0 / self._w.rate
        slots = asyncio.Semaphore(self._w.max_in_flight)
        tasks: set[asyncio.Task] = set()

        async def run_one(order: Order) -> None:
            try:
                await self._one(order)
            finally:
                slots.release()

        start = time.monotonic()
        i = 0
        try:
            while True:
                due = start + i * interval
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await slots.acquire()  # back-pressure: a slow target lowers the real rate
                order = self._next(deadline)
                if order is None:
                    slots.release()
                    break
                task = asyncio.create_task(run_one(order))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
