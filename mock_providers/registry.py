"""Provider names -> classes, imported lazily so that one provider's imports
never slow down or break another. A new provider adds one line here."""

from __future__ import annotations

import importlib
from types import MappingProxyType

__all__ = ["PROVIDERS", "load_provider"]

PROVIDERS = MappingProxyType({
    "cardpay": "mock_providers.cardpay.provider:CardPay",
})


def load_provider(name: str):
    target = PROVIDERS.get(name)
    if target is None:
        raise KeyError(f"provider={name!r} is unknown; use one of {sorted(PROVIDERS)}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
