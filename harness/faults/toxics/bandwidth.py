"""bandwidth: limit a direction to ``rate`` KB/s (1 KB = 1000 bytes).

As Toxiproxy's toxics/bandwidth.go: a running sleep budget grows by
len/rate per chunk; chunks larger than 100 ms worth of data are cut into
100 ms slices so a slow rate still trickles steadily; oversleeping is credited
against the next chunk.
"""

from __future__ import annotations

import asyncio
import time

from .base import Chunk, StubAPI, Toxic, ToxicAttributes, attribute


class BandwidthAttributes(ToxicAttributes):
    # Toxiproxy's default is 0, which makes its slicing loop emit empty chunks
    # forever (the connection stalls): we require an explicit rate instead.
    rate: int = attribute(None, unit="KB/s", minimum=1, doc="maximum transfer rate",
                          hint="to stop data entirely use the timeout toxic")


class BandwidthToxic(Toxic, name="bandwidth"):
    Attributes = BandwidthAttributes

    async def pipe(self, stub: StubAPI) -> None:
        rate = self.attrs.rate  # bytes per millisecond == KB/s
        slice_bytes = rate * 100  # 100 ms worth
        budget = 0.0  # seconds still owed for data already let through
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            budget += len(chunk.data) / (rate * 1000.0)
            while len(chunk.data) > slice_bytes:
                try:
                    await asyncio.sleep(0.1)
                except asyncio.CancelledError:
                    stub.send(chunk)
                    raise
                stub.send(Chunk(chunk.data[:slice_bytes], chunk.ts))
                chunk.data = chunk.data[slice_bytes:]
                budget -= 0.1
            start = time.monotonic()
            try:
                if budget > 0:
                    await asyncio.sleep(budget)
            except asyncio.CancelledError:
                stub.send(chunk)
                raise
            budget -= time.monotonic() - start
            stub.send(chunk)
