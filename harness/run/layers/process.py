"""The process layer: faults on the target process itself.

- ``pause`` (a window): SIGSTOP the target's process group, SIGCONT when the
  window ends. The target stops answering; its connections stay open.
- ``kill`` (an instant): signal the target's process group (SIGKILL by
  default) and wait for it to exit; with ``restart_after`` it is started again
  with the same command, environment and port that much later, and the fault's
  ``t_off`` is when it answered its readiness probe again.

Only for a target paychaos starts (a ``start`` section in the target file).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, Literal, Mapping

from pydantic import BaseModel

from harness.errors import InfrastructureError
from harness.run.layers.base import TimelineLayer, register_layer
from harness.spec.scenario import FaultSpec
from harness.spec.types import Seconds, Strict

__all__ = ["ProcessLayer"]


class Pause(Strict):
    pass


class Kill(Strict):
    signal: Literal["SIGKILL", "SIGTERM", "SIGINT"] = "SIGKILL"
    restart_after: Seconds | None = None


@register_layer
class ProcessLayer(TimelineLayer):
    name = "process"
    summary = "the target process itself: pause it, kill it (and start it again)"
    needs_provider = False
    instant_kinds = frozenset({"kill"})

    @classmethod
    def kinds(cls) -> Mapping[str, type[BaseModel]]:
        return {"pause": Pause, "kill": Kill}

    def __init__(self, env):
        super().__init__(env)
        self._restarts: set[asyncio.Task] = set()

    def _target(self, spec: FaultSpec):
        if self.env.target is None:
            raise InfrastructureError(f"process fault {spec.name} needs a target paychaos started (a start section)")
        return self.env.target

    async def apply(self, spec: FaultSpec) -> None:
        self._target(spec).pause()

    async def lift(self, spec: FaultSpec) -> None:
        self._target(spec).resume()

    async def fire(self, spec: FaultSpec, event: Any) -> None:
        target = self._target(spec)
        await target.kill(getattr(signal, spec.rule.get("signal", "SIGKILL")))
        after = spec.rule.get("restart_after")
        if after is None:
            return
        task = asyncio.create_task(self._restart(spec, event, float(after)), name=f"restart-{spec.name}")
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)

    async def _restart(self, spec: FaultSpec, event: Any, after: float) -> None:
        await self.env.clock.sleep(after)
        try:
            await self._target(spec).restart()
        except Exception as exc:  # recorded on the event; the run reports it
            event.error = f"restart failed: {type(exc).__name__}: {exc}"
            raise
        event.t_off = self.env.clock.now()
        self.env.on_change(spec.name)

    async def settle(self) -> None:
        """A restart still pending when the workload ends is finished (the drain
        needs the target), bounded by the readiness deadline."""
        if self._restarts:
            await asyncio.gather(*self._restarts, return_exceptions=True)
