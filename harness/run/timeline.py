"""The fault timeline: every fault goes on at ``at`` and off after ``for``
(windows), or happens once at ``at`` (instants), at its layer (HTTP rules in
a provider, toxics in the fault proxy, signals to the target process), and
each change is recorded with the clock's time when it took effect.

A window without ``for`` stays on until the workload ends. Every window is
lifted before the drain, so the target gets a calm period to reconcile.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from harness.clock import REAL_CLOCK, Clock
from harness.evidence.model import FaultEvent
from harness.run.layers import LAYERS, LayerEnv, TimelineLayer
from harness.spec.scenario import FaultSpec

__all__ = ["Timeline"]

_FIRE, _OFF, _ON = 2, 0, 1  # at one instant: lift first, then apply, then fire


class Timeline:
    """Applies the changes in time order from one task. Changes due at the same
    moment happen in file order, so when two HTTP rules match one request the
    provider's priority (first added, first to fire) is the file's."""

    def __init__(self, faults: list[FaultSpec], env: LayerEnv, on_change: Callable[[FaultEvent], None] | None = None,
                 layers: dict[str, TimelineLayer] | None = None):
        self._faults = faults
        self._clock: Clock = env.clock or REAL_CLOCK
        self._on_change = on_change or (lambda e: None)
        self.events: dict[str, FaultEvent] = {
            f.name: FaultEvent(name=f.name, kind=f.kind, layer=f.layer, provider=f.provider, instant=f.instant,
                               rule=f.rule) for f in faults
        }
        env.on_change = lambda name: self._on_change(self.events[name])
        wanted = {f.layer for f in faults}
        self.layers = layers if layers is not None else {name: LAYERS[name](env) for name in sorted(wanted)}
        self._active: set[str] = set()
        self._task: asyncio.Task | None = None
        self.failure: BaseException | None = None

    def start(self, t0: float) -> None:
        self._task = asyncio.create_task(self._run(t0), name="fault-timeline")

    def _schedule(self) -> list[tuple[float, int, int, FaultSpec]]:
        # (when, lift before apply before fire at the same instant, file order, fault)
        changes = [(f.at, _FIRE if f.instant else _ON, i, f) for i, f in enumerate(self._faults)]
        changes += [(f.at + f.duration, _OFF, i, f) for i, f in enumerate(self._faults)
                    if f.duration is not None and not f.instant]
        return sorted(changes, key=lambda c: c[:3])

    async def _run(self, t0: float) -> None:
        for when, action, _, spec in self._schedule():
            await self._clock.sleep_until(t0 + when)
            event = self.events[spec.name]
            try:
                if action == _ON:
                    await self.layers[spec.layer].apply(spec)
                    self._active.add(spec.name)
                    event.t_on = self._clock.now()
                    self._on_change(event)
                elif action == _FIRE:
                    event.t_on = self._clock.now()
                    await self.layers[spec.layer].fire(spec, event)
                    self._on_change(event)
                else:
                    await self._lift(spec)
            except Exception as exc:  # recorded; the runner turns it into an infrastructure error
                event.error = f"{type(exc).__name__}: {exc}"
                if self.failure is None:
                    self.failure = exc

    async def _lift(self, spec: FaultSpec) -> None:
        if spec.name not in self._active:
            return
        self._active.discard(spec.name)
        await self.layers[spec.layer].lift(spec)
        event = self.events[spec.name]
        event.t_off = self._clock.now()
        self._on_change(event)

    async def stop(self) -> None:
        """Cancel what has not happened yet, lift every window still on, and let
        each layer settle what its instants left running (a pending restart)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for spec in self._faults:
            try:
                await self._lift(spec)
            except Exception as exc:
                self.events[spec.name].error = f"could not lift: {type(exc).__name__}: {exc}"
                if self.failure is None:
                    self.failure = exc
        for layer in self.layers.values():
            await layer.settle()
        for event in self.events.values():
            if event.error and event.error.startswith("restart failed") and self.failure is None:
                self.failure = RuntimeError(f"{event.name}: {event.error}")

    def active(self) -> list[str]:
        return sorted(self._active)
