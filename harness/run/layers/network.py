"""The network layer: toxics on a fault proxy (embedded or the real Toxiproxy)
in front of a provider instance."""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, ValidationError

from harness.errors import InfrastructureError
from harness.run.layers.base import TimelineLayer, register_layer
from harness.spec.scenario import FaultSpec
from harness.spec.types import Probability, Strict

__all__ = ["NetworkLayer"]


class NetEnvelope(Strict):
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: Probability = 1.0


@register_layer
class NetworkLayer(TimelineLayer):
    name = "network"
    summary = "toxics below HTTP between the target and a provider: latency, resets, timeouts, down"
    envelope = NetEnvelope

    @classmethod
    def kinds(cls) -> Mapping[str, type[BaseModel]]:
        from harness.faults.toxics import REGISTRY

        return {name: toxic.Attributes for name, toxic in REGISTRY.items()}

    @classmethod
    def build_rule(cls, name: str, kind: str, envelope: Any, attributes: dict[str, Any]) -> dict[str, Any]:
        return {"stream": envelope.stream, "toxicity": envelope.toxicity, "attributes": attributes}

    @classmethod
    def check(cls, name: str, kind: str, envelope: Any, attributes: dict[str, Any]) -> list[tuple[tuple, str]]:
        """The backends' own ToxicSpec rules that span envelope and kind (e.g.
        ``down`` takes the whole proxy, so its toxicity must be 1)."""
        from harness.faults import ToxicSpec

        try:
            ToxicSpec(name=name, type=kind, stream=envelope.stream, toxicity=envelope.toxicity, attributes=attributes)
        except ValidationError as exc:
            out = []
            for err in exc.errors(include_url=False):
                loc = tuple(err.get("loc", ()))
                if loc[:1] == ("attributes",):
                    loc = loc[1:]
                elif loc[:1] == ("type",):
                    loc = ("kind",)
                elif not loc and "toxicity" in str(err.get("msg", "")):
                    loc = ("toxicity",)
                out.append((loc, str(err.get("msg"))))
            return out
        return []

    @classmethod
    def wrong_key(cls, key: str, owner: type[TimelineLayer]) -> str:
        hint = (". Toxiproxy draws toxicity once per connection, so for a per-request probability use an HTTP fault "
                "kind instead") if owner.name == "http" else ""
        return super().wrong_key(key, owner) + hint

    async def apply(self, spec: FaultSpec) -> None:
        from harness.faults import ToxicSpec

        # `down` too is a ToxicSpec: both backends apply it as enabled=false.
        await self.env.backend.add_toxic(self._proxy(spec), ToxicSpec(
            name=spec.name, type=spec.kind, stream=spec.rule["stream"], toxicity=spec.rule["toxicity"],
            attributes=spec.rule["attributes"]))

    async def lift(self, spec: FaultSpec) -> None:
        await self.env.backend.remove_toxic(self._proxy(spec), spec.name)

    def _proxy(self, spec: FaultSpec) -> str:
        if self.env.backend is None or spec.provider not in self.env.proxies:
            raise InfrastructureError(f"no fault proxy in front of {spec.provider} for network fault {spec.name}")
        return self.env.proxies[spec.provider]
