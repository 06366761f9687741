"""A closed-loop HTTP/1.1 load generator on asyncio.Protocol + httptools.

Each of N keep-alive connections sends a request, waits for the whole
answer, records the latency and sends the next: fixed concurrency. It is
protocol-level (no client library) so that the generator, not the server,
is never the bottleneck (~100k req/s on one core against nginx, see
shared/reference/measurements.md).

Run as its own process (pinned to its own core) and read one JSON line:

    python bench/_loadgen.py --port 8080 --connections 64 --duration 10 \
        --workload cardpay --cpu 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

import httptools

__all__ = ["run_load", "cardpay_requests", "fixed_request"]

DECLINE_EVERY = 10  # ~10% declines


def cardpay_requests(conn_id: int, host: str):
    """Yield raw POST /v1/payment_intents requests, a fresh idempotency key each."""
    head = (f"POST /v1/payment_intents HTTP/1.1\r\nHost: {host}\r\n"
            "Authorization: Bearer sk_test_bench\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n").encode()
    n = 0
    while True:
        n += 1
        card = "pm_card_visa_chargeDeclined" if n % DECLINE_EVERY == 0 else "pm_card_visa"
        body = (f"amount=1200&currency=usd&confirm=true&payment_method={card}"
                f"&metadata%5Border_id%5D=o{conn_id}-{n}").encode()
        yield b"%sIdempotency-Key: k%d-%d\r\nContent-Length: %d\r\n\r\n%s" % (head, conn_id, n, len(body), body)


def fixed_request(conn_id: int, host: str):
    req = f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    while True:
        yield req


class _Conn(asyncio.Protocol):
    def __init__(self, gen, stats, stop_at, done):
        self.gen = gen
        self.stats = stats
        self.stop_at = stop_at
        self.done = done
        self.parser = httptools.HttpResponseParser(self)
        self.t0 = 0.0

    def connection_made(self, transport):
        self.transport = transport
        self._send()

    def _send(self):
        self.t0 = time.perf_counter()
        self.transport.write(next(self.gen))

    def data_received(self, data):
        self.parser.feed_data(data)

    def on_message_complete(self):
        now = time.perf_counter()
        stats = self.stats
        stats["lat"].append(now - self.t0)
        status = self.parser.get_status_code()
        stats["status"][status] = stats["status"].get(status, 0) + 1
        if now < self.stop_at:
            self._send()
        else:
            self.transport.close()

    def connection_lost(self, exc):
        if not self.done.done():
            self.stats["closed"] += 1
            self.stats["open"] -= 1
            if self.stats["open"] == 0:
                self.done.set_result(None)


async def run_load(host: str, port: int, connections: int, duration: float, warmup: float,
                   workload: str) -> dict:
    loop = asyncio.get_running_loop()
    make = cardpay_requests if workload == "cardpay" else fixed_request
    # Warm-up traffic is discarded: JIT-free Python still has caches and allocator warm-up.
    for phase, seconds in (("warmup", warmup), ("measure", duration)):
        if seconds <= 0:
            continue
        stats = {"lat": [], "status": {}, "closed": 0, "open": connections}
        done = loop.create_future()
        t_start = time.perf_counter()
        stop_at = t_start + seconds
        for i in range(connections):
            gen = make(i + (0 if phase == "measure" else 10_000), f"{host}:{port}")
            await loop.create_connection(lambda gen=gen: _Conn(gen, stats, stop_at, done), host, port)
        await asyncio.wait_for(done, seconds + 30)
        elapsed = time.perf_counter() - t_start
    lat = sorted(stats["lat"])
    n = len(lat)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p * n))] * 1000 if n else float("nan")

    return {"requests": n, "elapsed_s": elapsed, "rps": n / elapsed if elapsed else 0.0,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "status": stats["status"], "client": "python-httptools"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--workload", choices=("cardpay", "fixed"), default="cardpay")
    ap.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        sys.exit("the load generator only targets 127.0.0.1")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    coro = run_load(args.host, args.port, args.connections, args.duration, args.warmup, args.workload)
    try:
        import uvloop
        result = uvloop.run(coro)
    except ImportError:  # pragma: no cover
        result = asyncio.run(coro)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
