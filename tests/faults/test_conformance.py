"""One behaviour, two backends: each toxic's observable effect on real sockets.

Every test runs against the embedded proxy and the real Toxiproxy server
(``backend`` fixture). Tolerances are explicit and generous (2 noisy cores)
but each still separates "applied" from "not applied".
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from harness.errors import FaultBackendError
from harness.faults import ToxicSpec

from .support import (assert_between, blob, close_quietly, connect, read_exactly,
                      read_to_end, roundtrip)


def spec(type_: str, stream: str = "downstream", toxicity: float = 1.0, name: str | None = None,
         **attributes) -> ToxicSpec:
    fields = dict(type=type_, stream=stream, toxicity=toxicity, attributes=attributes)
    if name:
        fields["name"] = name
    return ToxicSpec(**fields)


# A delaying toxic that is applied can never deliver sooner than its delay (the low bounds of
# assert_between allow only 10 ms of timer slack). So a round trip UNDER_TOXIC_S below the delay
# it is compared with is "not applied", and everything up to there is room for a busy 2-core
# machine: a 200 ms toxic gives a 150 ms ceiling (a baseline is ~1 ms when idle).
UNDER_TOXIC_S = 0.050
# Where the alternative is a connection held or refused (no delay to compare with), "it flows
# again" only needs an answer well inside roundtrip()'s 5 s read deadline.
FLOWS_S = 1.0


def assert_unaffected(elapsed: float, toxic_s: float, what: str) -> None:
    """``elapsed`` shows no trace of a toxic that delays by ``toxic_s``."""
    ceiling = toxic_s - UNDER_TOXIC_S
    assert elapsed < ceiling, (f"{what}: {elapsed * 1000:.1f} ms, expected under {ceiling * 1000:.0f} ms "
                               f"(the toxic's {toxic_s * 1000:.0f} ms less {UNDER_TOXIC_S * 1000:.0f} ms)")


def assert_flows(elapsed: float, what: str) -> None:
    assert elapsed < FLOWS_S, f"{what}: {elapsed * 1000:.1f} ms, expected under {FLOWS_S * 1000:.0f} ms"


async def test_passes_bytes_intact_both_ways(echo_proxy):
    _, listen = echo_proxy
    r, w = await connect(listen)
    payload = blob(1_000_000)  # well past the flow-control marks
    w.write(payload)
    assert await read_exactly(r, len(payload), 10) == payload
    close_quietly(w)


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
async def test_latency_delays_each_way(echo_proxy, stream):
    faults, listen = echo_proxy
    r, w = await connect(listen)
    assert_unaffected(await roundtrip(r, w), 0.200, "baseline")  # and an existing connection...
    await faults.add_toxic("svc", spec("latency", stream, latency=200))
    assert_between(await roundtrip(r, w), 0.190, 0.400, f"{stream} latency 200 ms")  # ...gets it
    r2, w2 = await connect(listen)  # and so does a new one
    assert_between(await roundtrip(r2, w2), 0.190, 0.400, "latency on a new connection")
    close_quietly(w), close_quietly(w2)


async def test_latency_toxics_chain_in_order_and_add_up(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", name="first", latency=100))
    await faults.add_toxic("svc", spec("latency", name="second", latency=150))
    assert [t.name for t in (await faults.list())[0].toxics] == ["first", "second"]
    r, w = await connect(listen)
    assert_between(await roundtrip(r, w), 0.240, 0.500, "100 + 150 ms chained")
    close_quietly(w)


async def test_jitter_spreads_delays(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=100, jitter=80))
    r, w = await connect(listen)
    samples = [await roundtrip(r, w) for _ in range(20)]
    # Each delay is uniform in [20, 180) ms; 20 draws span well over 60 ms.
    assert min(samples) >= 0.010, samples
    assert max(samples) <= 0.300, samples
    assert max(samples) - min(samples) >= 0.060, f"spread too narrow: {samples}"
    assert statistics.pstdev(samples) >= 0.015, samples
    close_quietly(w)


async def test_bandwidth_limits_rate(blob_proxy):
    faults, listen = blob_proxy
    await faults.add_toxic("blob", spec("bandwidth", rate=100))  # 100 KB/s
    r, w = await connect(listen)
    w.write(b"150000\n")
    data, outcome, elapsed, _ = await read_to_end(r, 10)
    assert outcome == "eof" and data == blob(150_000)
    assert_between(elapsed, 1.35, 2.6, "150 KB at 100 KB/s (1.5 s)")
    close_quietly(w)


async def test_limit_data_counts_bytes_across_the_connection(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("limit_data", bytes=100))
    r, w = await connect(listen)
    w.write(blob(60))
    assert await read_exactly(r, 60, 5) == blob(60)
    w.write(blob(60))
    data, outcome, _, _ = await read_to_end(r, 5)
    assert (len(data), outcome) == (40, "eof"), "the second write is cut at 100 bytes in total"
    assert data == blob(60)[:40]
    close_quietly(w)


async def test_reset_peer_resets_at_once(echo_proxy):
    faults, listen = echo_proxy
    # Added before connecting: Toxiproxy only sets SO_LINGER 0 on links it creates after.
    await faults.add_toxic("svc", spec("reset_peer", timeout=0))
    r, w = await connect(listen)
    w.write(b"hello")
    data, outcome, elapsed, _ = await read_to_end(r, 3)
    assert (data, outcome) == (b"", "reset"), "expected ECONNRESET and no data"
    assert elapsed < 1.0
    close_quietly(w)


async def test_reset_peer_after_timeout(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("reset_peer", "upstream", timeout=300))
    r, w = await connect(listen)
    w.write(b"hello")  # the first chunk arms it, and is dropped
    data, outcome, elapsed, _ = await read_to_end(r, 3)
    assert (data, outcome) == (b"", "reset")
    assert_between(elapsed, 0.280, 0.800, "reset 300 ms after the first data")
    close_quietly(w)


async def test_timeout_drops_data_then_closes(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("timeout", timeout=400))
    r, w = await connect(listen)
    w.write(b"ping")  # its echo is dropped; the timer restarts on it
    data, outcome, elapsed, _ = await read_to_end(r, 3)
    assert (data, outcome) == (b"", "eof")
    assert_between(elapsed, 0.380, 0.900, "closed 400 ms after the last data")
    close_quietly(w)


async def test_timeout_zero_holds_until_removed_then_closes(echo_proxy):
    faults, listen = echo_proxy
    r, w = await connect(listen)
    assert_flows(await roundtrip(r, w), "baseline")
    await faults.add_toxic("svc", spec("timeout", timeout=0))
    w.write(b"held?")
    data, outcome, _, _ = await read_to_end(r, 0.6)
    assert (data, outcome) == (b"", "timeout"), "no data and no close while the toxic holds"
    # Toxiproxy 2.5.0 (toxics/timeout.go): the held data was dropped, and removing
    # the toxic CLOSES the connection it held (TestTimeoutToxicClosesConnectionOnRemove).
    await faults.remove_toxic("svc", "timeout_downstream")
    data, outcome, elapsed, _ = await read_to_end(r, 3)
    assert (data, outcome) == (b"", "eof")
    assert elapsed < 1.0
    r2, w2 = await connect(listen)  # recovery: new connections flow
    assert_flows(await roundtrip(r2, w2), "a new connection after the removal")
    close_quietly(w), close_quietly(w2)


async def test_slow_close_delays_the_close(blob_proxy):
    faults, listen = blob_proxy
    r, w = await connect(listen)
    w.write(b"10\n")
    data, outcome, elapsed, _ = await read_to_end(r, 3)
    assert (data, outcome) == (blob(10), "eof")
    assert_unaffected(elapsed, 0.300, "baseline: prompt close")
    await faults.add_toxic("blob", spec("slow_close", delay=300))
    r, w = await connect(listen)
    w.write(b"10\n")
    data, outcome, elapsed, arrivals = await read_to_end(r, 3)
    assert (data, outcome) == (blob(10), "eof")
    assert_unaffected(arrivals[0], 0.300, "the data itself is not delayed")
    assert_between(elapsed, 0.290, 0.800, "close held 300 ms")
    close_quietly(w)


async def test_slicer_delivers_in_several_chunks(blob_proxy):
    faults, listen = blob_proxy
    await faults.add_toxic("blob", spec("slicer", average_size=100, size_variation=20, delay=10_000))
    r, w = await connect(listen)
    w.write(b"2000\n")
    data, outcome, elapsed, arrivals = await read_to_end(r, 5)
    assert (data, outcome) == (blob(2000), "eof"), "slices arrive whole and in order"
    assert len(arrivals) >= 5, f"expected many small reads, got {len(arrivals)}"
    assert elapsed >= 0.1, "about 20 slices 10 ms apart"
    close_quietly(w)


@pytest.mark.parametrize("how", ["set_enabled", "down_toxic"])
async def test_down_refuses_then_recovers(echo_proxy, how):
    faults, listen = echo_proxy
    r, w = await connect(listen)
    assert_flows(await roundtrip(r, w), "baseline")
    if how == "set_enabled":
        await faults.set_enabled("svc", False)
    else:
        await faults.add_toxic("svc", {"type": "down", "name": "outage"})
    data, outcome, _, _ = await read_to_end(r, 2)
    assert outcome in ("eof", "reset"), "existing connections are closed"
    with pytest.raises(ConnectionRefusedError):
        await connect(listen)
    assert not (await faults.list())[0].enabled
    if how == "set_enabled":
        await faults.set_enabled("svc", True)
    else:
        await faults.remove_toxic("svc", "outage")
    r2, w2 = await connect(listen)  # same address as before
    assert_flows(await roundtrip(r2, w2), "a new connection after the outage")
    close_quietly(w), close_quietly(w2)


async def test_recovery_after_removal_on_the_same_connection(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=300))
    r, w = await connect(listen)
    assert await roundtrip(r, w) >= 0.290
    await faults.remove_toxic("svc", "latency_downstream")
    assert_unaffected(await roundtrip(r, w), 0.300, "after removal")
    assert (await faults.list())[0].toxics == ()
    close_quietly(w)


async def test_toxicity_zero_and_one(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", toxicity=0.0, latency=300))
    conns = [await connect(listen) for _ in range(5)]
    for r, w in conns:
        assert_unaffected(await roundtrip(r, w), 0.300, "toxicity 0 never applies")
    await faults.update_toxic("svc", spec("latency", toxicity=1.0, latency=300))
    for r, w in conns + [await connect(listen)]:
        assert await roundtrip(r, w) >= 0.29, "toxicity 1 always applies"
        close_quietly(w)


async def test_update_changes_attributes_live(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=100))
    r, w = await connect(listen)
    assert_between(await roundtrip(r, w), 0.095, 0.300, "before update")
    await faults.update_toxic("svc", spec("latency", latency=400))
    assert_between(await roundtrip(r, w), 0.390, 0.700, "after update")
    (info,) = await faults.list()
    assert info.toxics[0].attributes == {"latency": 400, "jitter": 0}
    close_quietly(w)


async def test_update_cannot_change_type_or_stream(echo_proxy):
    faults, _ = echo_proxy
    await faults.add_toxic("svc", spec("latency", name="t", latency=10))
    with pytest.raises(FaultBackendError, match="remove it and add a new one"):
        await faults.update_toxic("svc", spec("latency", "upstream", name="t", latency=10))
    with pytest.raises(FaultBackendError, match="remove it and add a new one"):
        await faults.update_toxic("svc", spec("timeout", name="t"))


async def test_errors_name_the_problem(echo_proxy):
    faults, _ = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=10))
    with pytest.raises(FaultBackendError, match="already exists"):
        await faults.add_toxic("svc", spec("latency", latency=20))
    with pytest.raises(FaultBackendError, match="not found"):
        await faults.remove_toxic("svc", "nope")
    with pytest.raises(FaultBackendError, match="not found"):
        await faults.add_toxic("ghost", spec("latency", latency=10))
    with pytest.raises(FaultBackendError, match="already exists"):
        await faults.create_proxy("svc", "127.0.0.1:9")
    with pytest.raises(FaultBackendError, match="upstream='nowhere' is invalid"):
        await faults.create_proxy("other", "nowhere")


async def test_unreachable_upstream_closes_the_client(backend):
    listen = await backend.create_proxy("dead", "127.0.0.1:9")  # discard port: refused
    r, w = await connect(listen)
    w.write(b"anyone?")
    data, outcome, _, _ = await read_to_end(r, 3)
    assert data == b"" and outcome in ("eof", "reset")
    close_quietly(w)


async def test_reset_restores_every_proxy(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=300))
    await faults.add_toxic("svc", spec("bandwidth", "upstream", rate=1))
    await faults.set_enabled("svc", False)
    await faults.reset()
    (info,) = await faults.list()
    assert info.enabled and info.toxics == ()
    r, w = await connect(listen)
    assert_unaffected(await roundtrip(r, w), 0.300, "after reset: no latency, no 1 KB/s limit, enabled")
    close_quietly(w)


async def test_changes_are_recorded_with_timestamps(echo_proxy):
    faults, _ = echo_proxy
    before = time.monotonic()
    await faults.add_toxic("svc", spec("latency", latency=50))
    await faults.update_toxic("svc", spec("latency", latency=60))
    await faults.remove_toxic("svc", "latency_downstream")
    await faults.set_enabled("svc", False)
    await faults.set_enabled("svc", True)
    actions = [(e["action"], e["proxy"], e["toxic"]) for e in faults.events]
    assert actions == [
        ("create_proxy", "svc", None),
        ("add_toxic", "svc", "latency_downstream"),
        ("update_toxic", "svc", "latency_downstream"),
        ("remove_toxic", "svc", "latency_downstream"),
        ("disable", "svc", None),
        ("enable", "svc", None),
    ]
    applied = faults.events[1:]
    assert all(before <= e["t_start"] <= e["t"] for e in applied)
    assert [e["t"] for e in applied] == sorted(e["t"] for e in applied)
    assert faults.events[2]["attributes"] == {"latency": 60, "jitter": 0}
    assert faults.events[1]["wall"].endswith("Z")
    info = faults.describe()
    assert info["name"] == faults.name and info["version"]


async def test_close_is_idempotent_and_final(echo_proxy):
    faults, listen = echo_proxy
    r, w = await connect(listen)
    await faults.close()
    await faults.close()
    data, outcome, _, _ = await read_to_end(r, 3)
    assert outcome in ("eof", "reset")
    with pytest.raises(OSError):
        await connect(listen)
    with pytest.raises(FaultBackendError, match="closed"):
        await faults.add_toxic("svc", spec("latency", latency=1))
    close_quietly(w)


async def test_toxic_reaches_connections_opened_before_and_after(echo_proxy):
    faults, listen = echo_proxy
    early = [await connect(listen) for _ in range(10)]
    await faults.add_toxic("svc", spec("latency", "upstream", latency=150))
    late = [await connect(listen) for _ in range(10)]
    times = await asyncio.gather(*(roundtrip(r, w) for r, w in early + late))
    assert all(0.14 <= t <= 0.6 for t in times), times
    for _, w in early + late:
        close_quietly(w)


async def test_removing_latency_mid_delay_releases_the_data_at_once(echo_proxy):
    """CREATING_TOXICS.md: an interrupted toxic passes on what it holds, unharmed."""
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=3000))
    r, w = await connect(listen)
    start = time.monotonic()
    w.write(b"held")
    data, outcome, _, _ = await read_to_end(r, 0.2)
    assert (data, outcome) == (b"", "timeout")
    await asyncio.wait_for(faults.remove_toxic("svc", "latency_downstream"), 2)
    assert await read_exactly(r, 4, 2) == b"held"
    assert time.monotonic() - start < 1.0, "released on removal, not after the 3 s delay"


async def test_removing_bandwidth_mid_transfer_lets_the_rest_through(blob_proxy):
    faults, listen = blob_proxy
    await faults.add_toxic("blob", spec("bandwidth", rate=10))  # 200 KB would take 20 s
    r, w = await connect(listen)
    w.write(b"200000\n")
    await asyncio.wait_for(r.readexactly(1000), 3)  # it trickles
    await asyncio.wait_for(faults.remove_toxic("blob", "bandwidth_downstream"), 2)
    data, outcome, elapsed, _ = await read_to_end(r, 5)
    assert outcome == "eof" and len(data) == 200_000 - 1000 and data == blob(200_000)[1000:]
    assert elapsed < 2.0


async def test_removing_slow_close_while_it_holds_closes_at_once(blob_proxy):
    faults, listen = blob_proxy
    await faults.add_toxic("blob", spec("slow_close", delay=5000))
    r, w = await connect(listen)
    w.write(b"10\n")
    assert await read_exactly(r, 10, 2) == blob(10)
    data, outcome, _, _ = await read_to_end(r, 0.3)
    assert outcome == "timeout", "the close is being held"
    t0 = time.monotonic()
    await asyncio.wait_for(faults.remove_toxic("blob", "slow_close_downstream"), 2)
    data, outcome, _, _ = await read_to_end(r, 2)
    assert outcome == "eof" and time.monotonic() - t0 < 1.0


async def test_toxics_survive_down_and_up(echo_proxy):
    faults, listen = echo_proxy
    await faults.add_toxic("svc", spec("latency", latency=200))
    await faults.set_enabled("svc", False)
    await faults.set_enabled("svc", True)
    r, w = await connect(listen)
    assert_between(await roundtrip(r, w), 0.190, 0.400, "latency kept across down/up")
