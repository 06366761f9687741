"""down: the proxy stops listening and drops its connections.

Not a toxic in Toxiproxy either: it is the proxy's ``enabled=false``. It is
registered here so scenario files can name it like any other network fault;
both backends apply a ``down`` ToxicSpec as ``set_enabled(proxy, False)`` and
its removal as ``set_enabled(proxy, True)``. It has no attributes, and stream
and toxicity do not apply (toxicity must stay 1).
"""

from __future__ import annotations

from .base import StubAPI, Toxic, ToxicAttributes


class DownAttributes(ToxicAttributes):
    pass


class DownToxic(Toxic, name="down"):
    Attributes = DownAttributes
    proxy_level = True

    async def pipe(self, stub: StubAPI) -> None:  # pragma: no cover - never on a link
        raise RuntimeError("down acts on the proxy, never on a connection")
