"""Typed lifecycle events of a run. The terminal display listens to them; a
listener that raises is logged and ignored, never kills the run."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["RunObserver", "SafeObserver"]

log = logging.getLogger("paychaos")


class RunObserver:
    """Override what you need; every method is a no-op by default."""

    def run_started(self, seed: int, scenarios: list[str]) -> None: ...

    def scenario_started(self, name: str, seed: int, orders: int) -> None: ...

    def phase(self, name: str, phase: str) -> None: ...

    def call_done(self, name: str, call: Any) -> None: ...

    def fault_changed(self, name: str, event: Any) -> None: ...

    def scenario_done(self, result: Any) -> None: ...


class SafeObserver(RunObserver):
    """Wraps an observer so that its exceptions never reach the runner."""

    def __init__(self, inner: RunObserver | None):
        self._inner = inner or RunObserver()

    def _call(self, method: str, *args: Any) -> None:
        try:
            getattr(self._inner, method)(*args)
        except Exception:  # a display bug must not abort a resilience run
            log.exception("observer %s raised; ignored", method)

    def run_started(self, seed: int, scenarios: list[str]) -> None:
        self._call("run_started", seed, scenarios)

    def scenario_started(self, name: str, seed: int, orders: int) -> None:
        self._call("scenario_started", name, seed, orders)

    def phase(self, name: str, phase: str) -> None:
        self._call("phase", name, phase)

    def call_done(self, name: str, call: Any) -> None:
        self._call("call_done", name, call)

    def fault_changed(self, name: str, event: Any) -> None:
        self._call("fault_changed", name, event)

    def scenario_done(self, result: Any) -> None:
        self._call("scenario_done", result)
