"""Throughput of the cardpay mock vs a fixed-response baseline, on one core each.

The server (cardpay: journal, ledger and idempotency ON) runs pinned to one
core; the load generator (wrk with a Lua script when /usr/bin/wrk exists, else
bench/_loadgen.py, a protocol-level asyncio+httptools client) is pinned to the
other. Workload: POST /v1/payment_intents, a fresh idempotency key per
request, ~10% declines, N keep-alive connections. The baseline (nginx when on
PATH, else bench/provider_baseline.py) answers fixed JSON of the same size,
measured in the same run, rounds interleaved. Prints figures; asserts nothing.

    .venv/bin/python bench/provider_throughput.py [--duration 10] [--connections 64] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_providers.host import ProviderHost  # noqa: E402

BENCH = Path(__file__).resolve().parent
WRK = "/usr/bin/wrk"
GOAL_RPS = 30_000
GOAL_RATIO = 0.3
SERVER_CPU, CLIENT_CPU = 0, 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process, from /proc (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pin(cpu: int):
    return lambda: os.sched_setaffinity(0, {cpu})


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
            time.sleep(0.02)


def run_client(port: int, duration: float, connections: int, workload: str, client: str = "auto") -> dict:
    if client == "wrk" or (client == "auto" and os.path.exists(WRK)):
        cmd = [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
               "-s", str(BENCH / "provider_wrk.lua"), f"http://127.0.0.1:{port}/"]
        out = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin(CLIENT_CPU),
                             timeout=duration + 60).stdout
        line = [x for x in out.splitlines() if x.startswith("{")][-1]
        result = json.loads(line)
        result["rps"] = result["requests"] / result["elapsed_s"]
        result["client"] = "wrk"
        return result
    cmd = [sys.executable, str(BENCH / "_loadgen.py"), "--port", str(port), "--connections", str(connections),
           "--duration", str(duration), "--warmup", "0", "--workload", workload, "--cpu", str(CLIENT_CPU)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Baseline:
    """nginx (one process, no master) or the Python fixed-response server, pinned."""

    def __init__(self, body_bytes: int, kind: str = "auto"):
        self.body_bytes = body_bytes
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="paychaos-bench-")
        self.proc: subprocess.Popen | None = None
        if kind == "auto":
            kind = "nginx" if shutil.which("nginx") else "python"
        self.kind = kind

    def start(self) -> "Baseline":
        if self.kind == "nginx":
            body = '{"id":"pi_baseline","object":"payment_intent","pad":"' + "x" * max(0, self.body_bytes - 60) + '"}'
            tmp = self.tmp.name
            conf = Path(tmp) / "nginx.conf"
            conf.write_text(f"""
