"""Workload engines: what submits the orders to the target. Registered by name;
a scenario picks one with ``workload.engine`` (default ``async``, the built-in
driver in ``driver.py``). An engine streams every order and call into the
evidence sink through ``EngineContext.record`` and returns the submitted
orders with their last answers (the drain polls the ones not final).

A new engine (e.g. Locust in its own processes) is a ``WorkloadEngine``
subclass decorated with ``@register_engine`` in a module imported at the end
of this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Iterator, Mapping

from harness.clock import REAL_CLOCK, Clock
from harness.evidence.model import TargetCall
from harness.spec.scenario import Workload
from harness.spec.target import Target
from harness.workload.orders import Order

__all__ = ["EngineContext", "WorkloadResult", "WorkloadEngine", "ENGINES", "register_engine"]


@dataclass
class EngineContext:
    target: Target
    base_url: str
    workload: Workload
    orders: Iterator[Order]  # seeded; the engine takes as many as its bounds allow
    client: Any  # harness.workload.client.TargetClient, for engines in this process
    sink: Any  # harness.evidence.sink.EvidenceSink
    clock: Clock = REAL_CLOCK
    on_call: Callable[[TargetCall], None] = lambda call: None  # observers (the live terminal line)

    def record(self, call: TargetCall) -> None:
        self.sink.call(call)
        self.on_call(call)


@dataclass
class WorkloadResult:
    orders: list[Order] = field(default_factory=list)  # submitted, in submission order
    last_outcome: dict[str, str | None] = field(default_factory=dict)  # order id -> its pay answer's outcome
    not_submitted: int = 0
    t0: float = 0.0
    t_end: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)  # engine-specific figures for the journal


class WorkloadEngine:
    name: ClassVar[str]

    async def run(self, ctx: EngineContext) -> WorkloadResult:
        raise NotImplementedError


_registry: dict[str, type[WorkloadEngine]] = {}
ENGINES: Mapping[str, type[WorkloadEngine]] = MappingProxyType(_registry)


def register_engine(cls: type[WorkloadEngine]) -> type[WorkloadEngine]:
    if cls.name in _registry:
        raise ValueError(f"workload engine {cls.name!r} is registered twice")
    _registry[cls.name] = cls
    return cls


from harness.workload import driver as _driver  # noqa: F401  (registration)
