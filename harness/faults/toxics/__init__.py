"""Network toxics, one per module, registered by name.

``REGISTRY`` maps a toxic name to its class; ``REGISTRY[name].Attributes`` is
the pydantic model of its attributes (Toxiproxy's names, units, defaults). The
scenario validator uses it for files of either backend::

    from harness.faults.toxics import REGISTRY
    REGISTRY["latency"].Attributes.model_validate({"latency": 200, "jitter": 50})

Units: latency/jitter/slow_close delay/timeouts in milliseconds; bandwidth rate
in KB/s (1000 bytes); slicer sizes in bytes and its delay in MICROseconds;
limit_data in bytes.
"""

from __future__ import annotations

from .base import REGISTRY, Chunk, Toxic, ToxicAttributes

# Importing a module registers its toxic; the order is the documentation order.
from . import latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, down  # noqa: F401,I001

__all__ = ["REGISTRY", "Toxic", "ToxicAttributes", "Chunk"]
