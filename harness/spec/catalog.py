"""What the spec layer knows about the other rooms: providers, test cards, fault kinds.

The registries live with the code that implements them (HTTP fault kinds in
``mock_providers.core.faults``, toxics in ``harness.faults.toxics``, test cards
in each provider package); this module only reads them, so validating a
scenario uses exactly the models the runtime uses.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any, Mapping

from pydantic import BaseModel, ValidationError

from harness.errors import SpecIssue
from harness.spec.messages import issues_from_validation
from harness.spec.source import Document

__all__ = ["PROVIDERS", "layer_of", "fault_kinds", "validate_attributes", "test_cards"]

# Provider name -> the package that implements it (a real HTTP server each).
PROVIDERS: Mapping[str, str] = MappingProxyType({"cardpay": "mock_providers.cardpay"})


def _http_registry() -> Mapping[str, type[BaseModel]]:
    from mock_providers.core.faults import FAULT_KINDS

    return FAULT_KINDS


def _toxic_registry() -> Mapping[str, Any]:
    from harness.faults.toxics import REGISTRY

    return REGISTRY


def fault_kinds() -> dict[str, list[str]]:
    return {
        "http": sorted(_http_registry()),
        "network": sorted(_toxic_registry()),
    }


def layer_of(kind: str) -> str | None:
    if kind in _http_registry():
        return "http"
    if kind in _toxic_registry():
        return "network"
    return None


def _http_model(kind: str) -> type[BaseModel]:
    return _http_registry()[kind]


def _toxic_model(kind: str) -> type[BaseModel]:
    return _toxic_registry()[kind].Attributes


def validate_attributes(
    layer: str, kind: str, attributes: dict[str, Any], doc: Document, where: tuple
) -> tuple[dict[str, Any], list[SpecIssue]]:
    """Phase 2: the kind's own attribute model. Returns normalised attributes."""
    model = _http_model(kind) if layer == "http" else _toxic_model(kind)
    try:
        value = model.model_validate(attributes)
    except ValidationError as exc:
        return {}, issues_from_validation(exc, doc, model, where)
    dumped = value.model_dump(mode="json", exclude_none=True)
    dumped.pop("kind", None)
    return dumped, []


def test_cards(provider: str) -> Mapping[str, Any]:
    """The provider's public test-card table, keyed by short name."""
    module = importlib.import_module(PROVIDERS[provider] + ".cards")
    return module.TEST_CARDS
