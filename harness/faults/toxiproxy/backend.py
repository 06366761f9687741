"""The Toxiproxy fault backend: a real Toxiproxy 2.x server over its HTTP API.

Either paychaos starts the server (a binary found by ``find_toxiproxy_server``,
on a free loopback port, stopped at close), or it uses one already running at
``TOXIPROXY_URL``; then it touches only the proxies it created and removes them
at close. Every API call runs in a worker thread (the client is synchronous)
under the backend's deadline.

Toxiproxy draws toxicity once per connection from an unseeded generator: a run
through it does not replay. Use the embedded backend with a seed for that.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any, Mapping

from ...errors import FaultBackendError
from ..backend import BackendBase
from ..spec import ProxyInfo, ToxicSpec
from .client import ToxiproxyClient, normalise_url
from .server import ManagedServer, find_toxiproxy_server

__all__ = ["ToxiproxyBackend", "NOT_INSTALLED"]

log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "the toxiproxy fault backend needs a Toxiproxy server, and none was found: "
    "TOXIPROXY_URL is unset, TOXIPROXY_SERVER is unset, tools/bin/toxiproxy-server is missing "
    "and no toxiproxy-server is on PATH. Install it with `make toxiproxy` "
    "(or scripts/install-toxiproxy.sh, which needs Go), or set TOXIPROXY_URL=http://HOST:PORT "
    "to use a running server, or use the embedded backend (PAYCHAOS_FAULT_BACKEND=embedded)."
)


class ToxiproxyBackend(BackendBase):
    name = "toxiproxy"

    def __init__(self, *, url: str | None = None, binary: str | Path | None = None,
                 op_timeout: float = 30.0, startup_timeout: float = 10.0,
                 env: Mapping[str, str] | None = None, seed: int | None = None):
        super().__init__(op_timeout=op_timeout)
        self.seed = seed  # accepted for a uniform call; Toxiproxy cannot use it
        env = os.environ if env is None else env
        self.url = url or env.get("TOXIPROXY_URL") or None
        self.binary: Path | None = None
        if self.url is not None:
            self.url = normalise_url(self.url)[0]
        else:
            self.binary = Path(binary) if binary else find_toxiproxy_server(env)
            if self.binary is None:
                raise FaultBackendError(NOT_INSTALLED)
        self.startup_timeout = startup_timeout
        self.version: str | None = None
        self._server: ManagedServer | None = None
        self._client: ToxiproxyClient | None = None
        self._owned: dict[str, str] = {}  # proxies we created -> listen address

    @property
    def managed(self) -> bool:
        return self.binary is not None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "binary": str(self.binary) if self.binary else None,
            "url": self.url,
            "managed": self.managed,
            "seed": self.seed,
            "toxicity": "per connection, unseeded (Toxiproxy ignores its -seed): a run does not replay",
        }

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._client is None:
            raise FaultBackendError("toxiproxy backend is not started")
        return await asyncio.to_thread(self._client.call, method, path, body)

    # -- lifecycle -------------------------------------------------------------

    async def _start(self) -> None:
        if self.managed:
            self._server = ManagedServer(self.binary, startup_timeout=self.startup_timeout)
            self._client = await asyncio.to_thread(self._server.start)
            self.url, self.version = self._server.url, self._server.version
            return
        self._client = ToxiproxyClient(self.url)
        deadline = asyncio.get_running_loop().time() + self.startup_timeout
        while True:  # the server may still be coming up (a CI service container)
            try:
                self.version = await asyncio.to_thread(self._client.version)
                return
            except FaultBackendError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def _close(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)  # takes our proxies with it
        elif self._client is not None:
            for name in list(self._owned):
                try:
                    await self._call("DELETE", f"/proxies/{name}")
                except FaultBackendError as exc:
                    log.warning("could not remove proxy %s from %s: %s", name, self.url, exc)
        self._owned.clear()

    def _close_hard(self) -> None:
        if self._server is not None:
            self._server.stop(grace=0.5)

    # -- proxies and toxics ----------------------------------------------------

    async def _create_proxy(self, name: str, host: str, port: int, upstream: str) -> str:
        try:
            answer = await self._call("POST", "/proxies", {
                "name": name, "upstream": upstream, "listen": "127.0.0.1:0", "enabled": True})
        except FaultBackendError as exc:
            if "already exists" in str(exc) and not self.managed:
                raise FaultBackendError(f"{exc}; another user of {self.url} has a proxy named "
                                        f"'{name}': choose another name") from exc
            raise
        self._owned[name] = answer["listen"]
        return answer["listen"]

    async def _require_proxy(self, proxy: str) -> None:
        await self._call("GET", f"/proxies/{proxy}")

    async def _add_toxic(self, proxy: str, spec: ToxicSpec) -> None:
        await self._call("POST", f"/proxies/{proxy}/toxics", spec.model_dump())

    async def _update_toxic(self, proxy: str, spec: ToxicSpec) -> None:
        # Toxiproxy silently ignores type and stream in an update: refuse, as embedded does.
        old = await self._call("GET", f"/proxies/{proxy}/toxics/{spec.name}")
        if (old.get("type"), old.get("stream")) != (spec.type, spec.stream):
            raise FaultBackendError(
                f"toxic '{spec.name}' on proxy '{proxy}' is {old.get('type')}/{old.get('stream')}; "
                f"an update cannot make it {spec.type}/{spec.stream}: remove it and add a new one")
        await self._call("POST", f"/proxies/{proxy}/toxics/{spec.name}",
                         {"attributes": spec.attributes, "toxicity": spec.toxicity})

    async def _remove_toxic(self, proxy: str, name: str) -> None:
        await self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    async def _set_enabled(self, proxy: str, enabled: bool) -> None:
        await self._call("POST", f"/proxies/{proxy}", {"enabled": enabled})

    async def _reset(self) -> None:
        if self.managed:  # everything on this server is ours
            await self._call("POST", "/reset")
            return
        for name in self._owned:  # a shared server: leave other users' proxies alone
            await self._call("POST", f"/proxies/{name}", {"enabled": True})
            for toxic in await self._call("GET", f"/proxies/{name}/toxics") or []:
                await self._call("DELETE", f"/proxies/{name}/toxics/{toxic['name']}")

    async def _list(self) -> list[ProxyInfo]:
        answer = await self._call("GET", "/proxies") or {}
        infos = []
        for name, raw in answer.items():
            if name in self._owned:
                infos.append(ProxyInfo(
                    name=name, listen=raw["listen"], upstream=raw["upstream"],
                    enabled=raw["enabled"],
                    toxics=tuple(_spec_from_server(t) for t in raw.get("toxics") or ())))
        return infos


def _spec_from_server(raw: dict[str, Any]) -> ToxicSpec:
    fields = {k: raw.get(k) for k in ("name", "type", "stream", "toxicity", "attributes")}
    try:
        return ToxicSpec.model_validate(fields)
    except ValueError:  # set by someone else with values we would refuse: report as is
        return ToxicSpec.model_construct(**fields)
