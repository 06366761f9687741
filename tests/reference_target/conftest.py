"""Fixtures: a FakeCardpay behind respx, and the reference target driven in-process.

    async def test_x(cardpay, reftarget):
        async with reftarget(bugs="no-retry") as target:
            response = await target.pay("ord_1")

The app runs its real lifespan (store, shared httpx client, reconciler), and
backoff sleeps go to a recorder instead of the clock unless `real_sleep=True`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

# `examples` is not an installed package: pytest puts the repo root on
# sys.path (pythonpath in pyproject.toml), as the harness runs it from there.
from examples.reference_target import Settings, create_app
from examples.reference_target.bugs import parse_bugs

from .fakes import PROVIDER_URL, FakeCardpay


class SleepRecorder:
    """Stands in for asyncio.sleep in the retry loop: records, does not wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)  # still a scheduling point, like the real one


@dataclass
class Target:
    client: httpx.AsyncClient
    app: Any
    settings: Settings

    @property
    def service(self):
        return self.app.state.service

    async def pay(self, order_id: str = "ord_1", payment_method: str = "pm_card_visa", **fields: Any) -> httpx.Response:
        body = {
            "order_id": order_id,
            "amount": 1200,
            "currency": "usd",
            "payment_method": payment_method,
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            **fields,
        }
        return await self.client.post("/payments", json=body)

    async def status(self, order_id: str = "ord_1") -> httpx.Response:
        return await self.client.get(f"/payments/{order_id}")


@pytest.fixture
def cardpay() -> FakeCardpay:
    fake = FakeCardpay()
    with respx.mock(base_url=PROVIDER_URL, assert_all_called=False) as router:
        router.post("/v1/payment_intents", name="create").mock(side_effect=fake.create)
        router.get("/v1/payment_intents/search", name="search").mock(side_effect=fake.search)
        yield fake


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def settings_factory(tmp_path: Path):
    def make(*, bugs: str = "", **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "cardpay_base_url": PROVIDER_URL,
            "cardpay_api_key": "sk_test_fake",
            "db_path": str(tmp_path / "reference.sqlite3"),
            "bugs": parse_bugs(bugs),
            # Fast reconciliation so pending -> failed fits in a unit test.
            "reconcile_interval_s": 0.05,
            "reconcile_window_s": 0.3,
            "seed": 7,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def reftarget(settings_factory, sleeps: SleepRecorder):
    @asynccontextmanager
    async def start(
        *, real_sleep: bool = False, settings: Settings | None = None, **overrides: Any
    ) -> AsyncIterator[Target]:
        settings = settings or settings_factory(**overrides)
        app = create_app(settings, sleep=None if real_sleep else sleeps, rng=random.Random(settings.seed))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://reftarget.test") as client:
                yield Target(client, app, settings)

    return start
