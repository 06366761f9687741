"""A provider's profile: everything the harness may know about a provider, as data.

The harness never reads a provider's wire details (status codes, error codes,
endpoint paths, key formats). Each provider package declares a ``PROFILE``
next to its test instruments, and the provider's journal records, for every
request, the route's ``role`` and the answer's ``class`` and neutral
``failure`` class, computed here. Evidence and checks read only those.

    PROFILE = ProviderProfile(
        type="cardpay", provider="mock_providers.cardpay.provider:CardPay",
        routes={"payment_intents.create": "charge", "payment_intents.retrieve": "lookup"},
        answers=(AnswerRule("ok", status=(200, 299)), AnswerRule("failed", "decline", status=402)),
        idempotency=IdempotencyCarrier(header="Idempotency-Key"),
        credentials=(Credential("api_key", "sk_test_paychaos_{token}"),),
        instruments={...})
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Mapping

__all__ = ["ROLES", "KLASSES", "FAILURE_CLASSES", "AnswerRule", "IntegrationRule", "IdempotencyCarrier", "Credential",
           "TestInstrument", "ProviderProfile", "iso_exponent"]

# What a route does, in provider-neutral words.
ROLES = ("charge", "capture", "refund", "cancel", "lookup", "token", "webhook", "notify", "other")

# Jepsen's three outcomes of an operation: it happened, it certainly did not,
# or the caller cannot know (the provider may have committed).
KLASSES = ("ok", "failed", "unknown")

# Why an attempt did not succeed, in provider-neutral words; contracts name these
# and every profile maps its own codes onto them.
FAILURE_CLASSES: Mapping[str, str] = MappingProxyType({
    "timeout": "the caller gave up before the answer (outcome unknown)",
    "dropped": "the provider closed the connection without answering (outcome unknown)",
    "decline": "the issuer or the provider declined the payment (a business answer)",
    "invalid_request": "the request was malformed or not allowed in the object's state",
    "auth": "the credentials were refused",
    "risk_block": "the provider's fraud screening blocked the payment",
    "not_found": "the object or endpoint does not exist",
    "conflict": "another request with the same idempotency key is still running",
    "rate_limited": "the provider throttled the caller",
    "server_error": "the provider failed while executing (outcome unknown)",
    "unavailable": "the provider could not take the request (down, overloaded, gateway error)",
})

Klass = Literal["ok", "failed", "unknown"]

# ISO 4217 minor-unit exponents that are not 2. A profile may override them
# where its provider differs from ISO (Stripe does for a few currencies).
_ISO_EXPONENTS = MappingProxyType({
    **{c: 0 for c in ("bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg", "rwf", "ugx", "uyi",
                      "vnd", "vuv", "xaf", "xof", "xpf")},
    **{c: 3 for c in ("bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd")},
})


def iso_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217; 2 when unlisted)."""
    return _ISO_EXPONENTS.get(currency.lower(), 2)


@dataclass(frozen=True)
class AnswerRule:
    """One row of a profile's answer table; the first matching row classes the answer.

    ``status`` is an exact status or an inclusive ``(low, high)`` range; ``codes``
    matches the answer's error code or decline code (either), when given.
    """

    klass: Klass
    failure: str | None = None
    status: int | tuple[int, int] | None = None
    codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.klass not in KLASSES:
            raise ValueError(f"klass={self.klass!r} is invalid; use one of {KLASSES}")
        if self.failure is not None and self.failure not in FAILURE_CLASSES:
            raise ValueError(f"failure={self.failure!r} is not a neutral failure class; use one of "
                             f"{sorted(FAILURE_CLASSES)}")
        if (self.klass == "ok") != (self.failure is None):
            raise ValueError("an ok answer has no failure class, and every other answer has one")
        object.__setattr__(self, "codes", frozenset(self.codes))

    def matches(self, status: int, error_code: str | None, decline_code: str | None) -> bool:
        s = self.status
        if s is not None:
            if isinstance(s, tuple):
                if not s[0] <= status <= s[1]:
                    return False
            elif status != s:
                return False
        return not self.codes or error_code in self.codes or decline_code in self.codes


