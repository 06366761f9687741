"""Where the embedded proxy deliberately differs from Toxiproxy 2.5.0.

Each test states both behaviours, so a Toxiproxy upgrade that changes one
shows up here, and README's list of differences stays true.
"""

from __future__ import annotations

import asyncio
import time

from harness.faults import ToxicSpec

from .support import connect, read_to_end, roundtrip


async def test_reset_peer_added_to_a_live_connection(echo_proxy, backend_kind):
    """Toxiproxy sets SO_LINGER 0 only on links created while the toxic exists, so
    a connection that predates the toxic gets FIN; embedded resets it anyway."""
    faults, listen = echo_proxy
    r, w = await connect(listen)
    assert await roundtrip(r, w) < 0.1
    await faults.add_toxic("svc", ToxicSpec(type="reset_peer", attributes={"timeout": 0}))
    w.write(b"x")
    data, outcome, _, _ = await read_to_end(r, 3)
    assert data == b""
    assert outcome == {"embedded": "reset", "toxiproxy": "eof"}[backend_kind]


async def test_removing_an_armed_reset_peer(echo_proxy, backend_kind):
    """Go's reset_peer waits out its timeout uninterruptibly, so the DELETE blocks
    for it; embedded fires the reset at once. The peer is reset either way."""
    faults, listen = echo_proxy
    await faults.add_toxic("svc", ToxicSpec(type="reset_peer", stream="upstream",
                                            attributes={"timeout": 1500}))
    r, w = await connect(listen)
    w.write(b"arm")
    data, outcome, _, _ = await read_to_end(r, 0.2)
    assert outcome == "timeout"
    t0 = time.monotonic()
    await asyncio.wait_for(faults.remove_toxic("svc", "reset_peer_upstream"), 5)
    removal = time.monotonic() - t0
    data, outcome, _, _ = await read_to_end(r, 3)
    assert outcome == "reset"
    if backend_kind == "embedded":
        assert removal < 0.5, removal
    else:
        assert 0.9 < removal < 2.5, removal
