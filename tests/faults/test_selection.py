"""Choosing a backend, and finding the Toxiproxy server."""

from __future__ import annotations

import pytest

from harness.errors import DefinitionError, FaultBackendError
from harness.faults import EmbeddedBackend, ToxiproxyBackend, find_toxiproxy_server, open_backend
from harness.faults.toxiproxy import server as server_module


@pytest.fixture
def no_toxiproxy_anywhere(tmp_path, monkeypatch):
    """A repo without tools/bin and an environment without a server."""
    monkeypatch.setattr(server_module, "REPO_ROOT", tmp_path)
    return {"PATH": str(tmp_path)}


def test_default_is_embedded():
    assert isinstance(open_backend(env={}), EmbeddedBackend)


def test_env_then_argument_take_precedence(no_toxiproxy_anywhere):
    env = {**no_toxiproxy_anywhere, "PAYCHAOS_FAULT_BACKEND": "toxiproxy",
           "TOXIPROXY_URL": "http://127.0.0.1:8474"}
    assert isinstance(open_backend(env=env), ToxiproxyBackend)
    assert isinstance(open_backend("embedded", env=env), EmbeddedBackend)


def test_seed_reaches_the_embedded_backend_and_is_declared_unused_by_toxiproxy():
    assert open_backend("embedded", env={}, seed=7).describe()["seed"] == 7
    info = open_backend("toxiproxy", env={"TOXIPROXY_URL": "127.0.0.1:8474"}, seed=7).describe()
    assert info["seed"] == 7 and "does not replay" in info["toxicity"]


def test_unknown_backend_is_a_definition_error():
    with pytest.raises(DefinitionError, match=r"fault backend 'toxyproxy' \(from PAYCHAOS_FAULT_BACKEND\) "
                                              r"is unknown; use one of: embedded, toxiproxy"):
        open_backend(env={"PAYCHAOS_FAULT_BACKEND": "toxyproxy"})


def test_toxiproxy_without_server_says_how_to_install(no_toxiproxy_anywhere):
    with pytest.raises(FaultBackendError) as info:
        open_backend("toxiproxy", env=no_toxiproxy_anywhere)
    message = str(info.value)
    assert "make toxiproxy" in message and "scripts/install-toxiproxy.sh" in message
    assert "TOXIPROXY_URL" in message


def test_toxiproxy_url_needs_no_binary(no_toxiproxy_anywhere):
    faults = open_backend("toxiproxy", env={**no_toxiproxy_anywhere, "TOXIPROXY_URL": "127.0.0.1:9999"})
    assert faults.describe()["url"] == "http://127.0.0.1:9999" and faults.describe()["binary"] is None


def test_find_order_env_then_repo_then_path(tmp_path, no_toxiproxy_anywhere):
    def exe(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
        return path

    assert find_toxiproxy_server(no_toxiproxy_anywhere) is None
    on_path = exe(tmp_path / "pathdir" / "toxiproxy-server")
    env = {"PATH": str(on_path.parent)}
    assert find_toxiproxy_server(env) == on_path
    local = exe(tmp_path / "tools" / "bin" / "toxiproxy-server")
    assert find_toxiproxy_server(env) == local
    explicit = exe(tmp_path / "elsewhere" / "tp")
    assert find_toxiproxy_server({**env, "TOXIPROXY_SERVER": str(explicit)}) == explicit


def test_bad_toxiproxy_server_variable_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(FaultBackendError, match=r"TOXIPROXY_SERVER=.*/missing is not an executable file"):
        find_toxiproxy_server({"TOXIPROXY_SERVER": str(tmp_path / "missing")})