@dataclass(frozen=True)
class IntegrationRule:
    """An answer that means "this provider does not understand the request"
    (unknown endpoint or parameter, refused credentials): an integration
    mismatch between the service and the mock, not a resilience failure.

    Matches on status, and optionally on error codes (exact) or code prefixes,
    or on the route being unknown to the provider (``unknown_route``).
    """

    status: int | tuple[int, int]
    codes: frozenset[str] = frozenset()
    code_prefixes: tuple[str, ...] = ()
    unknown_route: bool = False

    def matches(self, status: int, error_code: str | None, endpoint: str) -> bool:
        s = self.status
        if isinstance(s, tuple) and not s[0] <= status <= s[1]:
            return False
        if not isinstance(s, tuple) and status != s:
            return False
        if self.unknown_route:
            return endpoint == "unknown"
        if not self.codes and not self.code_prefixes:
            return True
        code = error_code or ""
        return code in self.codes or any(code.startswith(p) for p in self.code_prefixes)


@dataclass(frozen=True)
class IdempotencyCarrier:
    """Where a request carries its idempotency key: a header or a body field."""

    header: str | None = None  # e.g. "Idempotency-Key"
    field: str | None = None  # e.g. "out_trade_no" (a form or JSON body field)

    def __post_init__(self) -> None:
        if (self.header is None) == (self.field is None):
            raise ValueError("give exactly one of header or field")

    def describe(self) -> str:
        return f"header {self.header}" if self.header else f"body field {self.field}"


@dataclass(frozen=True)
class Credential:
    """A credential the provider checks. ``template`` mints a test value:
    ``{token}`` becomes 16 hex digits fixed by (seed, instance, name).
    ``header``: the request header it travels in, redacted in every journal."""

    name: str
    template: str
    description: str = ""
    header: str | None = None


@dataclass(frozen=True)
class TestInstrument:
    """A test card (or wallet account) and the outcome the provider gives it.

    ``fields`` are what a request template can send, as ``{order.card.<field>}``.
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    expected: Literal["succeeded", "declined", "requires_action"]
    category: Literal["ok", "decline", "invalid", "risk_block", "action"]
    fields: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderProfile:
    type: str  # the short name scenarios use (`type: cardpay`)
    provider: str  # "module:Class" of the server implementation
    description: str
    routes: Mapping[str, str]  # endpoint name -> role
    answers: tuple[AnswerRule, ...]
    idempotency: IdempotencyCarrier
    credentials: tuple[Credential, ...] = ()
    order_ref_default: str | None = None  # request field that carries the order reference
    instruments: Mapping[str, TestInstrument] = field(default_factory=dict)
    currency_exponents: Mapping[str, int] = field(default_factory=dict)  # overrides of ISO 4217
    integration: tuple[IntegrationRule, ...] = ()  # answers that mean "I do not understand this request"

    def __post_init__(self) -> None:
        bad = sorted({r for r in self.routes.values() if r not in ROLES})
        if bad:
            raise ValueError(f"profile {self.type}: unknown role(s) {bad}; use {ROLES}")

    def role_of(self, endpoint: str) -> str:
        return self.routes.get(endpoint, "other")

    def classify(self, status: int | None, delivery: str, error_code: str | None = None,
                 decline_code: str | None = None) -> tuple[str, str | None]:
        """(class, failure) of one answer as the provider sent it.

        ``unknown`` when the caller hung up first (timeout), the provider closed
        without answering (dropped), or the table says the outcome is open.
        """
        if delivery == "client_gone":
            return "unknown", "timeout"
        if delivery != "delivered" or status is None:
            return "unknown", "dropped"
        for rule in self.answers:
            if rule.matches(status, error_code, decline_code):
                return rule.klass, rule.failure
        return ("ok", None) if 200 <= status < 300 else ("failed", "unavailable")

    def is_integration_error(self, status: int | None, error_code: str | None, endpoint: str) -> bool:
        return status is not None and any(r.matches(status, error_code, endpoint) for r in self.integration)

    def exponent(self, currency: str) -> int:
        return self.currency_exponents.get(currency.lower(), iso_exponent(currency))

    def mint_credentials(self, seed: int, instance: str) -> dict[str, str]:
        out = {}
        for cred in self.credentials:
            token = hashlib.blake2b(f"{seed}|{instance}|{cred.name}".encode(), digest_size=8).hexdigest()
            out[cred.name] = cred.template.replace("{token}", token)
        return out
