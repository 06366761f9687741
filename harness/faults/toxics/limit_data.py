"""limit_data: close a direction once ``bytes`` bytes have gone through it.

As Toxiproxy's toxics/limit_data.go: the count is per connection and survives
updates (state), the chunk that crosses the limit is cut to fit, then the
direction closes.
"""

from __future__ import annotations

from .base import Chunk, StubAPI, Toxic, ToxicAttributes, attribute


class LimitDataAttributes(ToxicAttributes):
    bytes: int = attribute(0, unit="bytes", doc="bytes let through before the close")


class _Count:
    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = 0


class LimitDataToxic(Toxic, name="limit_data"):
    Attributes = LimitDataAttributes

    def new_state(self) -> _Count:
        return _Count()

    async def pipe(self, stub: StubAPI) -> None:
        count: _Count = stub.state
        limit = self.attrs.bytes
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            remaining = max(limit - count.sent, 0)
            if remaining < len(chunk.data):
                stub.drop(len(chunk.data) - remaining)
                chunk = Chunk(chunk.data[:remaining], chunk.ts)
            if chunk.data:
                stub.send(chunk)
                count.sent += len(chunk.data)
            if limit - count.sent <= 0:
                stub.close()
                return
