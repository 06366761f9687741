"""The embedded fault backend: asyncio TCP proxies inside the harness process.

They run on the event loop that started the backend (use uvloop for the
harness loop: the proxy costs ~25% less CPU per request on it). Toxics and
their semantics are Toxiproxy's; see harness/faults/README.md for the few
deliberate differences.

    async with EmbeddedBackend(seed=7) as faults:
        listen = await faults.create_proxy("cardpay", "127.0.0.1:8101")
        await faults.add_toxic("cardpay", ToxicSpec(type="latency", attributes={"latency": 200}))
"""

from __future__ import annotations

import asyncio
import sys
from importlib import metadata
from typing import Any

from ...errors import FaultBackendError
from ..backend import BackendBase
from ..spec import ProxyInfo, ToxicSpec
from .draws import Draws
from .proxy import EmbeddedProxy

__all__ = ["EmbeddedBackend"]


def _version() -> str:
    try:
        return metadata.version("paychaos")
    except metadata.PackageNotFoundError:
        return "unknown"


class EmbeddedBackend(BackendBase):
    """Toxiproxy-compatible proxies in-process.

    ``seed``: None draws toxicity and jitter from the OS, once per connection as
    Toxiproxy does; an int derives every draw from (seed, proxy, toxic,
    connection index) so a run replays.
    """

    name = "embedded"

    def __init__(self, *, seed: int | None = None, op_timeout: float = 30.0):
        super().__init__(op_timeout=op_timeout)
        self.seed = seed
        self._draws = Draws(seed)
        self._proxies: dict[str, EmbeddedProxy] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def describe(self) -> dict[str, Any]:
        loop = self._loop
        return {
            "name": self.name,
            "version": _version(),
            "loop": type(loop).__module__.split(".")[0] if loop is not None else None,
            "seed": self.seed,
            "toxicity": "per connection, seeded" if self.seed is not None else "per connection",
            "python": sys.version.split()[0],
        }

    def _proxy(self, name: str) -> EmbeddedProxy:
        if asyncio.get_running_loop() is not self._loop:
            raise FaultBackendError("the embedded fault backend must be used from the event loop "
                                    "that started it")
        proxy = self._proxies.get(name)
        if proxy is None:
            known = ", ".join(self._proxies) or "none"
            raise FaultBackendError(f"proxy '{name}' not found (proxies: {known})")
        return proxy

    async def _start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def _create_proxy(self, name: str, host: str, port: int, upstream: str) -> str:
        if name in self._proxies:
            raise FaultBackendError(f"proxy '{name}' already exists; choose another name")
        proxy = EmbeddedProxy(name, upstream, (host, port), self._draws)
        await proxy.start()
        self._proxies[name] = proxy
        return proxy.listen

    async def _require_proxy(self, proxy: str) -> None:
        self._proxy(proxy)

    async def _add_toxic(self, proxy: str, spec: ToxicSpec) -> None:
        await self._proxy(proxy).add_toxic(spec)

    async def _update_toxic(self, proxy: str, spec: ToxicSpec) -> None:
        await self._proxy(proxy).update_toxic(spec)

    async def _remove_toxic(self, proxy: str, name: str) -> None:
        await self._proxy(proxy).remove_toxic(name)

    async def _set_enabled(self, proxy: str, enabled: bool) -> None:
        await self._proxy(proxy).set_enabled(enabled)

    async def _reset(self) -> None:
        for proxy in list(self._proxies.values()):
            await proxy.reset()

    def deliveries(self, proxy: str) -> list[dict[str, Any]] | None:
        """Per connection of ``proxy``: the upstream port the provider saw, when it
        opened and closed, and how many reply bytes reached the service."""
        p = self._proxies.get(proxy)
        if p is None:
            return None
        return [{"port": port, "t_open": t_open, "t_close": t_close, "delivered": n}
                for port, t_open, t_close, n in p.deliveries()]

    async def _list(self) -> list[ProxyInfo]:
        return [p.info() for p in self._proxies.values()]

    async def _close(self) -> None:
        self._close_hard()
        await asyncio.sleep(0)  # let the aborted transports report connection_lost

    def _close_hard(self) -> None:
        for proxy in self._proxies.values():
            proxy.close()
        self._proxies.clear()
