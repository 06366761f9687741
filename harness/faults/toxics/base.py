"""The toxic contract: a registered name, an attributes model, and a ``pipe``.

Each toxic lives in its own module, like Toxiproxy's ``toxics/*.go``, and
registers itself by subclassing :class:`Toxic` with a ``name``::

    class LatencyToxic(Toxic, name="latency"):
        Attributes = LatencyAttributes
        async def pipe(self, stub): ...

The ``Attributes`` model carries Toxiproxy's exact attribute names, units and
defaults, so one model validates a scenario for either backend. ``pipe`` is the
embedded proxy's implementation; the Toxiproxy backend never calls it.

``pipe`` runs once per connection and direction, reading chunks from the stub
and writing them on. An *interrupt* (the toxic is updated or removed) arrives as
``asyncio.CancelledError`` at whatever ``await`` the toxic is blocked in: that is
asyncio's version of Toxiproxy's ``select { case <-stub.Interrupt: }``, and it
means every wait is interruptible by construction. On interrupt a toxic must
pass any chunk it holds on with ``stub.send`` (synchronous, never blocks) and
re-raise, so no byte is lost or reordered (CREATING_TOXICS.md).
"""

from __future__ import annotations

import difflib
import random
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "Chunk",
    "TIMED_OUT",
    "StubAPI",
    "Toxic",
    "ToxicAttributes",
    "attribute",
    "REGISTRY",
]


class Chunk:
    """Bytes read from one socket, stamped with when they were read."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes, ts: float):
        self.data = data
        self.ts = ts  # time.monotonic() when read; latency counts from here

    def __repr__(self) -> str:
        return f"Chunk({len(self.data)} bytes @ {self.ts:.6f})"


class _TimedOut:
    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT: Any = _TimedOut()
"""Returned by ``stub.recv(timeout=...)`` when nothing arrived in time."""


class StubAPI(Protocol):
    """What a toxic may do with its stub (one toxic x one connection x one direction)."""

    state: Any  # from Toxic.new_state(); survives interrupts, dies with the toxic
    rng: random.Random  # jitter / slicing draws; seeded per connection in seeded mode

    async def recv(self, timeout: float | None = None) -> Chunk | None:
        """Next chunk; None once the input has ended (sticky, like a closed Go
        channel); TIMED_OUT if ``timeout`` seconds passed first."""

    def send(self, chunk: Chunk) -> None:
        """Pass a chunk to the next toxic (or the socket). Never blocks."""

    def drop(self, nbytes: int) -> None:
        """Account for bytes deliberately discarded (flow control counts them)."""

    def close(self) -> None:
        """End this direction: the destination socket is closed after what was sent."""

    def reset(self) -> None:
        """Like close, but both sockets are torn down with RST (SO_LINGER 0)."""


_registry: dict[str, type[Toxic]] = {}
REGISTRY: MappingProxyType[str, type[Toxic]] = MappingProxyType(_registry)
"""name -> toxic class; read-only. Each class has ``.Attributes``."""


def attribute(default: int | None, *, unit: str, minimum: int = 0, doc: str, hint: str = ""):
    """A toxic attribute with its unit and lower bound, checked with a clear message.

    ``default=None`` makes it required (used where Toxiproxy's zero default
    would hang or crash the proxy).
    """
    extra = {"unit": unit, "minimum": minimum, "hint": hint}
    if default is None:
        return Field(description=f"{doc} ({unit})", json_schema_extra=extra)
    return Field(default, description=f"{doc} ({unit})", json_schema_extra=extra)


class ToxicAttributes(BaseModel):
    """Base of every toxic's attributes model.

    Strict integers (Toxiproxy's fields are Go int64: 1.5 or "200" are errors
    there too), unknown names rejected with the known ones listed, bounds
    reported as ``field=value is invalid: rule; fix``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    toxic_name: ClassVar[str] = "?"  # set when the owning Toxic registers

    @model_validator(mode="before")
    @classmethod
    def _known_names_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError(
                "attributes_type",
                "attributes of toxic '{toxic}' must be a mapping of name to value, got {got}",
                {"toxic": cls.toxic_name, "got": type(data).__name__},
            )
        known = list(cls.model_fields)
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                fix = f"did you mean '{close[0]}'?" if close else "remove it"
                listing = ", ".join(f"{k} ({cls._unit(k)})" for k in known) or "none"
                raise PydanticCustomError(
                    "unknown_attribute",
                    "unknown attribute '{key}' for toxic '{toxic}'; {fix} Known attributes: {listing}",
                    {"key": key, "toxic": cls.toxic_name, "fix": fix, "listing": listing},
                )
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _bounds(cls, value: Any, info) -> Any:
        extra = cls.model_fields[info.field_name].json_schema_extra or {}
        minimum = extra.get("minimum")
        if isinstance(value, int) and minimum is not None and value < minimum:
            hint = extra.get("hint") or ""
            raise PydanticCustomError(
                "out_of_range",
                "{field}={value} is invalid for toxic '{toxic}': must be >= {minimum} {unit}{hint}",
                {
                    "field": info.field_name,
                    "value": value,
                    "toxic": cls.toxic_name,
                    "minimum": minimum,
                    "unit": extra.get("unit", ""),
                    "hint": f"; {hint}" if hint else "",
                },
            )
        return value

    @classmethod
    def _unit(cls, name: str) -> str:
        extra = cls.model_fields[name].json_schema_extra or {}
        return str(extra.get("unit", "?"))


class Toxic:
    """One kind of network fault. Subclass with ``name=...`` to register it."""

    name: ClassVar[str]
    Attributes: ClassVar[type[ToxicAttributes]]
    # True for faults that act on the whole proxy (``down``), not on a stream.
    proxy_level: ClassVar[bool] = False

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if name is None:  # an abstract helper base, not a toxic
            return
        if name in _registry:
            other = _registry[name]
            raise TypeError(
                f"toxic name '{name}' is already registered by "
                f"{other.__module__}.{other.__qualname__}; choose another name"
            )
        if not (isinstance(getattr(cls, "Attributes", None), type)
                and issubclass(cls.Attributes, ToxicAttributes)):
            raise TypeError(f"toxic '{name}' needs an Attributes model (a ToxicAttributes subclass)")
        cls.name = name
        cls.Attributes.toxic_name = name
        _registry[name] = cls

    def __init__(self, attributes: ToxicAttributes):
        self.attrs = attributes

    def new_state(self) -> Any:
        """Per-connection state kept across interrupts (Toxiproxy's StatefulToxic)."""
        return None

    async def pipe(self, stub: StubAPI) -> None:
        raise NotImplementedError

    def cleanup(self, stub: StubAPI) -> None:
        """Called when the toxic is removed from a live connection (CleanupToxic)."""


class NoopToxic:
    """Passes everything through; runs in place of a toxic that lost its draw."""

    async def pipe(self, stub: StubAPI) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            stub.send(chunk)


NOOP = NoopToxic()
