"""Mock payment providers: real HTTP servers on 127.0.0.1 with faults,
journals, ledgers and the idempotency semantics of their real counterparts.

The harness-side API is imported lazily so that the provider process itself
never loads aiohttp.
"""

__all__ = ["ProviderHost", "ControlClient", "ControlError"]


def __getattr__(name):
    if name == "ProviderHost":
        from .host import ProviderHost
        return ProviderHost
    if name in ("ControlClient", "ControlError"):
        from . import control
        return getattr(control, name)
    raise AttributeError(f"module 'mock_providers' has no attribute {name!r}")
