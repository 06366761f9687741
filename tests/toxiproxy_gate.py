"""One rule for every test that needs the real Toxiproxy server: a visible skip
locally when it is not installed, a failure when PAYCHAOS_REQUIRE_TOXIPROXY=1
(CI sets it), so CI can never pass by skipping the real server."""

from __future__ import annotations

import os

import pytest

from harness.errors import FaultBackendError
from harness.faults import find_toxiproxy_server

SKIP_REASON = "toxiproxy-server not installed: run make toxiproxy"


def toxiproxy_required() -> bool:
    return os.environ.get("PAYCHAOS_REQUIRE_TOXIPROXY", "") not in ("", "0", "false", "no")


def need_toxiproxy():
    """The server binary, or skip (locally) / fail (when required)."""
    try:
        binary = find_toxiproxy_server()
    except FaultBackendError as exc:
        pytest.fail(str(exc), pytrace=False)
    if binary is None and not os.environ.get("TOXIPROXY_URL"):
        if toxiproxy_required():
            pytest.fail(f"PAYCHAOS_REQUIRE_TOXIPROXY is set but {SKIP_REASON}", pytrace=False)
        pytest.skip(SKIP_REASON)
    return binary
