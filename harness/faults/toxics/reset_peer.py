"""reset_peer: on the first data, wait ``timeout`` ms, then reset with RST.

As Toxiproxy's toxics/reset_peer.go: the chunk that arms it is dropped (sending
it would start a graceful exchange), and both sockets are then closed with
SO_LINGER 0 so the peers see ECONNRESET. Two deliberate differences, both to
avoid surprises: the linger is set when the reset fires, so the toxic also
resets connections opened before it was added (Toxiproxy only sets it on links
created while the toxic exists, and otherwise closes with FIN); and an armed
reset interrupted by an update or removal fires at once, where Go's
uninterruptible ``<-time.After`` makes the API call wait out the timeout.
"""

from __future__ import annotations

import asyncio

from .base import StubAPI, Toxic, ToxicAttributes, attribute


class ResetPeerAttributes(ToxicAttributes):
    timeout: int = attribute(0, unit="ms", doc="delay between the first data and the reset",
                             hint="use 0 to reset at once")


class ResetPeerToxic(Toxic, name="reset_peer"):
    Attributes = ResetPeerAttributes

    async def pipe(self, stub: StubAPI) -> None:
        chunk = await stub.recv()  # any chunk, or the end of input, arms it
        if chunk is not None:
            stub.drop(len(chunk.data))
        try:
            await asyncio.sleep(self.attrs.timeout / 1000.0)
        finally:  # also on interrupt: the stream already lost a chunk
            stub.reset()
