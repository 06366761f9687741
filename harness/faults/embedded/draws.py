"""Where the embedded proxy's randomness comes from.

Toxiproxy draws a toxic's toxicity once per connection from a global,
unseeded generator (its ``-seed`` flag is discarded), so a run cannot replay.
Here each (proxy, toxic, connection index) gets one uniform draw that decides
whether the toxic is active on that connection, and its own generator for
jitter and slice sizes. Unseeded, both come from the OS; with a seed they are
derived by hashing, so they depend only on the seed and on the connection's
index in accept order, never on timing or on other connections.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["Draws"]


class Draws:
    def __init__(self, seed: int | None = None):
        self.seed = seed
        self._os = random.SystemRandom()

    def _key(self, *parts: object) -> bytes:
        text = "\x1f".join(str(p) for p in (self.seed, *parts))
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def toxicity(self, proxy: str, toxic: str, conn_index: int) -> float:
        """Uniform in [0, 1): the toxic acts on the connection when draw < toxicity."""
        if self.seed is None:
            return self._os.random()
        key = self._key("toxicity", proxy, toxic, conn_index)
        return int.from_bytes(key[:8], "big") / 2**64

    def rng(self, proxy: str, toxic: str, conn_index: int) -> random.Random:
        if self.seed is None:
            return random.Random(self._os.getrandbits(64))
        return random.Random(int.from_bytes(self._key("rng", proxy, toxic, conn_index), "big"))
