"""A fault backend whose graceful close hangs or fails still frees what it holds.

``BackendBase.close`` gives ``_close`` ``op_timeout`` seconds; when it times
out, raises, or is cancelled (Ctrl-C), ``_close_hard`` runs: the embedded
proxies stop listening and drop their connections, a managed Toxiproxy server
is stopped. close() itself never raises, except to pass a cancellation on.
Each test would fail without the fallback: the proxy would still accept, the
server would still run.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from harness.errors import FaultBackendError
from harness.faults import EmbeddedBackend, ToxicSpec, ToxiproxyBackend
from tests.toxiproxy_gate import need_toxiproxy

from .support import connect, poll, read_to_end, roundtrip

OP_TIMEOUT_S = 0.3
# close() returns once op_timeout has passed and the hard close ran: the margin is for a busy
# 2-core machine, and still far below "waits for the hang" (which never ends).
CLOSE_MARGIN_S = 3.0


class _GracefulCloseFails:
    """``_close`` hangs forever or raises, as a wedged server or a broken socket would."""

    how = "hangs"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.close_started = asyncio.Event()

    async def _close(self) -> None:
        self.close_started.set()
        if self.how == "raises":
            raise RuntimeError("graceful close broke")
        await asyncio.Event().wait()


class FailingEmbedded(_GracefulCloseFails, EmbeddedBackend):
    pass


class FailingToxiproxy(_GracefulCloseFails, ToxiproxyBackend):
    pass


async def _proxy_in_use(faults, echo: str):
    await faults.start()
    listen = await faults.create_proxy("svc", echo)
    r, w = await connect(listen)
    assert await roundtrip(r, w) < 1.0, "the proxy works before the close"
    return listen, r


async def _assert_hard_closed(faults, listen: str, reader) -> None:
    data, outcome, _, _ = await read_to_end(reader, 3)
    assert data == b"" and outcome in ("eof", "reset"), f"an open connection survived the close: {outcome}"
    with pytest.raises(OSError):
        await connect(listen, timeout=2)
    with pytest.raises(FaultBackendError, match="closed"):
        await faults.add_toxic("svc", ToxicSpec(type="latency", attributes={"latency": 1}))


@pytest.fixture
def failing_embedded():
    made: list[FailingEmbedded] = []

    def make(how: str = "hangs", op_timeout: float = OP_TIMEOUT_S) -> FailingEmbedded:
        faults = FailingEmbedded(op_timeout=op_timeout)
        faults.how = how
        made.append(faults)
        return faults

    yield make
    for faults in made:  # should the fallback ever go missing: a failed test, not a hung event loop
        EmbeddedBackend._close_hard(faults)


@pytest.mark.parametrize("how", ["hangs", "raises"])
async def test_embedded_close_falls_back_to_a_hard_close(echo, how, caplog, failing_embedded):
    faults = failing_embedded(how)
    listen, reader = await _proxy_in_use(faults, echo)
    caplog.set_level(logging.WARNING, logger="harness.faults.backend")
    t0 = time.monotonic()
    await asyncio.wait_for(faults.close(), OP_TIMEOUT_S + CLOSE_MARGIN_S)  # and it does not raise
    elapsed = time.monotonic() - t0
    assert faults.close_started.is_set()
    if how == "hangs":
        assert elapsed >= OP_TIMEOUT_S - 0.01, "the graceful close had its op_timeout"
    await _assert_hard_closed(faults, listen, reader)
    warning = "TimeoutError" if how == "hangs" else "RuntimeError('graceful close broke')"
    assert any("close was incomplete" in r.getMessage() and warning in r.getMessage() for r in caplog.records), \
        caplog.text
    await faults.close()  # idempotent after a hard close too


async def test_a_cancelled_close_still_closes_hard_and_passes_the_cancellation_on(echo, failing_embedded):
    faults = failing_embedded(op_timeout=60)  # only the cancellation can end this close
    listen, reader = await _proxy_in_use(faults, echo)
    closing = asyncio.create_task(faults.close())
    await asyncio.wait_for(faults.close_started.wait(), 5)
    closing.cancel()  # Ctrl-C during teardown
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(closing, CLOSE_MARGIN_S)
    await _assert_hard_closed(faults, listen, reader)


@pytest.mark.toxiproxy
@pytest.mark.parametrize("how", ["hangs", "raises"])
async def test_toxiproxy_close_falls_back_to_stopping_the_server(echo, how):
    faults = FailingToxiproxy(binary=need_toxiproxy(), op_timeout=OP_TIMEOUT_S)
    faults.how = how
    try:
        listen, reader = await _proxy_in_use(faults, echo)
        proc = faults._server.proc
        # The hard close stops the server with a 0.5 s grace before SIGKILL.
        await asyncio.wait_for(faults.close(), OP_TIMEOUT_S + 0.5 + CLOSE_MARGIN_S)
        await poll(lambda: proc.poll() is not None, 5, what="the Toxiproxy server stopped")
        await _assert_hard_closed(faults, listen, reader)
    finally:
        if faults._server is not None and faults._server.proc is not None and faults._server.proc.poll() is None:
            faults._server.proc.kill()
