"""The built-in async workload engine: a closed loop of N workers, or a fixed
arrival rate, over aiohttp.

Bounded twice: by the number of orders and by max_duration_s (no new order
starts after it; calls in flight finish within their own timeout). Every
order and every call goes to the evidence sink as it happens; the driver keeps
only each order's last answer, for the drain.
"""

from __future__ import annotations

import asyncio

from harness.workload.engines import EngineContext, WorkloadEngine, WorkloadResult, register_engine
from harness.workload.orders import Order

__all__ = ["Driver", "AsyncEngine"]


class Driver:
    def __init__(self, ctx: EngineContext):
        self._ctx = ctx
        self._w = ctx.workload
        self._clock = ctx.clock
        self.result = WorkloadResult()

    async def run(self) -> WorkloadResult:
        self.result.t0 = self._clock.now()
        deadline = self.result.t0 + self._w.max_duration_s
        try:
            if self._w.rate is not None:
                await self._open_loop(deadline)
            else:
                await self._closed_loop(deadline)
        finally:
            self.result.t_end = self._clock.now()
            self.result.not_submitted = self._w.orders - len(self.result.orders)
        return self.result

    async def _one(self, order: Order) -> None:
        self.result.orders.append(order)
        self._ctx.sink.order(order)
        call = await self._ctx.client.pay(order)
        self._ctx.record(call)
        self.result.last_outcome[order.id] = call.outcome

    def _next(self, deadline: float) -> Order | None:
        if self._clock.now() >= deadline:
            return None
        return next(self._ctx.orders, None)

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

        start = self._clock.now()
        i = 0
        try:
            while True:
                await self._clock.sleep_until(start + i * interval)
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


@register_engine
class AsyncEngine(WorkloadEngine):
    """In the harness's own event loop: functional scenarios of up to a few
    thousand orders."""

    name = "async"

    async def run(self, ctx: EngineContext) -> WorkloadResult:
        return await Driver(ctx).run()
