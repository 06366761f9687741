"""The fault timeline applies changes in time order, file order at the same
instant (the provider's rule priority), and lifts everything on stop."""

from __future__ import annotations

import asyncio
import time

from harness.run.timeline import Timeline
from harness.spec.scenario import FaultSpec


def spec(i: int, name: str, at: float, duration: float | None) -> FaultSpec:
    return FaultSpec(index=i, layer="http", kind="status", provider="cardpay", at=at, duration=duration, name=name,
                     rule={"id": name, "kind": "status", "status": 503})


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []
        self.t0 = 0.0

    async def apply(self, s: FaultSpec) -> None:
        self.calls.append(("on", s.name, time.monotonic() - self.t0))

    async def lift(self, s: FaultSpec) -> None:
        self.calls.append(("off", s.name, time.monotonic() - self.t0))


async def test_changes_happen_in_time_then_file_order_and_stop_lifts_the_rest() -> None:
    rec = Recorder()
    faults = [spec(0, "b", 0.0, 0.05), spec(1, "a", 0.0, None), spec(2, "c", 0.05, None), spec(3, "late", 5.0, None)]
    timeline = Timeline(faults, rec)  # type: ignore[arg-type]
    rec.t0 = time.monotonic()
    timeline.start(rec.t0)
    deadline = time.monotonic() + 5
    while len(rec.calls) < 4:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await timeline.stop()
    assert [c[:2] for c in rec.calls] == [("on", "b"), ("on", "a"), ("off", "b"), ("on", "c"), ("off", "a"),
                                          ("off", "c")]
    assert rec.calls[2][2] >= 0.05 - 0.005, "b went off no earlier than at + for (5 ms tolerance)"
    assert timeline.events["late"].t_on is None, "a change not yet due never happens"
    assert timeline.events["b"].t_on is not None and timeline.events["b"].t_off is not None
    assert timeline.active() == [] and timeline.failure is None
