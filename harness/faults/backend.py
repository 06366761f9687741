"""The fault-backend interface, and the base both backends share.

``FaultBackend`` is the contract (docs/interfaces.md section 6). ``BackendBase``
does, once for both backends, what must not differ between them: argument
checks, the operation deadline, translation of stray exceptions into
``FaultBackendError``, the ``down`` pseudo-toxic, and the record of every
applied change in ``events`` (monotonic and wall time, for the run journal's
"faults as applied").
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from ..errors import FaultBackendError, PaychaosError
from .spec import ProxyInfo, ToxicSpec, check_proxy_name, check_upstream

__all__ = ["FaultBackend", "BackendBase"]

log = logging.getLogger(__name__)


@runtime_checkable
class FaultBackend(Protocol):
    name: str  # "embedded" | "toxiproxy"
    events: list[dict[str, Any]]

    async def start(self) -> None: ...
    async def create_proxy(self, name: str, upstream: str) -> str: ...
    async def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None: ...
    async def update_toxic(self, proxy: str, toxic: ToxicSpec) -> None: ...
    async def remove_toxic(self, proxy: str, toxic_name: str) -> None: ...
    async def set_enabled(self, proxy: str, enabled: bool) -> None: ...
    async def reset(self) -> None: ...
    async def list(self) -> list[ProxyInfo]: ...
    def describe(self) -> dict[str, Any]: ...
    def deliveries(self, proxy: str) -> list[dict[str, Any]] | None: ...
    async def close(self) -> None: ...


def _wall() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class BackendBase:
    """Template for a backend: subclasses implement the ``_``-prefixed methods."""

    name = "?"

    def __init__(self, *, op_timeout: float = 30.0):
        self.op_timeout = op_timeout
        self.events: list[dict[str, Any]] = []
        self._downs: dict[str, dict[str, ToxicSpec]] = {}  # proxy -> down pseudo-toxics
        self._started = False
        self._closed = False

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        if self._closed:
            raise FaultBackendError(f"{self.name} fault backend is closed; open a new one")
        if not self._started:
            await self._guard("start", None, self._start())
            self._started = True

    async def close(self) -> None:
        """Remove what we created and stop what we started. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self._close(), self.op_timeout)
        except BaseException as exc:  # teardown must finish even on Ctrl-C
            log.warning("%s fault backend: close was incomplete: %r", self.name, exc)
            self._close_hard()
            if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # -- the interface -----------------------------------------------------

    async def create_proxy(self, name: str, upstream: str) -> str:
        """Listen on 127.0.0.1:<free port> in front of ``upstream``; return the listen address."""
        try:
            check_proxy_name(name)
            host, port = check_upstream(upstream)
        except ValueError as exc:
            raise FaultBackendError(str(exc)) from None
        await self._ready()
        t0 = time.monotonic()
        listen = await self._guard("create_proxy", name, self._create_proxy(name, host, port, upstream))
        self._record("create_proxy", t0, name, None, {"upstream": upstream, "listen": listen})
        return listen

    async def add_toxic(self, proxy: str, toxic: ToxicSpec | dict[str, Any]) -> None:
        spec = self._spec(toxic)
        await self._ready()
        t0 = time.monotonic()
        downs = self._downs.get(proxy, {})
        if spec.name in downs:
            raise FaultBackendError(f"toxic '{spec.name}' already exists on proxy '{proxy}'")
        if spec.proxy_level:
            await self._require_proxy(proxy)
            if not downs:
                await self._guard("add_toxic", proxy, self._set_enabled(proxy, False))
            self._downs.setdefault(proxy, {})[spec.name] = spec
        else:
            await self._guard("add_toxic", proxy, self._add_toxic(proxy, spec))
        self._record("add_toxic", t0, proxy, spec.name, spec.attributes, spec)

    async def update_toxic(self, proxy: str, toxic: ToxicSpec | dict[str, Any]) -> None:
        """Replace a toxic's attributes and toxicity (type and stream must not change)."""
        spec = self._spec(toxic)
        await self._ready()
        t0 = time.monotonic()
        downs = self._downs.get(proxy, {})
        if spec.name in downs or spec.proxy_level:
            if spec.name not in downs or not spec.proxy_level:
                raise FaultBackendError(
                    f"toxic '{spec.name}' on proxy '{proxy}' cannot change type to or from "
                    f"'down': remove it and add a new one")
            downs[spec.name] = spec
        else:
            await self._guard("update_toxic", proxy, self._update_toxic(proxy, spec))
        self._record("update_toxic", t0, proxy, spec.name, spec.attributes, spec)

    async def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        await self._ready()
        t0 = time.monotonic()
        downs = self._downs.get(proxy, {})
        if toxic_name in downs:
            del downs[toxic_name]
            if not downs:
                await self._guard("remove_toxic", proxy, self._set_enabled(proxy, True))
        else:
            await self._guard("remove_toxic", proxy, self._remove_toxic(proxy, toxic_name))
        self._record("remove_toxic", t0, proxy, toxic_name, None)

    async def set_enabled(self, proxy: str, enabled: bool) -> None:
        """enabled=False is ``down``: connections closed, new ones refused."""
        await self._ready()
        t0 = time.monotonic()
        await self._guard("set_enabled", proxy, self._set_enabled(proxy, bool(enabled)))
        if enabled:
            self._downs.pop(proxy, None)  # the proxy is up: no down pseudo-toxic holds
        self._record("enable" if enabled else "disable", t0, proxy, None, None)

    async def reset(self) -> None:
        """Every proxy we created enabled, with no toxics."""
        await self._ready()
        t0 = time.monotonic()
        await self._guard("reset", None, self._reset())
        self._downs.clear()
        self._record("reset", t0, None, None, None)

    async def list(self) -> list[ProxyInfo]:
        await self._ready()
        infos = await self._guard("list", None, self._list())
        out = []
        for info in infos:
            downs = tuple(self._downs.get(info.name, {}).values())
            out.append(info.model_copy(update={"toxics": info.toxics + downs}) if downs else info)
        return out

    def deliveries(self, proxy: str) -> list[dict[str, Any]] | None:
        """Per connection of ``proxy``: ``{port, t_open, t_close, delivered}`` (the
        upstream port the provider saw, and how many reply bytes reached the
        service). None when the backend cannot say (a Toxiproxy server)."""
        return None

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------

    async def _ready(self) -> None:
        if self._closed:
            raise FaultBackendError(f"{self.name} fault backend is closed; open a new one")
        if not self._started:
            await self.start()

    def _spec(self, toxic: ToxicSpec | dict[str, Any]) -> ToxicSpec:
        if isinstance(toxic, ToxicSpec):
            return toxic
        try:
            return ToxicSpec.model_validate(toxic)
        except ValidationError as exc:
            raise FaultBackendError(f"invalid toxic {toxic!r}:\n{exc}") from None

    async def _guard(self, action: str, proxy: str | None, coro):
        """Run one backend operation with a deadline; translate stray exceptions."""
        try:
            return await asyncio.wait_for(coro, self.op_timeout)
        except PaychaosError:
            raise
        except asyncio.TimeoutError:
            where = f" on proxy '{proxy}'" if proxy else ""
            raise FaultBackendError(
                f"{self.name}: {action}{where} did not finish within {self.op_timeout:g}s") from None
        except (OSError, RuntimeError, ValueError) as exc:
            where = f" on proxy '{proxy}'" if proxy else ""
            raise FaultBackendError(f"{self.name}: {action}{where} failed: {exc}") from exc

    def _record(self, action: str, t_start: float, proxy: str | None, toxic: str | None,
                attributes: dict[str, Any] | None, spec: ToxicSpec | None = None) -> None:
        event: dict[str, Any] = {
            "t": time.monotonic(), "wall": _wall(), "t_start": t_start, "backend": self.name,
            "action": action, "proxy": proxy, "toxic": toxic,
            "attributes": dict(attributes) if attributes is not None else None,
        }
        if spec is not None:
            event.update(type=spec.type, stream=spec.stream, toxicity=spec.toxicity)
        self.events.append(event)

    # -- for subclasses ------------------------------------------------------

    async def _start(self) -> None:
        raise NotImplementedError

    async def _create_proxy(self, name: str, host: str, port: int, upstream: str) -> str:
        raise NotImplementedError

    async def _require_proxy(self, proxy: str) -> None:
        raise NotImplementedError

    async def _add_toxic(self, proxy: str, spec: ToxicSpec) -> None:
        raise NotImplementedError

    async def _update_toxic(self, proxy: str, spec: ToxicSpec) -> None:
        raise NotImplementedError

    async def _remove_toxic(self, proxy: str, name: str) -> None:
        raise NotImplementedError

    async def _set_enabled(self, proxy: str, enabled: bool) -> None:
        raise NotImplementedError

    async def _reset(self) -> None:
        raise NotImplementedError

    async def _list(self) -> list[ProxyInfo]:
        raise NotImplementedError

    async def _close(self) -> None:
        raise NotImplementedError

    def _close_hard(self) -> None:
        """Last resort when ``_close`` failed or timed out: free OS resources now."""