daemon off; master_process off; worker_processes 1; pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off; client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{self.port};
    location / {{ default_type application/json; return 200 '{body}'; }} }}
}}
""")
            cmd = [shutil.which("nginx"), "-c", str(conf), "-p", tmp, "-e", f"{tmp}/error.log"]
        else:
            cmd = [sys.executable, str(BENCH / "provider_baseline.py"), str(self.port), str(self.body_bytes)]
        self.proc = subprocess.Popen(cmd, preexec_fn=pin(SERVER_CPU), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.tmp.cleanup()


def measure(pid: int, port: int, duration: float, connections: int, workload: str, client: str) -> dict:
    c0 = cpu_seconds(pid)
    result = run_client(port, duration, connections, workload, client)
    cpu = cpu_seconds(pid) - c0
    result["server_cpu_s"] = cpu
    result["cpu_us_per_req"] = cpu / result["requests"] * 1e6 if result["requests"] else float("nan")
    return result


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    ap.add_argument("--quick", action="store_true", help="3 s runs, 1 round")
    ap.add_argument("--spill", action="store_true", help="also spill the journal to a temp dir")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                    help="load generator (auto: wrk when /usr/bin/wrk exists)")
    ap.add_argument("--baseline", choices=("auto", "nginx", "python"), default="auto",
                    help="fixed-response server (auto: nginx when on PATH)")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.rounds = 3.0, 1
    if len(os.sched_getaffinity(0)) < 2:
        print("note: fewer than 2 cores available; server and client will share one", file=sys.stderr)

    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on this machine skews the figures)")
    spill_dir = tempfile.TemporaryDirectory(prefix="paychaos-journal-") if args.spill else None
    host = ProviderHost(["cardpay"], journal_dir=spill_dir.name if spill_dir else None)
    await host.start()
    os.sched_setaffinity(host.pid, {SERVER_CPU})
    cardpay_port = int(host.urls["cardpay"].rsplit(":", 1)[1])
    sample = await _sample_body_size(host.urls["cardpay"])
    baseline = Baseline(sample, args.baseline).start()
    try:
        # Warm-up both, then interleave rounds so that machine noise hits both alike.
        measure(host.pid, cardpay_port, 1.0, args.connections, "cardpay", args.client)
        # The baseline gets the very same requests (it ignores them).
        measure(baseline.proc.pid, baseline.port, 1.0, args.connections, "cardpay", args.client)
        runs: dict[str, list[dict]] = {"cardpay": [], "baseline": []}
        for _ in range(args.rounds):
            runs["cardpay"].append(measure(host.pid, cardpay_port, args.duration, args.connections, "cardpay",
                                           args.client))
            runs["baseline"].append(measure(baseline.proc.pid, baseline.port, args.duration, args.connections,
                                            "cardpay", args.client))
    finally:
        baseline.stop()
        await host.stop()
        if spill_dir is not None:
            spill_dir.cleanup()
    report(runs, baseline.kind, args, sample)


async def _sample_body_size(url: str) -> int:
    """The size of a typical cardpay answer, so that the baseline sends as much."""
    reader, writer = await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
    body = b"amount=1200&currency=usd&confirm=true&payment_method=pm_card_visa&metadata%5Border_id%5D=sample"
    writer.write(b"POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_bench\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return len(data.partition(b"\r\n\r\n")[2])


def report(runs: dict[str, list[dict]], baseline_kind: str, args, body_bytes: int) -> None:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    client = runs["cardpay"][0].get("client", "?")
    print(f"\nclient: {client} on cpu {CLIENT_CPU}; servers on cpu {SERVER_CPU}; {args.connections} connections;"
          f" {args.rounds} x {args.duration:g} s; response body ~{body_bytes} B")
    print(f"{'server':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>12}{'req/s per busy core':>21}")
    for name, label in (("cardpay", "cardpay (journal+ledger+idem)"), ("baseline", f"baseline ({baseline_kind})")):
        rps = med(name, "rps")
        cpu = med(name, "cpu_us_per_req")
        print(f"{label:<28}{rps:>10,.0f}{med(name, 'p50_ms'):>9.2f}{med(name, 'p99_ms'):>9.2f}{cpu:>12.1f}"
              f"{1e6 / cpu if cpu else float('nan'):>21,.0f}")
    rps, base = med("cardpay", "rps"), med("baseline", "rps")
    ratio = rps / base if base else float("nan")
    statuses = [r.get("non2xx", r.get("status")) for r in runs["cardpay"]]
    print(f"ratio cardpay / baseline: {ratio:.2f}x   (declines and other non-2xx per run: {statuses})")
    per_core = 1e6 / med("cardpay", "cpu_us_per_req")
    print(f"goal >= {GOAL_RPS:,} req/s on one core: {'HOLDS' if rps >= GOAL_RPS else 'FAILS'} ({rps:,.0f} measured;"
          f" {per_core:,.0f} per fully busy core = 1e6 / server CPU us per request)")
    print(f"goal >= {GOAL_RATIO}x baseline: {'HOLDS' if ratio >= GOAL_RATIO else 'FAILS'} ({ratio:.2f}x)")


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.run(main())
    except ImportError:  # pragma: no cover
        asyncio.run(main())
