"""The Toxiproxy backend's own duties: server lifecycle, URL mode, client globals."""

from __future__ import annotations

import asyncio
import os

import pytest
from toxiproxy.api import APIConsumer

from harness.errors import FaultBackendError
from harness.faults import ToxicSpec, ToxiproxyBackend
from harness.faults.ports import free_loopback_port

from tests.toxiproxy_gate import need_toxiproxy
from .support import connect, poll, roundtrip

pytestmark = pytest.mark.toxiproxy


@pytest.fixture
def binary():
    return need_toxiproxy()


async def test_two_servers_in_one_process_never_share_client_globals(binary, echo):
    """toxiproxy-python keeps host/port on APIConsumer: prove nothing goes through it."""
    global_before = (APIConsumer.host, APIConsumer.port)
    a, b = ToxiproxyBackend(binary=binary), ToxiproxyBackend(binary=binary)
    try:
        await asyncio.gather(a.start(), b.start())
        assert a.url != b.url
        # Point the library's globals at a dead port: a leak would now fail loudly.
        APIConsumer.host, APIConsumer.port = "127.0.0.1", free_loopback_port()
        # Same proxy name on both, driven concurrently from worker threads.
        listen_a, listen_b = await asyncio.gather(a.create_proxy("svc", echo), b.create_proxy("svc", echo))
        await asyncio.gather(
            a.add_toxic("svc", ToxicSpec(type="latency", attributes={"latency": 200})),
            b.add_toxic("svc", ToxicSpec(type="timeout", stream="upstream", attributes={"timeout": 0})),
        )
        (info_a,), (info_b,) = await asyncio.gather(a.list(), b.list())
        assert [t.type for t in info_a.toxics] == ["latency"]
        assert [t.type for t in info_b.toxics] == ["timeout"]
        r, w = await connect(listen_a)
        assert await roundtrip(r, w) >= 0.19  # each server really has its own toxic
    finally:
        APIConsumer.host, APIConsumer.port = global_before
        await asyncio.gather(a.close(), b.close())
    assert (APIConsumer.host, APIConsumer.port) == global_before == ("127.0.0.1", 8474)


async def test_managed_server_is_stopped_at_close(binary):
    faults = ToxiproxyBackend(binary=binary)
    await faults.start()
    proc = faults._server.proc
    assert faults.describe()["version"] == "2.5.0"
    assert faults.describe()["binary"] == str(binary)
    await faults.close()
    assert proc.poll() is not None, "server still running after close"
    assert not _group_alive(proc.pid)
    await faults.close()  # idempotent


async def test_url_mode_removes_only_its_own_proxies(binary, echo):
    async with ToxiproxyBackend(binary=binary) as owner:
        await owner.create_proxy("theirs", echo)
        shared = ToxiproxyBackend(url=owner.url)
        assert shared.describe()["managed"] is False
        await shared.start()
        await shared.create_proxy("ours", echo)
        await shared.add_toxic("ours", ToxicSpec(type="latency", attributes={"latency": 10}))
        assert [p.name for p in await shared.list()] == ["ours"]  # only what it created
        await shared.reset()  # must not touch "theirs"
        await shared.close()
        assert [p.name for p in await owner.list()] == ["theirs"]
        assert owner._server.proc.poll() is None, "URL mode never stops the server"


async def test_url_mode_name_clash_says_so(binary, echo):
    async with ToxiproxyBackend(binary=binary) as owner:
        await owner.create_proxy("svc", echo)
        async with ToxiproxyBackend(url=owner.url) as shared:
            with pytest.raises(FaultBackendError, match="another user of .* has a proxy named 'svc'"):
                await shared.create_proxy("svc", echo)


async def test_server_messages_are_translated(binary):
    async with ToxiproxyBackend(binary=binary) as faults:
        with pytest.raises(FaultBackendError, match=r"proxy not found \(HTTP 404\)") as info:
            await faults.add_toxic("ghost", ToxicSpec(type="latency"))
        assert info.value.__cause__ is not None  # the library's exception is kept


async def test_unreachable_url_fails_at_start_with_the_address():
    port = free_loopback_port()
    faults = ToxiproxyBackend(url=f"127.0.0.1:{port}", startup_timeout=0.3)
    with pytest.raises(FaultBackendError, match=f"127.0.0.1:{port}.*unreachable"):
        await faults.start()
    await faults.close()


async def test_server_that_dies_at_startup_is_reported(tmp_path):
    fake = tmp_path / "toxiproxy-server"
    fake.write_text("#!/bin/sh\necho 'listen tcp: boom' >&2\nexit 3\n")
    fake.chmod(0o755)
    faults = ToxiproxyBackend(binary=fake, startup_timeout=2)
    with pytest.raises(FaultBackendError, match=r"exited with status 3.*boom"):
        await faults.start()
    await faults.close()


async def test_hung_server_is_killed_with_its_process_group(tmp_path):
    """A server that never answers and ignores SIGTERM: SIGKILL to the whole group."""
    pidfile = tmp_path / "pid"
    fake = tmp_path / "toxiproxy-server"
    fake.write_text(f"#!/bin/sh\necho $$ > {pidfile}\ntrap '' TERM\nsleep 30 &\nwait\n")
    fake.chmod(0o755)
    faults = ToxiproxyBackend(binary=fake, startup_timeout=0.5)
    with pytest.raises(FaultBackendError, match="no answer on /version within 0.5s"):
        await asyncio.wait_for(faults.start(), 10)
    pgid = int(pidfile.read_text())
    await poll(lambda: not _group_alive(pgid), 3, what="the shell AND its sleeping child gone")
    await faults.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)  # a killed child may live on briefly as a zombie until reaped
    except ProcessLookupError:
        return False
    return True


async def test_close_during_a_slow_start_abandons_it(tmp_path):
    pidfile = tmp_path / "pid"
    fake = tmp_path / "toxiproxy-server"
    fake.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 30\n")
    fake.chmod(0o755)
    faults = ToxiproxyBackend(binary=fake, startup_timeout=20)
    starting = asyncio.create_task(faults.start())
    await poll(pidfile.exists, 5, what="fake server started")
    await asyncio.wait_for(faults.close(), 5)
    with pytest.raises(FaultBackendError, match="abandoned"):
        await asyncio.wait_for(starting, 5)
    await poll(lambda: not _group_alive(int(pidfile.read_text())), 3, what="fake server gone")
