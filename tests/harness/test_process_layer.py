"""The process timeline layer against a real target process: pause stops it
answering until lifted; kill ends it, and with restart_after it comes back on
the same port and the fault's t_off is when it answered again."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from harness.clock import REAL_CLOCK
from harness.evidence.model import FaultEvent
from harness.run.layers import LayerEnv
from harness.run.layers.process import ProcessLayer
from harness.run.ports import free_port
from harness.run.process import TargetProcess
from harness.spec.scenario import FaultSpec

pytestmark = pytest.mark.integration


async def answers(url: str, within: float) -> bool:
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(within):
                async with session.get(url) as resp:
                    return resp.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False


def fault(kind: str, rule: dict | None = None) -> FaultSpec:
    return FaultSpec(index=0, layer="process", kind=kind, provider=None, at=0.0, duration=None, name=f"{kind}-0",
                     instant=kind == "kill", rule=rule or {})


@pytest.fixture
async def target(tmp_path: Path):
    port = free_port()
    proc = TargetProcess([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], tmp_path,
                         {"PATH": "/usr/bin:/bin"}, tmp_path / "target.log")
    await proc.start()
    proc.ready_url, proc.ready_timeout_s = f"http://127.0.0.1:{port}/", 20.0
    await proc.wait_ready(proc.ready_url, 20.0)
    yield proc
    await proc.stop(2.0)


async def test_pause_holds_the_target_until_lifted(target: TargetProcess) -> None:
    layer = ProcessLayer(LayerEnv(target=target, clock=REAL_CLOCK))
    await layer.apply(fault("pause"))
    assert not await answers(target.ready_url, 0.5), "a paused target does not answer"
    await layer.lift(fault("pause"))
    assert await answers(target.ready_url, 5.0)


async def test_kill_with_restart_brings_the_target_back(target: TargetProcess) -> None:
    changed: list[str] = []
    layer = ProcessLayer(LayerEnv(target=target, clock=REAL_CLOCK, on_change=changed.append))
    spec = fault("kill", {"signal": "SIGKILL", "restart_after": 0.2})
    event = FaultEvent(name=spec.name, kind="kill", layer="process", instant=True, t_on=REAL_CLOCK.now())
    first_pid = target.pid
    await layer.fire(spec, event)
    assert target.exited() and target.exit_status == -9 and target.killed_by_fault == 1
    assert not await answers(target.ready_url, 0.5)
    await layer.settle()
    assert event.error is None and event.t_off is not None and event.t_off - event.t_on >= 0.2
    assert changed == [spec.name] and target.restarts == 1 and target.pid != first_pid
    assert await answers(target.ready_url, 5.0)


async def test_kill_without_restart_leaves_it_dead(target: TargetProcess) -> None:
    layer = ProcessLayer(LayerEnv(target=target, clock=REAL_CLOCK))
    spec = fault("kill", {"signal": "SIGTERM"})
    event = FaultEvent(name=spec.name, kind="kill", layer="process", instant=True)
    await layer.fire(spec, event)
    await layer.settle()
    assert target.exited() and event.t_off is None and target.restarts == 0
    assert not await answers(target.ready_url, 0.5)
