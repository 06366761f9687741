"""The one exception tree of paychaos.

    PaychaosError
    ├── DefinitionError          bad input, found before anything starts (exit 2)
    │   └── SpecError            a scenario/contract/target file is wrong; carries file:line
    └── InfrastructureError      the harness could not run (exit 3)
        ├── ProviderError        a mock provider would not start or answer its control API
        ├── FaultBackendError    a fault proxy (embedded or Toxiproxy) failed
        ├── TargetStartError     the target process exited or never became ready
        └── PortError            no free loopback port, or a port clash

Verdicts about the system under test are results, not exceptions: a target that
crashes, hangs or answers garbage mid-run produces failing verdicts with
evidence, never one of these.
"""

from __future__ import annotations

__all__ = [
    "PaychaosError",
    "DefinitionError",
    "SpecError",
    "SpecIssue",
    "InfrastructureError",
    "ProviderError",
    "FaultBackendError",
    "TargetStartError",
    "PortError",
]

from dataclasses import dataclass


class PaychaosError(Exception):
    """Base of every error paychaos raises on purpose."""

    exit_code = 3


class DefinitionError(PaychaosError):
    """The user's input is wrong; nothing has been started."""

    exit_code = 2


@dataclass(frozen=True)
class SpecIssue:
    """One problem in one input file, located as precisely as we can."""

    file: str
    line: int | None
    path: str  # dotted field path, e.g. "faults[2].rate"
    message: str  # what was wrong and how to fix it

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        return f"{where}{field} {self.message}"


class SpecError(DefinitionError):
    """One or more problems in input files. ``str()`` lists them, one a line."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class InfrastructureError(PaychaosError):
    """The harness itself could not do its job (exit 3)."""

    exit_code = 3


class ProviderError(InfrastructureError):
    pass


class FaultBackendError(InfrastructureError):
    pass


class TargetStartError(InfrastructureError):
    """The target never became ready. ``output`` holds what it printed."""

    def __init__(self, message: str, output: str = "", exit_status: int | None = None):
        super().__init__(message)
        self.output = output
        self.exit_status = exit_status


class PortError(InfrastructureError):
    pass
