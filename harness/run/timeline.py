"""The fault timeline: every fault goes on at ``at`` and off after ``for``,
at its layer (HTTP rules in the provider, toxics in the fault proxy), and each
change is recorded with the monotonic time it took effect.

A fault without ``for`` stays on until the workload ends. Every fault is lifted
before the drain, so the target gets a calm period to reconcile.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from harness.errors import InfrastructureError
from harness.evidence.model import FaultEvent
from harness.spec.scenario import FaultSpec

__all__ = ["FaultApplier", "Timeline"]


class FaultApplier:
    """Turns a FaultSpec on or off at its layer."""

    def __init__(self, controls: dict[str, Any], backend: Any | None, proxies: dict[str, str]):
        self._controls = controls  # provider -> ControlClient
        self._backend = backend  # FaultBackend for network faults, or None
        self._proxies = proxies  # provider -> proxy name in the backend

    async def apply(self, spec: FaultSpec) -> None:
        if spec.layer == "http":
            await self._controls[spec.provider].add_fault(spec.rule)
            return
        from harness.faults import ToxicSpec

        # `down` too is a ToxicSpec: both backends apply it as enabled=false.
        await self._backend.add_toxic(self._proxy(spec), ToxicSpec(
            name=spec.name, type=spec.kind, stream=spec.rule["stream"], toxicity=spec.rule["toxicity"],
            attributes=spec.rule["attributes"]))

    async def lift(self, spec: FaultSpec) -> None:
        if spec.layer == "http":
            await self._controls[spec.provider].remove_fault(spec.name)
            return
        await self._backend.remove_toxic(self._proxy(spec), spec.name)

    def _proxy(self, spec: FaultSpec) -> str:
        if self._backend is None or spec.provider not in self._proxies:
            raise InfrastructureError(f"no fault proxy in front of {spec.provider} for network fault {spec.name}")
        return self._proxies[spec.provider]


class Timeline:
    """Applies the changes in time order from one task. Changes due at the same
    moment happen in file order, so when two HTTP rules match one request the
    provider's priority (first added, first to fire) is the file's."""

    def __init__(self, faults: list[FaultSpec], applier: FaultApplier,
                 on_change: Callable[[FaultEvent], None] | None = None):
        self._faults = faults
        self._applier = applier
        self._on_change = on_change or (lambda e: None)
        self.events: dict[str, FaultEvent] = {
            f.name: FaultEvent(name=f.name, kind=f.kind, layer=f.layer, provider=f.provider, rule=f.rule) for f in faults
        }
        self._active: set[str] = set()
        self._task: asyncio.Task | None = None
        self.failure: BaseException | None = None

    def start(self, t0: float) -> None:
        self._task = asyncio.create_task(self._run(t0), name="fault-timeline")

    def _schedule(self) -> list[tuple[float, int, int, FaultSpec]]:
        # (when, off before on at the same instant, file order, fault)
        changes = [(f.at, 1, i, f) for i, f in enumerate(self._faults)]
        changes += [(f.at + f.duration, 0, i, f) for i, f in enumerate(self._faults) if f.duration is not None]
        return sorted(changes, key=lambda c: c[:3])

    async def _run(self, t0: float) -> None:
        for when, is_on, _, spec in self._schedule():
            await _sleep_until(t0 + when)
            try:
                if is_on:
                    await self._applier.apply(spec)
                    self._active.add(spec.name)
                    self.events[spec.name].t_on = time.monotonic()
                    self._on_change(self.events[spec.name])
                else:
                    await self._lift(spec)
            except Exception as exc:  # recorded; the runner turns it into an infrastructure error
                self.events[spec.name].error = f"{type(exc).__name__}: {exc}"
                if self.failure is None:
                    self.failure = exc

    async def _lift(self, spec: FaultSpec) -> None:
        if spec.name not in self._active:
            return
        self._active.discard(spec.name)
        await self._applier.lift(spec)
        event = self.events[spec.name]
        event.t_off = time.monotonic()
        self._on_change(event)

    async def stop(self) -> None:
        """Cancel what has not happened yet and lift everything still on."""
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

    def active(self) -> list[str]:
        return sorted(self._active)


async def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
