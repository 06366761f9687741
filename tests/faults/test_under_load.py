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

    async def finish(self, timeout: float = STEP_DEADLINE) -> None:
        self.stop = True
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), timeout)


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
    await traffic.finish()


async def test_removing_a_holding_timeout_under_traffic_closes_cleanly(echo_proxy):
    faults, listen = echo_proxy
    traffic = Traffic(listen)
    await traffic.start()
    await faults.add_toxic("svc", ToxicSpec(type="timeout", attributes={"timeout": 0}))
    await asyncio.wait_for(faults.remove_toxic("svc", "timeout_downstream"), STEP_DEADLINE)
    # Held connections are closed by the removal (Toxiproxy's Cleanup); none may hang.
    await asyncio.wait_for(asyncio.gather(*traffic.tasks, return_exceptions=True), STEP_DEADLINE)
    assert len(traffic.ended) == CONNECTIONS
    assert set(traffic.ended.values()) <= {"IncompleteReadError", "ConnectionResetError"}


async def test_teardown_under_traffic_never_hangs(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", ToxicSpec(type="latency", attributes={"latency": 30}))
    await faults.add_toxic("svc", ToxicSpec(type="slow_close", stream="upstream", attributes={"delay": 60_000}))
    traffic = Traffic(listen)
    await traffic.start()
    await asyncio.wait_for(faults.close(), STEP_DEADLINE)
    await asyncio.wait_for(asyncio.gather(*traffic.tasks, return_exceptions=True), STEP_DEADLINE)
    assert len(traffic.ended) == CONNECTIONS, "every client saw its connection end"
