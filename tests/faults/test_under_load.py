"""Changing toxics and tearing down under 100 busy connections never hangs.

Toxiproxy issues #159, #210, #412, #558: removing a toxic under traffic could
block the API forever. Each step here has a hard deadline (asyncio.wait_for),
and the traffic must keep flowing, or end cleanly, afterwards.
"""

from __future__ import annotations

import asyncio
import time

from harness.faults import ToxicSpec

from .support import blob, connect, poll

CONNECTIONS = 100
STEP_DEADLINE = 10.0


class Traffic:
    """Each connection echoes 1 KB messages in a loop until stopped or closed."""

    def __init__(self, listen: str):
        self.listen = listen
        self.rounds = [0] * CONNECTIONS
        self.ended: dict[int, str] = {}
        self.stop = False
        self.tasks: list[asyncio.Task] = []

    async def _client(self, i: int, reader, writer) -> None:
        payload = blob(1024)
        try:
            while not self.stop:
                writer.write(payload)
                got = await asyncio.wait_for(reader.readexactly(len(payload)), 30)
                assert got == payload, "bytes corrupted or reordered"
                self.rounds[i] += 1
            self.ended[i] = "stopped"
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self.ended[i] = type(exc).__name__
        finally:
            writer.close()

    async def start(self) -> None:
        conns = await asyncio.gather(*(connect(self.listen) for _ in range(CONNECTIONS)))
        self.tasks = [asyncio.create_task(self._client(i, r, w)) for i, (r, w) in enumerate(conns)]
        # Several rounds each, so the changes below land on connections in full flow.
        await poll(lambda: min(self.rounds) >= 5, 10, what="every connection echoing")

    def snapshot(self) -> list[int]:
        return list(self.rounds)

    async def progressed_since(self, before: list[int], timeout: float = 10) -> None:
        await poll(lambda: all(now > then for now, then in zip(self.rounds, before)), timeout,
                   what="every connection making progress")

    async def ended_within(self, timeout: float = STEP_DEADLINE) -> dict[int, str]:
        """Wait for every client to end; return how each ended.

        A connection closed under it (EOF, reset) is an expected way to end and is
        recorded by the client; anything else a client raised (bytes corrupted, a
        read that hung) is a failure of the proxy and is raised here, never swallowed.
        """
        results = await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), timeout)
        unexpected = {i: repr(r) for i, r in enumerate(results) if isinstance(r, BaseException)}
        assert not unexpected, f"{len(unexpected)} clients failed: {dict(list(unexpected.items())[:5])}"
        return dict(self.ended)

    async def finish(self, timeout: float = STEP_DEADLINE) -> None:
        """Stop every client cleanly: each must end because it was told to."""
        self.stop = True
        ended = await self.ended_within(timeout)
        broken = {i: how for i, how in ended.items() if how != "stopped"}
        assert len(ended) == CONNECTIONS and not broken, f"connections broke: {broken}"


async def test_remove_and_update_under_traffic_never_hang(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", ToxicSpec(type="latency", name="lat", attributes={"latency": 20, "jitter": 10}))
    await faults.add_toxic("svc", ToxicSpec(type="slicer", name="sl", stream="upstream",
                                            attributes={"average_size": 200, "size_variation": 50, "delay": 500}))
    await faults.add_toxic("svc", ToxicSpec(type="bandwidth", name="bw", attributes={"rate": 2000}))
    traffic = Traffic(listen)
    await traffic.start()

    for step in (
        faults.update_toxic("svc", ToxicSpec(type="latency", name="lat", attributes={"latency": 5})),
        faults.remove_toxic("svc", "sl"),
        faults.remove_toxic("svc", "lat"),
        faults.remove_toxic("svc", "bw"),
    ):
        before = traffic.snapshot()
        t0 = time.monotonic()
        await asyncio.wait_for(step, STEP_DEADLINE)
        assert time.monotonic() - t0 < STEP_DEADLINE
        await traffic.progressed_since(before)

    assert not traffic.ended, f"connections broke: {traffic.ended}"
    await traffic.finish()  # and every one of them ends because it was told to


async def test_removing_a_holding_timeout_under_traffic_closes_cleanly(echo_proxy):
    faults, listen = echo_proxy
    traffic = Traffic(listen)
    await traffic.start()
    await faults.add_toxic("svc", ToxicSpec(type="timeout", attributes={"timeout": 0}))
    await asyncio.wait_for(faults.remove_toxic("svc", "timeout_downstream"), STEP_DEADLINE)
    # Held connections are closed by the removal (Toxiproxy's Cleanup); none may hang.
    ended = await traffic.ended_within(STEP_DEADLINE)
    assert len(ended) == CONNECTIONS
    assert set(ended.values()) <= {"IncompleteReadError", "ConnectionResetError"}, ended


async def test_teardown_under_traffic_never_hangs(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", ToxicSpec(type="latency", attributes={"latency": 30}))
    await faults.add_toxic("svc", ToxicSpec(type="slow_close", stream="upstream", attributes={"delay": 60_000}))
    traffic = Traffic(listen)
    await traffic.start()
    await asyncio.wait_for(faults.close(), STEP_DEADLINE)
    ended = await traffic.ended_within(STEP_DEADLINE)
    assert len(ended) == CONNECTIONS, "every client saw its connection end"
    # Closed under them by the teardown, not stopped by the test.
    assert set(ended.values()) <= {"IncompleteReadError", "ConnectionResetError"}, ended
