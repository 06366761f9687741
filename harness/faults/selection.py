"""Choosing a fault backend: argument, else PAYCHAOS_FAULT_BACKEND, else embedded."""

from __future__ import annotations

import os
from typing import Any, Mapping

from ..errors import DefinitionError
from .backend import BackendBase
from .embedded import EmbeddedBackend
from .toxiproxy import ToxiproxyBackend

__all__ = ["open_backend", "BACKENDS"]

BACKENDS = {"embedded": EmbeddedBackend, "toxiproxy": ToxiproxyBackend}


def open_backend(kind: str | None = None, *, seed: int | None = None,
                 env: Mapping[str, str] | None = None, **options: Any) -> BackendBase:
    """A fault backend, not yet started (``await b.start()`` or ``async with b:``).

    ``seed`` seeds the embedded backend's per-connection draws; Toxiproxy cannot
    use one, and its ``describe()`` says so. Other ``options`` go to the backend
    (``url``/``binary`` for toxiproxy). Raises FaultBackendError (with how to
    install it) when toxiproxy is asked for and neither a server binary nor
    TOXIPROXY_URL is available.
    """
    env = os.environ if env is None else env
    chosen = (kind or env.get("PAYCHAOS_FAULT_BACKEND") or "embedded").strip().lower()
    source = "argument" if kind else ("PAYCHAOS_FAULT_BACKEND" if env.get("PAYCHAOS_FAULT_BACKEND")
                                      else "default")
    if chosen not in BACKENDS:
        raise DefinitionError(
            f"fault backend {chosen!r} (from {source}) is unknown; use one of: {', '.join(BACKENDS)}")
    if chosen == "toxiproxy":
        return ToxiproxyBackend(env=env, seed=seed, **options)
    return EmbeddedBackend(seed=seed, **options)
