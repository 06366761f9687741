"""The drain: faults are off; orders the target left undecided get until the
deadline to settle (polled through the lookup template), then every order is
looked up once more for its final state."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Iterable, TypeVar

from harness.clock import REAL_CLOCK, Clock
from harness.evidence.model import TargetCall
from harness.spec.scenario import Drain
from harness.workload.client import TargetClient
from harness.workload.orders import Order

__all__ = ["drain", "bounded_gather"]

T = TypeVar("T")


async def bounded_gather(items: Iterable[T], fn: Callable[[T], Awaitable], limit: int) -> list:
    sem = asyncio.Semaphore(limit)

    async def one(item: T):
        async with sem:
            return await fn(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def drain(
    client: TargetClient,
    orders: list[Order],
    last_outcome: dict[str, str | None],
    final_states: list[str],
    spec: Drain,
    concurrency: int = 32,
    on_call: Callable[[TargetCall], None] | None = None,
    clock: Clock = REAL_CLOCK,
) -> list[TargetCall]:
    """Returns every lookup call made (the last per order is its final state)."""
    calls: list[TargetCall] = []
    record = on_call or (lambda c: None)

    async def look(order: Order) -> TargetCall | None:
        call = await client.lookup(order)
        if call is not None:
            calls.append(call)
            record(call)
        return call

    deadline = clock.now() + spec.timeout_s
    waiting = [o for o in orders if last_outcome.get(o.id) not in final_states]
    while waiting and clock.now() < deadline:
        results = await bounded_gather(waiting, look, concurrency)
        if any(r is None for r in results):
            return calls  # no lookup template: nothing to poll
        waiting = [o for o, c in zip(waiting, results) if c.outcome not in final_states]
        if waiting:
            await clock.sleep(min(spec.poll_interval_s, max(0.0, deadline - clock.now())))
    await bounded_gather(orders, look, concurrency)
    return calls
