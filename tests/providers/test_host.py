"""The host CLI and ProviderHost: readiness with deadlines, errors that carry
stderr, stop() that always works, journal spill and flush."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ProviderError
from mock_providers.host import ProviderHost

from ._wire import form, request

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PI = "/v1/payment_intents"


def _cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mock_providers", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_cli_refuses_a_non_loopback_host():
    done = _cli("serve", "--provider", "cardpay", "--host", "0.0.0.0")
    assert done.returncode == 2 and "127.0.0.1 only" in done.stderr and done.stdout == ""


def test_cli_refuses_an_unknown_provider():
    done = _cli("serve", "--provider", "paypalish")
    assert done.returncode == 2 and "provider type 'paypalish' is unknown" in done.stderr


async def test_host_starts_answers_and_stops(tmp_path):
    host = ProviderHost(["cardpay"], seed=5)
    async with host:
        assert set(host.urls) == {"cardpay"} and host.urls["cardpay"].startswith("http://127.0.0.1:")
        assert (await host.control("cardpay").health())["ok"] is True
        pid = host.pid
    assert host.returncode == 0  # SIGTERM is a clean exit
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    await host.stop()  # twice is fine


async def test_early_exit_is_a_provider_error_with_stderr():
    async with ProviderHost(["cardpay"]) as first:
        port = int(first.urls["cardpay"].rsplit(":", 1)[1])
        clash = ProviderHost({"cardpay": port}, ready_timeout=20)
        with pytest.raises(ProviderError) as info:
            await clash.start()
        assert "exited with status 3" in str(info.value) and "could not start" in str(info.value)


def _fake_python(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


async def test_ready_timeout_is_a_provider_error(tmp_path):
    fake = _fake_python(tmp_path, "echo 'warming up' >&2\nexec sleep 30\n")
    host = ProviderHost(["cardpay"], python=fake, ready_timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(ProviderError, match="not ready within 0.5 s") as info:
        await host.start()
    assert "warming up" in str(info.value)
    assert time.monotonic() - t0 < 5
    assert host.pid is not None and host.returncode is not None  # it was stopped


async def test_stop_falls_back_to_sigkill(tmp_path):
    ready = json.dumps({"event": "ready", "provider": "cardpay", "url": "http://127.0.0.1:1", "pid": 0})
    fake = _fake_python(tmp_path, f"trap '' TERM\necho '{ready}'\nexec sleep 30\n")
    host = ProviderHost(["cardpay"], python=fake, stop_timeout=0.3)
    await host.start()
    t0 = time.monotonic()
    code = await host.stop()
    assert code == -9 and time.monotonic() - t0 < 5


async def test_journal_spills_beyond_capacity_and_reads_back(tmp_path):
    async with ProviderHost(["cardpay"], journal_dir=tmp_path, journal_capacity=20) as host:
        url, ctl = host.urls["cardpay"], host.control("cardpay")
        for i in range(60):
            await request(url, PI, form(amount=1000, currency="usd", **{"metadata[order_id]": f"o{i}"}))
        spill = tmp_path / "cardpay.journal.jsonl"
        spilled = [json.loads(line)["seq"] for line in spill.read_text().splitlines()]
        assert spilled and spilled == list(range(1, len(spilled) + 1))
        page = await ctl.journal(after=2, limit=1000)
        assert [e["seq"] for e in page["entries"]] == list(range(3, 61)) and page["dropped"] == 0
        assert [e["order_ref"] for e in page["entries"][:2]] == ["o2", "o3"]
        assert len(await ctl.journal_all()) == 60
    # SIGTERM flushed everything still in memory.
    assert [json.loads(x)["seq"] for x in spill.read_text().splitlines()] == list(range(1, 61))


async def test_journal_without_spill_counts_dropped():
    async with ProviderHost(["cardpay"], journal_capacity=10) as host:
        for i in range(25):
            await request(host.urls["cardpay"], PI, form(amount=1000, currency="usd"))
        page = await host.control("cardpay").journal()
        assert page["dropped"] == 15 and [e["seq"] for e in page["entries"]] == list(range(16, 26))


async def test_order_ref_field_flag():
    async with ProviderHost(["cardpay"], order_ref_fields={"cardpay": "metadata[cart]"}) as host:
        await request(host.urls["cardpay"], PI, form(amount=1000, currency="usd", **{"metadata[cart]": "c9"}))
        assert (await host.control("cardpay").journal())["entries"][0]["order_ref"] == "c9"


async def test_relative_journal_dir_is_relative_to_the_caller(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with ProviderHost(["cardpay"], journal_dir="rel-journal", journal_capacity=1) as host:
        for _ in range(3):
            await request(host.urls["cardpay"], PI, form(amount=1000, currency="usd"))
    assert (tmp_path / "rel-journal" / "cardpay.journal.jsonl").read_text().count("\n") == 3
