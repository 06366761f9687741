"""The background reconciler: resolves orders whose outcome is unknown.

Every `reconcile_interval_s` it looks up each unresolved order that no
payment task is working on: `pending` ones, and `processing` ones left behind
by a previous run that stopped mid-payment. Its first sweep runs at startup,
so a restart never strands an order.
"""

from __future__ import annotations

import asyncio
import contextlib

from .bugs import ReconcileHammer
from .logs import log_event
from .service import PaymentService
from .store import Order

__all__ = ["Reconciler"]

# Lookups of different orders run side by side, but a burst of pending orders
# must not turn into a burst of searches against a provider that is struggling.
_CONCURRENT_LOOKUPS = 8


class Reconciler:
    def __init__(self, service: PaymentService, interval_s: float) -> None:
        self.service = service
        # seeded bug: a tight loop instead of the interval
        self.interval_s = 0.02 if ReconcileHammer in service.settings.bugs else interval_s
        self._task: asyncio.Task[None] | None = None
        self._limit = asyncio.Semaphore(_CONCURRENT_LOOKUPS)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="reconciler")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def sweep(self) -> int:
        """One pass over the unresolved orders; returns how many it looked at."""
        orders = [
            order for order in self.service.store.unresolved() if not self.service.is_inflight(order.order_id)
        ]
        await asyncio.gather(*(self._one(order) for order in orders))
        return len(orders)

    async def _one(self, order: Order) -> None:
        async with self._limit:
            # A repeat POST may have finished it meanwhile; the store guards
            # final writes anyway, this just saves a lookup.
            if self.service.is_inflight(order.order_id):
                return
            await self.service.reconcile(order)

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep reconciling: one bad sweep must not end it
                log_event("decision", decision="reconciler_error", error=repr(exc))
            await asyncio.sleep(self.interval_s)
