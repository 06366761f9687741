"""Real sockets on 127.0.0.1: a provider that accepts connections and never answers.

No respx here: this checks the real httpx timeouts the service configures,
and that the no-client-timeout bug really hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from examples.reference_target.store import PENDING


@pytest.fixture
async def silent_provider():
    handlers: list[asyncio.Task] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())
        try:
            while await reader.read(65536):  # read the request, never answer
                pass
        finally:
            writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def test_silent_provider_times_out_within_budget_and_answers_pending(silent_provider, reftarget):
    timeout = 0.2
    async with reftarget(
        real_sleep=True, cardpay_base_url=silent_provider, timeout_s=timeout, reconcile_window_s=60.0
    ) as target:
        started = time.monotonic()
        response = await target.pay("ord_silent")
        elapsed = time.monotonic() - started
        order = target.service.get("ord_silent")
    assert response.status_code == 202
    assert order.status == PENDING and order.attempts == 3
    # 3 read timeouts + sleeps in [0.1, 0.2] and [0.2, 0.4] + one lookup that times out too.
    lower = 3 * timeout + 0.1 + 0.2 + timeout
    upper = 3 * timeout + 0.2 + 0.4 + timeout
    assert lower - 0.01 <= elapsed <= upper + 0.5


async def test_no_client_timeout_hangs_on_a_silent_provider(silent_provider, reftarget):
    async with reftarget(
        real_sleep=True, cardpay_base_url=silent_provider, timeout_s=0.2, bugs="no-client-timeout"
    ) as target:
        # The correct service answers within ~1.4 s here (test above).
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(target.pay("ord_hang"), timeout=2.5)
        assert target.service.get("ord_hang").attempts == 1
