"""Network-level faults: proxies in front of providers, with Toxiproxy's toxics.

Two backends behind one interface (docs/interfaces.md section 6):
``EmbeddedBackend`` (asyncio, the default; optionally seeded) and
``ToxiproxyBackend`` (a real Toxiproxy 2.x server). ``open_backend`` picks one.

    from harness.faults import open_backend, ToxicSpec

    async with open_backend() as faults:
        listen = await faults.create_proxy("cardpay", "127.0.0.1:8101")
        await faults.add_toxic("cardpay", ToxicSpec(type="latency", attributes={"latency": 200}))
        ...
        faults.events  # every change as applied, with t/wall timestamps
"""

from .backend import FaultBackend
from .embedded import EmbeddedBackend
from .selection import open_backend
from .spec import ProxyInfo, ToxicSpec
from .toxics import REGISTRY
from .toxiproxy import ToxiproxyBackend, find_toxiproxy_server

__all__ = [
    "FaultBackend",
    "ToxicSpec",
    "ProxyInfo",
    "EmbeddedBackend",
    "ToxiproxyBackend",
    "open_backend",
    "REGISTRY",
    "find_toxiproxy_server",
]
