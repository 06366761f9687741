"""Fixtures for the mock-provider tests.

- ``provider_host``: ONE real provider-host process for the session
  (``python -m mock_providers serve``), driven from a background event loop so
  that every test's own loop can talk to it.
- ``cardpay``: that host's cardpay, reset before the test: (url, ControlClient).
- ``inproc``: a CardPay server inside the test's own loop (fast wire tests).
- ``stripe_client``: a factory of official stripe SDK clients aimed at a URL;
  their HTTP sessions are closed at teardown (warnings are errors).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests
import stripe

from mock_providers.control import ControlClient
from mock_providers.host import ProviderHost

from ._helpers import served_cardpay


class _LoopThread:
    """An event loop running in a daemon thread; ``run(coro)`` waits for a result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="provider-host-loop", daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="session")
def provider_host(tmp_path_factory):
    lt = _LoopThread()
    host = ProviderHost(["cardpay"], seed=1, journal_dir=tmp_path_factory.mktemp("journal"))
    try:
        lt.run(host.start())
        yield host
    finally:
        lt.run(host.stop())
        lt.close()


@pytest.fixture
async def cardpay(provider_host):
    url = provider_host.urls["cardpay"]
    ctl = ControlClient(url)
    await ctl.reset()
    await ctl.configure(seed=1, order_ref_field="metadata[order_id]", api_keys=None, idempotency_ttl_s=86400)
    try:
        yield url, ctl
    finally:
        await ctl.close()


@pytest.fixture
async def inproc():
    """(provider, url) of a CardPay served in this test's loop."""
    async with served_cardpay() as served:
        yield served


@pytest.fixture
def stripe_client():
    sessions: list[requests.Session] = []

    def make(url: str, key: str = "sk_test_paychaos", retries: int = 0, timeout: float = 10.0):
        session = requests.Session()
        sessions.append(session)
        return stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=retries,
                                   http_client=stripe.RequestsClient(session=session, timeout=timeout))

    yield make
    for session in sessions:
        session.close()


@pytest.fixture(scope="session")
def stripe_mock(tmp_path_factory):
    """URL of ONE real stripe-mock for the session (tests/providers/stripe_mock.py): a visible
    skip without `make stripe-mock`, a failure with PAYCHAOS_REQUIRE_STRIPE_MOCK=1 (CI)."""
    from .stripe_mock import StripeMock, need_stripe_mock

    server = StripeMock(need_stripe_mock(), tmp_path_factory.mktemp("stripe-mock") / "stripe-mock.log")
    try:
        yield server.start()
    finally:
        server.stop()
