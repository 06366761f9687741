"""A real payment service built the way the contract says, plus seeded bugs.

The paychaos harness drives it and judges it; each seeded bug in `bugs`
breaks exactly one documented expectation, which the harness must catch.
See README.md in this folder for behaviour, environment and the catalogue.

    from examples.reference_target import Settings, create_app
    app = create_app(Settings.from_env())
"""

from __future__ import annotations

from typing import Any

from .bugs import SEEDED_BUGS
from .config import ConfigError, Settings

__all__ = ["create_app", "Settings", "ConfigError", "SEEDED_BUGS"]


def __getattr__(name: str) -> Any:
    # Lazy: `python -m examples.reference_target` validates its command line and
    # environment before paying for starlette, httpx and tenacity imports.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
