"""HTTP fault kinds, one per file, registered by name.

The harness imports ``FAULT_KINDS`` (read-only) and ``parse_rule`` to
validate scenario files with the very models the providers use.
"""

from ._base import FAULT_KINDS, Effect, FaultKind, FaultRule, FaultRuleError, Match, parse_rule
from . import commit_drop, decline, delay, drop, outage, rate_limit, status  # noqa: F401  (register)

__all__ = ["FAULT_KINDS", "Effect", "FaultKind", "FaultRule", "FaultRuleError", "Match", "parse_rule"]
