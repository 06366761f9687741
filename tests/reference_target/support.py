"""Small helpers shared by the reference target tests."""

from __future__ import annotations

import asyncio
import json


async def wait_until(predicate, *, timeout_s: float, interval_s: float = 0.01) -> None:
    """Poll `predicate` (sync or async) until true; fail after timeout_s (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)


def events(caplog, event: str, **match) -> list[dict]:
    """The structured log lines of one kind (e.g. "provider_call") matching the given fields."""
    found = []
    for record in caplog.records:
        if record.name != "reference_target":
            continue
        line = json.loads(record.getMessage())
        if line.get("event") == event and all(line.get(k) == v for k, v in match.items()):
            found.append(line)
    return found
