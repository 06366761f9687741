"""Fixtures for the fault backends: both backends, real sockets on 127.0.0.1.

The Toxiproxy half of every parametrised test needs a toxiproxy-server binary
(``make toxiproxy``). Locally its absence is a visible skip; with
PAYCHAOS_REQUIRE_TOXIPROXY=1 (set in CI) it is a failure, so CI can never
pass by skipping the real server.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.faults import EmbeddedBackend, ToxiproxyBackend
from tests.toxiproxy_gate import need_toxiproxy

from . import support
from .support import upstream

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
    uvloop = None


def pytest_configure(config):
    config.addinivalue_line("markers", "both_loops: run on the asyncio loop as well as uvloop")


def pytest_asyncio_loop_factories(config, item):
    """uvloop (what the harness runs on); plain asyncio too where marked."""
    factories = {}
    if uvloop is not None:
        factories["uvloop"] = uvloop.new_event_loop
    if uvloop is None or item.get_closest_marker("both_loops"):
        factories["asyncio"] = asyncio.new_event_loop
    return factories


def make_backend(kind: str, **options):
    if kind == "embedded":
        return EmbeddedBackend(**options)
    need_toxiproxy()
    return ToxiproxyBackend(**options)


BACKENDS = ["embedded", pytest.param("toxiproxy", marks=pytest.mark.toxiproxy)]


@pytest.fixture(autouse=True)
async def _close_test_clients():
    """Close every client connection a test opened, even when it failed."""
    yield
    while support.OPEN_WRITERS:
        support.close_quietly(support.OPEN_WRITERS.pop())
    await asyncio.sleep(0)  # let the transports finish closing on this loop


@pytest.fixture(params=BACKENDS)
def backend_kind(request) -> str:
    return request.param


@pytest.fixture
async def backend(backend_kind):
    faults = make_backend(backend_kind)
    await faults.start()
    try:
        yield faults
    finally:
        await asyncio.wait_for(faults.close(), 15)


@pytest.fixture
async def echo():
    async with upstream("echo") as address:
        yield address


@pytest.fixture
async def blob_server():
    async with upstream("blob") as address:
        yield address


@pytest.fixture
async def echo_proxy(backend, echo):
    """(backend, listen address) of a proxy named 'svc' in front of an echo server."""
    listen = await backend.create_proxy("svc", echo)
    return backend, listen


@pytest.fixture
async def blob_proxy(backend, blob_server):
    listen = await backend.create_proxy("blob", blob_server)
    return backend, listen
