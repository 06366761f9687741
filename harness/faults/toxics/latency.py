"""latency: delay every chunk by ``latency`` +/- ``jitter`` milliseconds.

As Toxiproxy's toxics/latency.go: the delay is drawn per chunk and counted from
when the chunk was read, so back-to-back chunks overlap their waits instead of
adding up; the chunk's timestamp is advanced by the wait so a second latency
toxic down the chain adds its own delay on top.
"""

from __future__ import annotations

import asyncio
import time

from .base import StubAPI, Toxic, ToxicAttributes, attribute


class LatencyAttributes(ToxicAttributes):
    latency: int = attribute(0, unit="ms", doc="delay added to each chunk", hint="use 0 for no delay")
    jitter: int = attribute(0, unit="ms", doc="uniform +/- spread around latency",
                            hint="use 0 for a fixed delay")
    # Toxiproxy accepts jitter > latency (the delay then clips at 0); so do we.


class LatencyToxic(Toxic, name="latency"):
    Attributes = LatencyAttributes

    def delay(self, stub: StubAPI) -> float:
        ms = self.attrs.latency
        if self.attrs.jitter > 0:
            # Go: rand.Int63n(jitter*2) - jitter, i.e. an integer in [-jitter, jitter).
            ms += stub.rng.randrange(self.attrs.jitter * 2) - self.attrs.jitter
        return ms / 1000.0

    async def pipe(self, stub: StubAPI) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            sleep = self.delay(stub) - (time.monotonic() - chunk.ts)
            if sleep > 0:
                try:
                    await asyncio.sleep(sleep)
                except asyncio.CancelledError:
                    stub.send(chunk)  # interrupted: let it go now rather than drop it
                    raise
            chunk.ts += sleep
            stub.send(chunk)
