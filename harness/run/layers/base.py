"""Timeline layers: where a fault of the scenario's timeline takes effect.

A layer is registered by name and declares, for validation, the fault kinds it
takes (each with its attribute model), its own envelope keys (HTTP: rate,
first_n, match; network: stream, toxicity), which kinds are instants, and how a
validated entry becomes the rule it applies. At run time it is built with the
run's ``LayerEnv`` and turns faults on and off (windows) or fires them
(instants). Nothing else in the harness knows a layer's kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping

from pydantic import BaseModel

from harness.clock import REAL_CLOCK, Clock
from harness.spec.scenario import FaultSpec

__all__ = ["TimelineLayer", "LayerEnv", "LAYERS", "register_layer"]

_registry: dict[str, type["TimelineLayer"]] = {}
LAYERS: Mapping[str, type["TimelineLayer"]] = MappingProxyType(_registry)


def register_layer(cls: type["TimelineLayer"]) -> type["TimelineLayer"]:
    if cls.name in _registry:
        raise ValueError(f"timeline layer {cls.name!r} is registered twice")
    _registry[cls.name] = cls
    return cls


@dataclass
class LayerEnv:
    """What layers act on, assembled by the scenario run."""

    controls: dict[str, Any] = field(default_factory=dict)  # instance -> ControlClient
    backend: Any | None = None  # FaultBackend for network faults
    proxies: dict[str, str] = field(default_factory=dict)  # instance -> proxy name in the backend
    target: Any | None = None  # the TargetProcess, when paychaos started the target
    clock: Clock = REAL_CLOCK
    on_change: Callable[[str], None] = lambda name: None  # a layer changed a fault's event later on


class TimelineLayer:
    name: ClassVar[str]
    summary: ClassVar[str] = ""
    needs_provider: ClassVar[bool] = True  # faults name a provider instance
    envelope: ClassVar[type[BaseModel] | None] = None  # layer-wide keys beside the kind's attributes
    instant_kinds: ClassVar[frozenset[str]] = frozenset()

    # -- validation (class level: no run needed) ---------------------------
    @classmethod
    def kinds(cls) -> Mapping[str, type[BaseModel]]:
        raise NotImplementedError

    @classmethod
    def envelope_keys(cls) -> tuple[str, ...]:
        return tuple(cls.envelope.model_fields) if cls.envelope is not None else ()

    @classmethod
    def build_rule(cls, name: str, kind: str, envelope: BaseModel | None, attributes: dict[str, Any]) -> dict[str, Any]:
        return dict(attributes)

    @classmethod
    def check(cls, name: str, kind: str, envelope: BaseModel | None,
              attributes: dict[str, Any]) -> list[tuple[tuple, str]]:
        """Rules that span envelope and kind: [(location under the entry, message)]."""
        return []

    @classmethod
    def takes(cls) -> str:
        """``HTTP faults take rate, first_n and match``, for error messages."""
        keys = list(cls.envelope_keys())
        listed = " and ".join([", ".join(keys[:-1]), keys[-1]] if len(keys) > 1 else keys) or "no envelope keys"
        return f"{cls.label()} faults take {listed}"

    @classmethod
    def label(cls) -> str:
        return cls.name

    @classmethod
    def wrong_key(cls, key: str, owner: type["TimelineLayer"]) -> str:
        """Why ``key`` (an envelope key of the ``owner`` layer) does not belong in this layer's faults."""
        return f"is for {owner.label()} faults; {cls.takes()}"

    # -- run time -------------------------------------------------------------
    def __init__(self, env: LayerEnv):
        self.env = env

    async def apply(self, spec: FaultSpec) -> None:
        raise NotImplementedError

    async def lift(self, spec: FaultSpec) -> None:
        raise NotImplementedError

    async def fire(self, spec: FaultSpec, event: Any) -> None:
        """An instant. ``event`` is its FaultEvent; a layer may set ``t_off`` later
        (e.g. when a killed target is back) and call ``env.on_change``."""
        raise NotImplementedError(f"{self.name} has no instant kinds")

    async def settle(self) -> None:
        """End of the workload: finish or cancel what instants left running."""
