"""Throughput of the cardpay mock vs a fixed-response baseline and stripe-mock, on one core each.

The server (cardpay: journal, ledger and idempotency ON) runs pinned to one
core; the load generator (wrk with a Lua script when /usr/bin/wrk exists, else
bench/_loadgen.py, a protocol-level asyncio+httptools client) is pinned to the
other. Workload: POST /v1/payment_intents, a fresh idempotency key per
request, ~10% declines, N keep-alive connections. The baseline (nginx when on
PATH, else bench/provider_baseline.py) answers fixed JSON of the same size.
stripe-mock (Stripe's official mock, tools/bin/stripe-mock, from
`make stripe-mock`; skipped with a note when absent) gets the very same
requests, pinned to the same core as the others (so its Go runtime runs one
P, GOMAXPROCS follows the affinity mask): it is stateless, validates each
request against Stripe's OpenAPI spec and answers a fixture, so it cannot
decline (the decline cards get 200 too; the report says so). All are
measured in the same run, rounds interleaved; the report gives req/s, server
CPU per request, and cardpay / baseline and cardpay / stripe-mock ratios.
Prints figures; asserts nothing.

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
STRIPE_MOCK = ROOT / "tools" / "bin" / "stripe-mock"
STRIPE_MOCK_INSTALL = "make stripe-mock"
# One request of the workload (bench/_loadgen.py and bench/provider_wrk.lua send this form, with
# pm_card_visa_chargeDeclined every 10th request); cardpay and stripe-mock both accept it.
SAMPLE_BODY = b"amount=1200&currency=usd&confirm=true&payment_method=pm_card_visa&metadata%5Border_id%5D=sample"
DECLINE_BODY = SAMPLE_BODY.replace(b"pm_card_visa", b"pm_card_visa_chargeDeclined")


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


def stop_group(proc: subprocess.Popen | None) -> None:
    """SIGTERM a server's process group, SIGKILL after 5 s."""
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


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
        stop_group(self.proc)
        self.tmp.cleanup()


class StripeMock:
    """stripe-mock on 127.0.0.1 (HTTP and HTTPS both on free ports: its HTTPS default, 12112, may be
    taken by another stripe-mock), pinned to the server core. ``start`` returns None, with ``why``
    set, when the binary is absent or does not come up; the bench then skips its row."""

    def __init__(self, binary: Path = STRIPE_MOCK):
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()
        self.why = ""
        self.version = ""

    def start(self) -> "StripeMock | None":
        if not os.access(self.binary, os.X_OK):
            self.why = f"not installed ({_rel(self.binary)} is absent); install it with `{STRIPE_MOCK_INSTALL}`"
            return None
        try:
            self.version = subprocess.run([str(self.binary), "-version"], capture_output=True, text=True,
                                          timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
        cmd = [str(self.binary), "-http-addr", f"127.0.0.1:{self.port}", "-https-addr", f"127.0.0.1:{free_port()}"]
        # It prints 3 lines per request to stdout, always (no flag turns that off): to /dev/null, so the
        # write calls stay part of its cost but no file grows. Errors (e.g. a port taken) go to stderr.
        self.proc = subprocess.Popen(cmd, preexec_fn=pin(SERVER_CPU), stdout=subprocess.DEVNULL, stderr=self.log,
                                     start_new_session=True)
        try:
            deadline = time.monotonic() + 20.0
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"exited with status {self.proc.returncode}")
                try:
                    wait_port(self.port, 0.2)
                    break
                except RuntimeError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"nothing listens on 127.0.0.1:{self.port} after 20 s") from None
        except RuntimeError as exc:
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace").strip().splitlines()[-3:]
            self.why = f"did not start ({exc}): {' | '.join(tail)}"
            self.stop()
            return None
        return self

    def affinity(self) -> str:
        """Cpus_allowed_list and thread count of the running process, to show it stayed pinned."""
        try:
            status = dict(line.split(":\t", 1) for line in
                          Path(f"/proc/{self.proc.pid}/status").read_text().splitlines() if ":\t" in line)
            return f"cpus {status['Cpus_allowed_list'].strip()}, {status['Threads'].strip()} threads"
        except (OSError, KeyError, AttributeError):
            return "?"

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


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
    ap.add_argument("--stripe-mock", type=Path, default=STRIPE_MOCK, metavar="PATH",
                    help=f"stripe-mock binary (default {_rel(STRIPE_MOCK)}, from `{STRIPE_MOCK_INSTALL}`)")
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
    probes = {"cardpay": await _probe(cardpay_port)}
    sample = probes["cardpay"]["bytes"]
    baseline = Baseline(sample, args.baseline).start()
    stripe = StripeMock(args.stripe_mock)
    info = {"baseline": baseline.kind, "stripe_mock": None, "stripe_mock_why": "", "body_bytes": sample}
    try:
        servers = {"cardpay": (host.pid, cardpay_port), "baseline": (baseline.proc.pid, baseline.port)}
        if stripe.start() is not None:
            probes["stripe-mock"] = await _probe(stripe.port)
            if probes["stripe-mock"]["status"] == 200:
                servers["stripe-mock"] = (stripe.proc.pid, stripe.port)
            else:  # the workload body is not valid for this stripe-mock: no row rather than a row of 400s
                stripe.why = (f"rejects the workload body ({probes['stripe-mock']['status']}:"
                              f" {probes['stripe-mock']['error']}); row skipped")
        if stripe.why:
            print(f"stripe-mock: {stripe.why}")
        # Warm-up each, then interleave rounds so that machine noise hits all alike. The baseline and
        # stripe-mock get the very same requests (the baseline ignores them).
        for pid, port in servers.values():
            measure(pid, port, 1.0, args.connections, "cardpay", args.client)
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, (pid, port) in servers.items():
                runs[name].append(measure(pid, port, args.duration, args.connections, "cardpay", args.client))
        if "stripe-mock" in servers:
            info["stripe_mock"] = {"version": stripe.version, "pinned": stripe.affinity(),
                                   "bytes": probes["stripe-mock"]["bytes"],
                                   "decline_status": probes["stripe-mock"]["decline_status"]}
        info["stripe_mock_why"] = stripe.why
        info["cardpay_decline_status"] = probes["cardpay"]["decline_status"]
    finally:
        stripe.stop()
        baseline.stop()
        await host.stop()
        if spill_dir is not None:
            spill_dir.cleanup()
    report(runs, info, args)


