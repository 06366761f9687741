"""Provider types -> their profiles (and, through them, their server classes).

A type is a short name registered here or the dotted path of any importable
module that defines ``PROFILE`` (a ``ProviderProfile``), so a provider can live
outside this package (a team's own, or one defined inside a test suite) with no
change here. Imports are lazy: one provider's imports never slow down or break
another. A new built-in provider adds one line to ``PROVIDERS``.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from types import MappingProxyType

from .core.profile import ProviderProfile

__all__ = ["PROVIDERS", "load_profile", "load_provider", "is_module_path"]

PROVIDERS = MappingProxyType({
    "cardpay": "mock_providers.cardpay.profile",
})

_MODULE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_loaded: dict[str, ProviderProfile] = {}


def is_module_path(name: str) -> bool:
    return bool(_MODULE_PATH.match(name))


def load_profile(type_name: str) -> ProviderProfile:
    """The profile of a provider type. Raises ``KeyError`` with the fix when unknown."""
    profile = _loaded.get(type_name)
    if profile is not None:
        return profile
    module_name = PROVIDERS.get(type_name)
    if module_name is None:
        if not is_module_path(type_name):
            raise KeyError(f"provider type {type_name!r} is unknown; use one of {sorted(PROVIDERS)}, or the "
                           "dotted path of a module that defines PROFILE")
        module_name = type_name
        # A project's own provider resolves from where paychaos runs, as a test suite's does.
        if os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise KeyError(f"provider type {type_name!r}: cannot import {module_name} ({exc})") from None
    profile = getattr(module, "PROFILE", None)
    if not isinstance(profile, ProviderProfile):
        raise KeyError(f"provider type {type_name!r}: {module_name} defines no PROFILE (a ProviderProfile)")
    _loaded[type_name] = profile
    return profile


def load_provider(type_name: str):
    """The server class of a provider type."""
    module, _, attr = load_profile(type_name).provider.partition(":")
    return getattr(importlib.import_module(module), attr)
