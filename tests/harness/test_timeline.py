"""The fault timeline applies changes in time order, file order at the same
instant (the provider's rule priority), fires instants once, and lifts every
window on stop. Driven by a virtual clock: no real time passes."""

from __future__ import annotations

import asyncio

import pytest

from harness.clock import ManualClock
from harness.run.layers import LayerEnv, TimelineLayer
from harness.run.timeline import Timeline
from harness.spec.scenario import FaultSpec


def spec(i: int, name: str, at: float, duration: float | None, *, instant: bool = False) -> FaultSpec:
    return FaultSpec(index=i, layer="rec", kind="status", provider="cardpay", at=at, duration=duration, name=name,
                     instant=instant, rule={"id": name, "kind": "status", "status": 503})


class Recorder(TimelineLayer):
    name = "rec"

    def __init__(self, env: LayerEnv) -> None:
        super().__init__(env)
        self.calls: list[tuple[str, str, float]] = []
        self.settled = False

    async def apply(self, s: FaultSpec) -> None:
        self.calls.append(("on", s.name, self.env.clock.now()))

    async def lift(self, s: FaultSpec) -> None:
        self.calls.append(("off", s.name, self.env.clock.now()))

    async def fire(self, s: FaultSpec, event) -> None:
        self.calls.append(("fire", s.name, self.env.clock.now()))

    async def settle(self) -> None:
        self.settled = True


def build(faults: list[FaultSpec]) -> tuple[Timeline, Recorder, ManualClock]:
    clock = ManualClock(start=100.0)
    env = LayerEnv(clock=clock)
    rec = Recorder(env)
    return Timeline(faults, env, layers={"rec": rec}), rec, clock


async def test_changes_happen_in_time_then_file_order_and_stop_lifts_the_rest() -> None:
    faults = [spec(0, "b", 0.0, 0.05), spec(1, "a", 0.0, None), spec(2, "c", 0.05, None), spec(3, "late", 5.0, None)]
    timeline, rec, clock = build(faults)
    timeline.start(clock.now())
    await clock.advance(1.0)
    await timeline.stop()
    assert [c[:2] for c in rec.calls] == [("on", "b"), ("on", "a"), ("off", "b"), ("on", "c"), ("off", "a"),
                                          ("off", "c")]
    assert [c[2] for c in rec.calls[:4]] == [100.0, 100.0, 100.05, 100.05], "each change at its own time"
    assert timeline.events["late"].t_on is None, "a change not yet due never happens"
    assert timeline.events["b"].t_on == 100.0 and timeline.events["b"].t_off == pytest.approx(100.05)
    assert timeline.active() == [] and timeline.failure is None and rec.settled


async def test_an_instant_fires_once_after_lifts_and_applies_due_at_the_same_moment_and_is_never_lifted() -> None:
    faults = [spec(0, "kill", 2.0, None, instant=True), spec(1, "w", 1.0, 1.0), spec(2, "x", 2.0, None)]
    timeline, rec, clock = build(faults)
    timeline.start(clock.now())
    await clock.advance(3.0)
    await timeline.stop()
    assert [c[:2] for c in rec.calls] == [("on", "w"), ("off", "w"), ("on", "x"), ("fire", "kill"), ("off", "x")]
    kill = timeline.events["kill"]
    assert kill.instant and kill.t_on == 102.0 and kill.t_off is None


async def test_a_layer_that_fails_is_recorded_and_the_rest_still_happens() -> None:
    class Broken(Recorder):
        async def apply(self, s: FaultSpec) -> None:
            if s.name == "bad":
                raise RuntimeError("control API said no")
            await super().apply(s)

    clock = ManualClock()
    env = LayerEnv(clock=clock)
    rec = Broken(env)
    timeline = Timeline([spec(0, "bad", 0.0, None), spec(1, "good", 0.5, None)], env, layers={"rec": rec})
    timeline.start(clock.now())
    await clock.advance(1.0)
    await timeline.stop()
    assert timeline.events["bad"].error == "RuntimeError: control API said no"
    assert isinstance(timeline.failure, RuntimeError)
    assert ("on", "good", 0.5) in rec.calls


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, t: float) -> None:
        await clock.sleep_until(t)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, t)) for n, t in (("late", 3.0), ("early", 1.0), ("mid", 2.0))]
    await asyncio.sleep(0)
    await clock.advance(2.5)
    assert woke == [("early", 1.0), ("mid", 2.0)] and clock.now() == 2.5
    await clock.advance(1.0)
    await asyncio.gather(*tasks)
    assert woke[-1] == ("late", 3.0)
