"""Absent Toxiproxy: a visible skip locally, a failure when CI requires it."""

from __future__ import annotations

import pytest

from harness.faults.toxiproxy import server as server_module

from tests.toxiproxy_gate import SKIP_REASON, need_toxiproxy


@pytest.fixture
def absent(tmp_path, monkeypatch):
    monkeypatch.setattr(server_module, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("TOXIPROXY_SERVER", raising=False)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    return monkeypatch


def test_absent_server_is_a_visible_skip_locally(absent):
    absent.delenv("PAYCHAOS_REQUIRE_TOXIPROXY", raising=False)
    with pytest.raises(pytest.skip.Exception, match="toxiproxy-server not installed: run make toxiproxy"):
        need_toxiproxy()


def test_absent_server_fails_when_required(absent):
    absent.setenv("PAYCHAOS_REQUIRE_TOXIPROXY", "1")
    with pytest.raises(pytest.fail.Exception, match=f"PAYCHAOS_REQUIRE_TOXIPROXY is set but {SKIP_REASON}"):
        need_toxiproxy()


def test_a_running_server_url_is_enough(absent):
    absent.setenv("PAYCHAOS_REQUIRE_TOXIPROXY", "1")
    absent.setenv("TOXIPROXY_URL", "http://127.0.0.1:8474")
    assert need_toxiproxy() is None
