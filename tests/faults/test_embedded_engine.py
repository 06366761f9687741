"""Embedded-proxy internals that the conformance suite cannot see."""

from __future__ import annotations

import asyncio

import pytest

from harness.faults import EmbeddedBackend, ToxicSpec
from harness.faults.embedded import link as link_module
from harness.faults.toxics.latency import LatencyToxic

from .support import blob, connect, read_exactly, read_to_end, roundtrip, upstream


@pytest.fixture
async def embedded_echo():
    async with upstream("echo") as echo, EmbeddedBackend() as faults:
        listen = await faults.create_proxy("svc", echo)
        yield faults, listen


async def test_buffering_inside_the_proxy_is_bounded(embedded_echo):
    """A slow direction pauses reading its source instead of buffering everything."""
    faults, listen = embedded_echo
    await faults.add_toxic("svc", ToxicSpec(type="bandwidth", attributes={"rate": 4000}))
    r, w = await connect(listen)
    payload = blob(4_000_000)  # ~1 s at 4000 KB/s
    w.write(payload)
    peak = 0

    async def sample():
        nonlocal peak
        while True:
            for conn in list(faults._proxies["svc"].connections):
                link = conn.links.get("downstream")  # absent while still connecting
                peak = max(peak, link.buffered if link else 0)
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        assert await read_exactly(r, len(payload), 10) == payload
    finally:
        sampler.cancel()
    assert 0 < peak <= link_module.HIGH + 512 * 1024, peak


async def test_a_failing_toxic_closes_its_connection_instead_of_hanging(embedded_echo, monkeypatch, caplog):
    async def boom(self, stub):
        raise RuntimeError("toxic bug")

    monkeypatch.setattr(LatencyToxic, "pipe", boom)
    faults, listen = embedded_echo
    await faults.add_toxic("svc", ToxicSpec(type="latency", attributes={"latency": 10}))
    r, w = await connect(listen)
    w.write(b"x")
    data, outcome, _, _ = await read_to_end(r, 3)
    assert outcome == "eof"
    assert "toxic latency_downstream failed" in caplog.text


async def test_describe_names_the_loop_and_seed():
    async with EmbeddedBackend(seed=3) as faults:
        info = faults.describe()
    assert info["name"] == "embedded" and info["seed"] == 3
    assert info["loop"] in ("uvloop", "asyncio")


async def test_connections_are_forgotten_when_they_end(embedded_echo):
    faults, listen = embedded_echo
    conns = [await connect(listen) for _ in range(20)]
    for r, w in conns:
        await roundtrip(r, w)
        w.close()
    proxy = faults._proxies["svc"]
    for _ in range(200):  # poll with a deadline of ~2 s
        if not proxy.connections:
            break
        await asyncio.sleep(0.01)
    assert not proxy.connections
    assert proxy.accepted == 20
