"""The catalogue of seeded bugs, switched on by `REFTARGET_BUG`.

The reference target is also the harness's self-test: each bug below breaks
exactly ONE documented expectation (named in its docstring and in `breaks`),
leaves everything else as the correct service does it, and must be caught by
the check that enforces that expectation.

    REFTARGET_BUG=no-retry                      one bug
    REFTARGET_BUG=no-backoff,ignore-retry-after several
    REFTARGET_BUG=                              none (the correct service)

The code asks `bug in settings.bugs` at the one place the bug lives; grep for
the class name to find it.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import ClassVar

__all__ = [
    "SeededBug",
    "SEEDED_BUGS",
    "BugSet",
    "UnknownBugError",
    "parse_bugs",
    "NoRetry",
    "RetryDeclines",
    "UnboundedRetry",
    "NoBackoff",
    "NewKeyPerAttempt",
    "IgnoreRetryAfter",
    "DoubleChargeOnTimeout",
    "VagueErrors",
    "NoClientTimeout",
    "FailOnAmbiguous",
    "SucceedOnAmbiguous",
    "GuessOnUnknown",
    "ForgetUnpaid",
    "ReconcileNewKey",
    "ReconcileHammer",
    "LegacyChargesApi",
]

_REGISTRY: dict[str, type[SeededBug]] = {}


class SeededBug:
    """Base of every seeded bug; subclasses register themselves by `name`."""

    name: ClassVar[str]
    # The check id (scenarios/contracts/reference.yaml clause) that must catch it.
    breaks: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name in _REGISTRY:
            raise TypeError(f"seeded bug name {cls.name!r} is registered twice")
        _REGISTRY[cls.name] = cls


class NoRetry(SeededBug):
    """Gives up after the first attempt on a transient failure.

    Breaks: transient failures (timeouts, transport errors, 409/429/5xx) are
    retried up to max_attempts. Ambiguous outcomes are still resolved by lookup.
    """

    name = "no-retry"
    breaks = "retry.transient"


class RetryDeclines(SeededBug):
    """Treats 402 card errors as transient and retries them (same key).

    Breaks: declines are never retried automatically.
    """

    name = "retry-declines"
    breaks = "retry.never_retry"


class UnboundedRetry(SeededBug):
    """Keeps retrying transient failures up to 5 attempts (two more than the budget: caught with margin, still answered in time).

    Breaks: at most max_attempts (3) attempts per payment.
    """

    name = "unbounded-retry"
    breaks = "retry.max_attempts"
    attempts: ClassVar[int] = 5


class NoBackoff(SeededBug):
    """Retries immediately, without the exponential backoff (Retry-After still honoured).

    Breaks: backoff spacing between attempts.
    """

    name = "no-backoff"
    breaks = "retry.backoff"


class NewKeyPerAttempt(SeededBug):
    """Sends a fresh Idempotency-Key on every attempt.

    Breaks: the same idempotency key on every attempt of one payment.
    """

    name = "new-key-per-attempt"
    breaks = "idempotency.same_key_across_retries"


class IgnoreRetryAfter(SeededBug):
    """Uses only its own backoff, ignoring the provider's Retry-After.

    Breaks: Retry-After honoured (sleep >= Retry-After before the next attempt).
    """

    name = "ignore-retry-after"
    breaks = "retry.honour_retry_after"


class DoubleChargeOnTimeout(SeededBug):
    """After an ambiguous outcome (timeout, disconnect, 500) charges again under a NEW key.

    Breaks: no double charge (an unknown outcome must be replayed with the same
    key or looked up, never charged afresh).
    """

    name = "double-charge-on-timeout"
    breaks = "money.no_double_charge"


class VagueErrors(SeededBug):
    """Failed and declined answers carry only "Payment failed, please try again".

    Breaks: error answers carry a type, a concrete action and a contact.
    """

    name = "vague-errors"
    breaks = "errors.required"
    message: ClassVar[str] = "Payment failed, please try again"


class NoClientTimeout(SeededBug):
    """Builds the provider client with no timeout at all: hangs on a silent provider.

    Breaks: the service answers within its time budget (degradation response time).
    """

    name = "no-client-timeout"
    breaks = "degradation.max_response_ms"


class FailOnAmbiguous(SeededBug):
    """When every attempt ended ambiguously, answers `failed` without looking the payment up.

    Breaks: no orphan capture (the provider may have committed the charge: a
    payment whose outcome is unknown must be resolved before it is called failed).
    """

    name = "fail-on-ambiguous"
    breaks = "money.no_orphan_capture"


class SucceedOnAmbiguous(SeededBug):
    """When every attempt ended ambiguously, answers `succeeded` without looking the payment up.

    Breaks: the service's final state equals the ledger (an order reported paid
    must have been charged).
    """

    name = "succeed-on-ambiguous"
    breaks = "money.state_matches_ledger"


class GuessOnUnknown(SeededBug):
    """When its LAST attempt timed out or lost its reply, answers `failed` at once:
    no lookup, no reconciliation (what a service leaning on an SDK's automatic
    retries does). Right whenever the charge never ran; wrong when it committed.

    Breaks: an unknown outcome is resolved (looked up) before the order is
    reported final, never guessed.
    """

    name = "guess-on-unknown"
    breaks = "money.unknown_resolved"


class ForgetUnpaid(SeededBug):
    """Only paid orders can be looked up: `GET /payments/{id}` answers 404 for
    declined and failed ones (as if they were never stored).

    Breaks: every accepted order reaches a final state (none is lost).
    """

    name = "forget-unpaid"
    breaks = "money.all_final"


class ReconcileNewKey(SeededBug):
    """The reconciler charges a pending order again under a fresh idempotency
    key before looking it up, instead of only looking it up.

    Breaks: after answering, the service reconciles as documented (by lookup),
    never by a charge under another key.
    """

    name = "reconcile-new-key"
    breaks = "reconcile.replay"


class ReconcileHammer(SeededBug):
    """The reconciler ignores its interval and looks pending orders up in a
    tight loop.

    Breaks: provider requests per payment after the answer are bounded.
    """

    name = "reconcile-hammer"
    breaks = "reconcile.max_requests"


class LegacyChargesApi(SeededBug):
    """Sends its PaymentIntent request to Stripe's legacy Charges API
    (`POST /v1/charges`), which takes other parameters: the provider refuses
    `payment_method` as an unknown parameter, as Stripe does.

    Breaks: the service calls the provider's API as the provider serves it
    (an integration mismatch, not a resilience failure: the run is an error).
    """

    name = "legacy-charges-api"
    breaks = "integration.api"


class HoldLeftOpen(SeededBug):
    """With manual capture (REFTARGET_CAPTURE=manual), a capture that cannot be
    made fails the order but leaves the authorisation open: the customer's
    money stays held on the card for an order the shop says failed.

    Breaks: no money is captured, or left held, for an order reported not paid.
    """

    name = "hold-left-open"
    breaks = "money.no_orphan_capture"


# Read-only view: the catalogue is fixed at import time.
SEEDED_BUGS = MappingProxyType(_REGISTRY)


class UnknownBugError(ValueError):
    """REFTARGET_BUG names a bug the catalogue does not have."""


class BugSet:
    """The bugs switched on for this run; `NoRetry in bugs` asks about one."""

    __slots__ = ("_names",)

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names = frozenset(names)

    def __contains__(self, bug: type[SeededBug] | str) -> bool:
        name = bug if isinstance(bug, str) else bug.name
        return name in self._names

    def __bool__(self) -> bool:
        return bool(self._names)

    def __iter__(self):
        return iter(sorted(self._names))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BugSet) and other._names == self._names

    def __hash__(self) -> int:
        return hash(self._names)

    def __repr__(self) -> str:
        return f"BugSet({sorted(self._names)!r})"


def parse_bugs(spec: str) -> BugSet:
    """Parse `REFTARGET_BUG` ("", "no-retry" or "no-retry,no-backoff")."""
    names = [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [name for name in names if name not in SEEDED_BUGS]
    if unknown:
        known = ", ".join(sorted(SEEDED_BUGS))
        raise UnknownBugError(
            f"REFTARGET_BUG={spec!r} names unknown seeded bug(s) {', '.join(unknown)}; "
            f"known bugs: {known}. Unset REFTARGET_BUG for the correct service."
        )
    return BugSet(names)
