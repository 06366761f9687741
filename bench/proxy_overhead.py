"""What a fault proxy with no toxics costs an HTTP client.

Keep-alive HTTP requests (concurrency 1 and 64) to a small fast upstream,
directly, through the embedded proxy, and through Toxiproxy when a server is
available, interleaved in the same run. Prints throughput and latency p50/p99,
the latency each proxy adds, and ratios to direct and to each other. Asserts
nothing.

    .venv/bin/python bench/proxy_overhead.py            # 5 s per case, 3 rounds
    .venv/bin/python bench/proxy_overhead.py --quick    # 1 s per case, 1 round

Each piece runs in its own process on uvloop: the upstream (asyncio.Protocol +
httptools), the embedded proxy, toxiproxy-server, and this load client
(asyncio.Protocol + httptools; httpx cannot generate load, see
reference/measurements.md). On a 2-core machine they compete for the CPUs:
compare ratios, trust absolute numbers less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httptools
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.errors import FaultBackendError  # noqa: E402
from harness.faults import EmbeddedBackend, ToxiproxyBackend, find_toxiproxy_server  # noqa: E402

BODY = json.dumps({"id": "pi_bench", "object": "payment_intent", "amount": 1200,
                   "currency": "usd", "status": "succeeded", "metadata": {"order_id": "ord_1"}}).encode()
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
FORM = b"amount=1200&currency=usd&payment_method=pm_card_visa&confirm=true&metadata[order_id]=ord_1"
REQUEST = (b"POST /v1/payment_intents HTTP/1.1\r\nHost: bench\r\nIdempotency-Key: k\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
           + str(len(FORM)).encode() + b"\r\n\r\n" + FORM)


# -- child processes -------------------------------------------------------------

class _Upstream(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data):
        self.parser.feed_data(data)

    def on_message_complete(self):
        self.transport.write(RESPONSE)


async def _serve(role: str, upstream: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if role == "upstream":
        server = await loop.create_server(_Upstream, "127.0.0.1", 0, backlog=1024)
        listen = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
        print(json.dumps({"listen": listen}), flush=True)
        await stop.wait()
        server.close()
    else:
        async with EmbeddedBackend() as faults:
            listen = await faults.create_proxy("bench", upstream)
            print(json.dumps({"listen": listen, "loop": faults.describe()["loop"]}), flush=True)
            await stop.wait()


def _spawn(role: str, upstream: str | None = None) -> tuple[subprocess.Popen, dict]:
    cmd = [sys.executable, __file__, "--role", role] + (["--upstream", upstream] if upstream else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    # The child prints one ready line, then nothing; wait for it with a deadline.
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        raise SystemExit(f"{role} process did not start within 15 s")
    return proc, json.loads(line)


# -- load client -----------------------------------------------------------------

class _Client(asyncio.Protocol):
    """One keep-alive connection sending requests back to back."""

    def __init__(self, latencies: list[int], state: dict):
        self.latencies, self.state = latencies, state
        self.parser = httptools.HttpResponseParser(self)
        self.sent = 0

    def connection_made(self, transport):
        self.transport = transport
        self._send()

    def _send(self):
        self.sent = time.perf_counter_ns()
        self.transport.write(REQUEST)

    def data_received(self, data):
        self.parser.feed_data(data)

    def on_message_complete(self):
        if self.state["record"]:
            self.latencies.append(time.perf_counter_ns() - self.sent)
        if self.state["run"]:
            self._send()

    def connection_lost(self, exc):
        self.state["lost"] += 1


async def measure(listen: str, concurrency: int, duration: float) -> dict:
    host, port = listen.rsplit(":", 1)
    loop = asyncio.get_running_loop()
    latencies: list[int] = []
    state = {"record": False, "run": True, "lost": 0}
    conns = [await loop.create_connection(lambda: _Client(latencies, state), host, int(port))
             for _ in range(concurrency)]
    await asyncio.sleep(min(1.0, duration / 5))  # warm-up, not measured
    state["record"] = True
    t0 = time.perf_counter()
    await asyncio.sleep(duration)
    state["record"], state["run"] = False, False
    elapsed = time.perf_counter() - t0
    for transport, _ in conns:
        transport.close()
    if not latencies or state["lost"] > concurrency:
        return {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "n": 0}
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.50), "p99": pick(0.99), "n": len(latencies)}


# -- report ------------------------------------------------------------------------

def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def report(results: dict, concurrencies: list[int], targets: list[str]) -> None:
    for c in concurrencies:
        print(f"\nconcurrency {c}  (medians over rounds)")
        print(f"  {'target':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} {'+p99 ms':>8}"
              f" {'rps x direct':>13} {'p99 x direct':>13}")
        direct = {k: _median(results[("direct", c)], k) for k in ("rps", "p50", "p99")}
        figures = {}
        for target in targets:
            f = {k: _median(results[(target, c)], k) for k in ("rps", "p50", "p99")}
            figures[target] = f
            print(f"  {target:<10} {f['rps']:>9.0f} {f['p50']:>8.3f} {f['p99']:>8.3f}"
                  f" {f['p50'] - direct['p50']:>+8.3f} {f['p99'] - direct['p99']:>+8.3f}"
                  f" {f['rps'] / direct['rps']:>13.2f} {f['p99'] / direct['p99']:>13.2f}")
        if "embedded" in figures and "toxiproxy" in figures:
            e, t = figures["embedded"], figures["toxiproxy"]
            print(f"  embedded / toxiproxy: req/s x{e['rps'] / t['rps']:.2f}, "
                  f"added p50 {_ratio(e, t, direct, 'p50')}, added p99 {_ratio(e, t, direct, 'p99')}")


def _ratio(e: dict, t: dict, direct: dict, key: str) -> str:
    """Ratio of added latencies; meaningless when one is within noise of zero."""
    added_e, added_t = e[key] - direct[key], t[key] - direct[key]
    if added_e <= 0.005 or added_t <= 0.005:
        return f"n/a ({added_e:+.3f} vs {added_t:+.3f} ms)"
    return f"x{added_e / added_t:.2f}"


async def main(args) -> None:
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    upstream_proc, up = _spawn("upstream")
    embedded_proc, emb = _spawn("embedded", up["listen"])
    listens = {"direct": up["listen"], "embedded": emb["listen"]}
    toxiproxy = None
    try:
        if find_toxiproxy_server() or os.environ.get("TOXIPROXY_URL"):
            toxiproxy = ToxiproxyBackend()
            await toxiproxy.start()
            listens["toxiproxy"] = await toxiproxy.create_proxy("bench", up["listen"])
        else:
            print("toxiproxy-server not installed (make toxiproxy): measuring direct and embedded only")
    except FaultBackendError as exc:
        print(f"toxiproxy unavailable: {exc}")
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]} uvloop={uvloop.__version__} "
          f"embedded loop={emb['loop']} toxiproxy={toxiproxy.version if toxiproxy else '-'} "
          f"duration={args.duration}s rounds={args.rounds}")
    results: dict = {}
    try:
        for rnd in range(args.rounds):  # interleaved, so drift hits every target alike
            for c in concurrencies:
                for target, listen in listens.items():
                    r = await measure(listen, c, args.duration)
                    results.setdefault((target, c), []).append(r)
                    print(f"  round {rnd + 1} c={c:<3} {target:<10} {r['rps']:>9.0f} req/s "
                          f"p50 {r['p50']:.3f} ms p99 {r['p99']:.3f} ms", flush=True)
        report(results, concurrencies, list(listens))
    finally:
        if toxiproxy is not None:
            await toxiproxy.close()
        for proc in (embedded_proc, upstream_proc):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=5.0, help="seconds measured per case (default 5)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians reported")
    ap.add_argument("--concurrency", default="1,64", help="comma-separated (default 1,64)")
    ap.add_argument("--quick", action="store_true", help="1 s per case, 1 round")
    ap.add_argument("--role", choices=["upstream", "embedded"], help=argparse.SUPPRESS)
    ap.add_argument("--upstream", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.duration, args.rounds = 1.0, 1
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.role:
        uvloop.run(_serve(arguments.role, arguments.upstream))
    else:
        uvloop.run(main(arguments))
