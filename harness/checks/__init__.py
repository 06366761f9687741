"""Checks, one family per module, registered by clause id."""

from harness.checks.base import (
    FAMILIES,
    REGISTRY,
    Check,
    CheckContext,
    Example,
    Verdict,
    register,
    resolve_checks,
    run_checks,
)

# Importing a family registers its checks. Money first: it is always on.
from harness.checks import integration as _integration  # noqa: F401
from harness.checks import attribution as _attribution  # noqa: F401
from harness.checks import money as _money  # noqa: F401
from harness.checks import retry as _retry  # noqa: F401
from harness.checks import idempotency as _idempotency  # noqa: F401
from harness.checks import errors as _errors  # noqa: F401
from harness.checks import degradation as _degradation  # noqa: F401
from harness.checks import reconcile as _reconcile  # noqa: F401

__all__ = ["Check", "CheckContext", "Example", "FAMILIES", "REGISTRY", "Verdict", "register", "resolve_checks",
           "run_checks"]
