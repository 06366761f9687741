"""``ControlClient``: the async (aiohttp) client of a provider's control API.

Every call has a deadline. Transport failures and non-2xx answers raise
``ControlError`` (a ``ProviderError``) carrying the HTTP status and the
provider's JSON error, so a rejected fault rule reads like the server said.

    async with ControlClient(url) as ctl:
        rule_id = await ctl.add_fault({"kind": "delay", "delay_ms": 200, "first_n": 1})
        entries = await ctl.journal_all()
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

import aiohttp

from harness.errors import ProviderError

__all__ = ["ControlClient", "ControlError"]

PREFIX = "/__paychaos/"


class ControlError(ProviderError):
    def __init__(self, message: str, status: int | None = None, payload: Any = None):
        super().__init__(message)
        self.status = status
        self.payload = payload


class ControlClient:
    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def _call(self, method: str, sub: str, *, json: Any = None, params: Mapping | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        url = self.url + PREFIX + sub
        try:
            async with self._session.request(method, url, json=json, params=params) as resp:
                try:
                    payload = await resp.json(content_type=None)
                except ValueError:
                    payload = {"error": (await resp.text())[:500]}
                if resp.status >= 400:
                    detail = payload.get("error") if isinstance(payload, dict) else payload
                    raise ControlError(f"{method} {url} -> {resp.status}: {detail}", resp.status, payload)
                return payload
        except asyncio.TimeoutError as exc:
            raise ControlError(f"{method} {url}: no answer within {self.timeout:g} s") from exc
        except aiohttp.ClientError as exc:
            raise ControlError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    # -- the API (docs/interfaces.md section 2) -------------------------------
    async def health(self) -> dict:
        return await self._call("GET", "health")

    async def configure(self, **cfg: Any) -> None:
        """e.g. ``configure(seed=7, order_ref_field="metadata[order_id]", credentials={"api_key": "sk_test_a"})``."""
        await self._call("PUT", "config", json=cfg)

    async def add_fault(self, rule: Mapping[str, Any]) -> str:
        return (await self._call("POST", "faults", json=dict(rule)))["id"]

    async def remove_fault(self, rule_id: str) -> None:
        await self._call("DELETE", f"faults/{rule_id}")

    async def faults(self) -> list[dict]:
        return (await self._call("GET", "faults"))["faults"]

    async def clear_faults(self) -> None:
        await self._call("DELETE", "faults")

    async def journal(self, after: int = 0, limit: int = 1000) -> dict:
        return await self._call("GET", "journal", params={"after": after, "limit": limit})

    async def journal_all(self, after: int = 0, page: int = 5000) -> list[dict]:
        """Every entry after ``after``, paging until the journal is exhausted."""
        out: list[dict] = []
        while True:
            chunk = await self.journal(after, page)
            out.extend(chunk["entries"])
            if len(chunk["entries"]) < page:
                return out
            after = chunk["next"]

    async def ledger(self) -> dict:
        return await self._call("GET", "ledger")

    async def reset(self) -> None:
        await self._call("POST", "reset")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> "ControlClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
