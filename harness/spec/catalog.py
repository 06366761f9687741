"""What the spec layer knows about the other rooms: provider types and their
profiles, test instruments, timeline layers and their fault kinds, workload
engines.

The registries live with the code that implements them (profiles in each
provider package through ``mock_providers.registry``, timeline layers in
``harness.run.layers``, engines in ``harness.workload.engines``); this module
only reads them, so validating a scenario uses exactly the models the runtime
uses.
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ValidationError

from harness.errors import SpecIssue
from harness.spec.messages import issues_from_validation
from harness.spec.source import Document

__all__ = ["provider_types", "profile", "known_type", "instruments", "layers", "layer_of", "fault_kinds",
           "validate_attributes", "engines"]


def provider_types() -> list[str]:
    from mock_providers.registry import PROVIDERS

    return sorted(PROVIDERS)


def profile(type_name: str):
    """The ``ProviderProfile`` of a type (a registered name or a module path). KeyError when unknown."""
    from mock_providers.registry import load_profile

    return load_profile(type_name)


def known_type(type_name: str) -> str | None:
    """None when the type resolves, else why not (for an error message)."""
    try:
        profile(type_name)
    except KeyError as exc:
        return str(exc).strip('"')
    return None


def instruments(type_name: str) -> Mapping[str, Any]:
    """The type's test instruments (cards, wallet accounts), keyed by short name."""
    return profile(type_name).instruments


def layers() -> Mapping[str, Any]:
    from harness.run.layers import LAYERS

    return LAYERS


def engines() -> Mapping[str, Any]:
    from harness.workload.engines import ENGINES

    return ENGINES


def fault_kinds() -> dict[str, list[str]]:
    return {name: sorted(layer.kinds()) for name, layer in layers().items()}


def layer_of(kind: str) -> str | None:
    for name, layer in layers().items():
        if kind in layer.kinds():
            return name
    return None


def validate_attributes(
    layer: str, kind: str, attributes: dict[str, Any], doc: Document, where: tuple
) -> tuple[dict[str, Any], list[SpecIssue]]:
    """Phase 2: the kind's own attribute model. Returns normalised attributes."""
    model: type[BaseModel] = layers()[layer].kinds()[kind]
    try:
        value = model.model_validate(attributes)
    except ValidationError as exc:
        return {}, issues_from_validation(exc, doc, model, where)
    dumped = value.model_dump(mode="json", exclude_none=True)
    dumped.pop("kind", None)
    return dumped, []
