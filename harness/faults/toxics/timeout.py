"""timeout: stop all data; close the connection after ``timeout`` ms of it.

As Toxiproxy's toxics/timeout.go (v2.5.0), which the README describes loosely:
- data arriving while the toxic is active is DROPPED, not held;
- the timer restarts with every chunk (Go re-arms ``time.After`` each loop),
  so the close comes ``timeout`` ms after the last data, or after the toxic
  started if nothing came; ``timeout`` 0 never closes;
- removing the toxic CLOSES the connections it sat on (its Cleanup), even those
  where it lost its toxicity draw. New connections then flow normally.
"""

from __future__ import annotations

from .base import TIMED_OUT, StubAPI, Toxic, ToxicAttributes, attribute


class TimeoutAttributes(ToxicAttributes):
    timeout: int = attribute(0, unit="ms", doc="close after this long without data",
                             hint="use 0 to hold the connection open forever")


class TimeoutToxic(Toxic, name="timeout"):
    Attributes = TimeoutAttributes

    async def pipe(self, stub: StubAPI) -> None:
        wait = self.attrs.timeout / 1000.0 if self.attrs.timeout > 0 else None
        while True:
            chunk = await stub.recv(timeout=wait)
            if chunk is TIMED_OUT or chunk is None:
                stub.close()
                return
            stub.drop(len(chunk.data))

    def cleanup(self, stub: StubAPI) -> None:
        stub.close()
