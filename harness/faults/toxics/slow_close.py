"""slow_close: hold the close of a direction for ``delay`` milliseconds.

As Toxiproxy's toxics/slow_close.go: data flows untouched; when the source
ends, the close is passed on only after the delay.
"""

from __future__ import annotations

import asyncio

from .base import StubAPI, Toxic, ToxicAttributes, attribute


class SlowCloseAttributes(ToxicAttributes):
    delay: int = attribute(0, unit="ms", doc="how long the close is held back")


class SlowCloseToxic(Toxic, name="slow_close"):
    Attributes = SlowCloseAttributes

    async def pipe(self, stub: StubAPI) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is None:
                # An interrupt during this wait leaves the close to whoever
                # runs next (the removal path closes at once), as in Go.
                await asyncio.sleep(self.attrs.delay / 1000.0)
                stub.close()
                return
            stub.send(chunk)
