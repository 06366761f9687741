"""The real service as a subprocess on a free 127.0.0.1 port (integration)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
READY_DEADLINE_S = 15.0
# A provider that refuses connections: 3 fast attempts, sleeps <= 0.2 + 0.4,
# no lookup (nothing was accepted). The contractual worst case is
# attempts x timeout + sleeps + lookup = 3 x 1.0 + 0.6 + 1.0 s.
BUDGET_S = 3 * 1.0 + 0.6 + 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "CARDPAY_BASE_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "CARDPAY_API_KEY": "sk_test_process",
        "REFTARGET_DB": str(tmp_path / "ref.sqlite3"),
    }
    env.pop("REFTARGET_BUG", None)
    stderr_path = tmp_path / "stderr.log"
    with open(stderr_path, "wb") as stderr, open(tmp_path / "stdout.log", "wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "examples.reference_target", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_DEADLINE_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"service exited with {process.returncode}:\n{stderr_path.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"service not ready within {READY_DEADLINE_S}s:\n{stderr_path.read_text()}")
            time.sleep(0.05)  # poll interval, not a readiness wait: the deadline bounds it
        yield url, process, stderr_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_health_and_a_failing_payment_within_budget(service):
    url, process, stderr_path = service
    health = httpx.get(f"{url}/healthz", timeout=2.0)
    assert health.status_code == 200 and health.json() == {"ok": True}

    started = time.monotonic()
    response = httpx.post(
        f"{url}/payments",
        json={
            "order_id": "ord_proc_1",
            "amount": 1200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "customer": {"name": "Ada", "email": "ada@example.com"},
        },
        timeout=BUDGET_S + 5,
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "failed"
    assert set(body["error"]) == {"type", "code", "message", "action", "contact"}
    assert body["error"]["type"] == "provider_unavailable"
    assert elapsed <= BUDGET_S + 0.5  # tolerance: process scheduling on a busy machine

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    lines = [json.loads(line) for line in stderr_path.read_text().splitlines() if line.strip()]
    calls = [l for l in lines if l["event"] == "provider_call" and l["order_id"] == "ord_proc_1"]
    assert [c["attempt"] for c in calls] == [1, 2, 3]
    assert len({c["idempotency_key"] for c in calls}) == 1
    assert all(c["exception"].startswith("ConnectError") for c in calls)
    assert any(l["event"] == "decision" and l.get("decision") == "failed" for l in lines)


def test_unknown_bug_exits_2_without_starting(tmp_path):
    env = {**os.environ, "CARDPAY_BASE_URL": "http://127.0.0.1:9", "REFTARGET_BUG": "no-such-bug"}
    result = subprocess.run(
        [sys.executable, "-m", "examples.reference_target", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "names unknown seeded bug(s) no-such-bug" in result.stderr
    assert result.stdout == ""
