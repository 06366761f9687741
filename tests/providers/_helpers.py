"""Shared helpers for the integration tests."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager


async def sdk(fn, *args, **kwargs):
    """Run a (synchronous) stripe SDK call in a thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def wait_for(predicate, timeout: float = 5.0, interval: float = 0.01, what: str = "condition"):
    """Poll an async predicate until it returns a truthy value, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(interval)


def pay_params(order: str, pm: str = "pm_card_visa", amount: int = 1200, **extra) -> dict:
    return {"amount": amount, "currency": "usd", "payment_method": pm, "confirm": True,
            "metadata": {"order_id": order}, **extra}


@asynccontextmanager
async def served_cardpay(seed: int = 1):
    """(provider, url) of a CardPay served in the caller's event loop, closed on exit."""
    from mock_providers.cardpay import CardPay
    from mock_providers.core.server import HttpServer

    provider = CardPay(seed=seed)
    server = await HttpServer(provider).start(0)
    try:
        yield provider, server.url
    finally:
        await server.close()
        provider.close()
