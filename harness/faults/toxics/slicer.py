"""slicer: cut each chunk into pieces of about ``average_size`` bytes.

As Toxiproxy's toxics/slicer.go: split in halves (moved by up to
``size_variation``) until a piece is within the variation of the average, send
the pieces in order, waiting ``delay`` MICROseconds after each.
"""

from __future__ import annotations

import asyncio
import random

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from .base import Chunk, StubAPI, Toxic, ToxicAttributes, attribute


class SlicerAttributes(ToxicAttributes):
    # Toxiproxy's default average_size 0 recurses without end (the server
    # crashes on the first data): we require it.
    average_size: int = attribute(None, unit="bytes", minimum=1, doc="average size of a slice")
    size_variation: int = attribute(0, unit="bytes", doc="+/- variation of the slice size",
                                    hint="use 0 for equal slices")
    delay: int = attribute(0, unit="microseconds", doc="wait after each slice")

    @model_validator(mode="after")
    def _variation_below_average(self):
        if self.size_variation >= self.average_size:
            raise PydanticCustomError(
                "out_of_range",
                "size_variation={var} is invalid for toxic 'slicer': must be smaller than "
                "average_size={avg} (a larger variation can cut outside the chunk)",
                {"var": self.size_variation, "avg": self.average_size},
            )
        return self


def slice_offsets(start: int, end: int, average: int, variation: int,
                  rng: random.Random) -> list[int]:
    """Flat [start, cut, cut, ..., end] pairs, as Go's SlicerToxic.chunk."""
    if (end - start) - average <= variation:
        return [start, end]
    mid = start + (end - start) // 2
    if variation > 0:
        mid += rng.randrange(variation * 2) - variation
    return (slice_offsets(start, mid, average, variation, rng)
            + slice_offsets(mid, end, average, variation, rng))


class SlicerToxic(Toxic, name="slicer"):
    Attributes = SlicerAttributes

    async def pipe(self, stub: StubAPI) -> None:
        a = self.attrs
        pause = a.delay / 1_000_000.0
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            cuts = slice_offsets(0, len(chunk.data), a.average_size, a.size_variation, stub.rng)
            for i in range(1, len(cuts), 2):
                stub.send(Chunk(chunk.data[cuts[i - 1]:cuts[i]], chunk.ts))
                try:
                    await asyncio.sleep(pause)
                except asyncio.CancelledError:
                    rest = chunk.data[cuts[i]:]
                    if rest:
                        stub.send(Chunk(rest, chunk.ts))
                    raise