async def _post(port: int, body: bytes, key: str) -> tuple[int, bytes]:
    """One workload request (as bench/_loadgen.py sends it); its status and response body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_bench\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nIdempotency-Key: %s\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (key.encode(), len(body), body))
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(None, 2)[1]), payload


async def _probe(port: int) -> dict:
    """Send one ordinary and one decline request: is the body accepted, how big is the answer (the
    baseline sends as much as cardpay), and can this server decline at all?"""
    status, payload = await _post(port, SAMPLE_BODY, "bench-probe-ok")
    decline_status, _ = await _post(port, DECLINE_BODY, "bench-probe-decline")
    error = ""
    if status != 200:
        try:
            error = json.loads(payload)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            error = payload[:200].decode(errors="replace")
    return {"status": status, "bytes": len(payload), "decline_status": decline_status, "error": error}


def report(runs: dict[str, list[dict]], info: dict, args) -> None:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    client = runs["cardpay"][0].get("client", "?")
    sm = info["stripe_mock"]
    print(f"\nclient: {client} on cpu {CLIENT_CPU}; servers on cpu {SERVER_CPU}; {args.connections} connections;"
          f" {args.rounds} x {args.duration:g} s; response body ~{info['body_bytes']} B"
          + (f" (stripe-mock: {sm['bytes']} B)" if sm else ""))
    print(f"{'server':<30}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>12}{'req/s per busy core':>21}")
    rows = [("cardpay", "cardpay (journal+ledger+idem)"), ("baseline", f"baseline ({info['baseline']})")]
    if sm:
        rows.append(("stripe-mock", "stripe-mock (stateless)"))
    for name, label in rows:
        rps = med(name, "rps")
        cpu = med(name, "cpu_us_per_req")
        print(f"{label:<30}{rps:>10,.0f}{med(name, 'p50_ms'):>9.2f}{med(name, 'p99_ms'):>9.2f}{cpu:>12.1f}"
              f"{1e6 / cpu if cpu else float('nan'):>21,.0f}")
    if not sm:
        print(f"{'stripe-mock':<30}  skipped: {info['stripe_mock_why']}")
    rps, base = med("cardpay", "rps"), med("baseline", "rps")
    ratio = rps / base if base else float("nan")
    statuses = [r.get("non2xx", r.get("status")) for r in runs["cardpay"]]
    line = f"ratio cardpay / baseline: {ratio:.2f}x"
    if sm:
        smr = med("stripe-mock", "rps")
        line += f"   cardpay / stripe-mock: {rps / smr if smr else float('nan'):.2f}x"
        cpu_ratio = med("cardpay", "cpu_us_per_req") / med("stripe-mock", "cpu_us_per_req")
        line += f" (server CPU per request: {cpu_ratio:.2f}x stripe-mock's)"
    print(line)
    print(f"status counts per run, cardpay: {statuses}")
    if sm:
        print(f"status counts per run, stripe-mock: {[r.get('non2xx', r.get('status')) for r in runs['stripe-mock']]}")
        print(f"stripe-mock ({sm['version'] or '?'}): {sm['pinned']} (Go; GOMAXPROCS follows the affinity mask);"
              " it logs every request to stdout (sent to /dev/null), which counts in its CPU")
        print("work per request differs: cardpay journals every request, keeps idempotency records and a"
              " ledger; stripe-mock is stateless (no idempotency, no ledger, no journal): it validates the"
              " request against Stripe's OpenAPI spec and answers a fixture; the baseline only answers")
        if sm["decline_status"] == 200:
            print(f"stripe-mock cannot decline: pm_card_visa_chargeDeclined gets 200 there (cardpay:"
                  f" {info['cardpay_decline_status']}), so its runs have no declines where cardpay's have ~10%")
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
