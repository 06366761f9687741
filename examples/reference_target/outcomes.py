"""What one provider attempt means: classify a response or an exception.

Two questions per attempt, kept apart on purpose:
- *kind*: did it succeed, decline, fail transiently (worth a retry with the
  same key) or fail for good?
- *ambiguous*: may the provider have committed the charge although we could
  not learn it? Ambiguous attempts are why a payment is looked up, never just
  marked failed.

Transient and NOT ambiguous (the request was not accepted): connect errors and
connect/pool timeouts, 429, 502, 503. Transient AND ambiguous: read/write
timeouts, a connection dropped after the request was sent, 409 (the first
request with the key is still running), 500 (Stripe saved it: execution
began), 504, a 2xx we could not read. Never retried: 402, 400, 401, 403, 404.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import httpx

from .backoff import parse_retry_after

__all__ = ["Kind", "AttemptResult", "classify_response", "classify_exception"]


class Kind(enum.Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # a card error, or a confirm that needs the customer (3-D Secure)
    UNCONFIRMED = "unconfirmed"  # accepted but still `processing`: ask again later
    TRANSIENT = "transient"
    FATAL = "fatal"


# 409 idempotency_key_in_use, 500 (saved under the key), 504 gateway gave up waiting.
_AMBIGUOUS_RETRYABLE = frozenset({409, 500, 504})
_NOT_ACCEPTED_RETRYABLE = frozenset({429, 502, 503})
_NEVER_RETRIED = frozenset({400, 401, 402, 403, 404})


@dataclass(frozen=True)
class AttemptResult:
    """One attempt, as the retry loop, the logs and the decision need it."""

    kind: Kind
    ambiguous: bool
    status: int | None = None  # HTTP status, None when no response came back
    exception: str | None = None  # e.g. "ReadTimeout: timed out"
    intent_id: str | None = None
    intent_status: str | None = None
    error: dict[str, Any] | None = None  # the provider's `error` object (or last_payment_error)
    retry_after_s: float | None = None

    @property
    def transient(self) -> bool:
        return self.kind is Kind.TRANSIENT

    def describe(self) -> str:
        """Short form for logs: `503`, `402 card_declined/insufficient_funds`, `ReadTimeout`."""
        if self.exception is not None:
            return self.exception
        text = str(self.status)
        if self.error:
            code = self.error.get("code") or self.error.get("type") or ""
            decline = self.error.get("decline_code")
            text += f" {code}/{decline}" if decline else f" {code}"
        elif self.intent_status:
            text += f" {self.intent_status}"
        return text


def classify_response(response: httpx.Response) -> AttemptResult:
    status = response.status_code
    body = _json_object(response)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    error = body.get("error") if isinstance(body.get("error"), dict) else None

    if 200 <= status < 300:
        return _classify_intent(status, body)
    if status == 400 and error is not None and error.get("code") == "rate_limit":
        # stripe-python maps 400 + rate_limit to RateLimitError, like a 429.
        return AttemptResult(Kind.TRANSIENT, False, status, error=error, retry_after_s=retry_after)
    if status in _NOT_ACCEPTED_RETRYABLE:
        return AttemptResult(Kind.TRANSIENT, False, status, error=error, retry_after_s=retry_after)
    if status in _AMBIGUOUS_RETRYABLE:
        return AttemptResult(Kind.TRANSIENT, True, status, error=error, retry_after_s=retry_after)
    if status == 402:
        intent = error.get("payment_intent") if error else None
        intent_id = intent.get("id") if isinstance(intent, dict) else None
        return AttemptResult(
            Kind.DECLINED, False, status, error=error or {"code": "card_declined"}, intent_id=intent_id
        )
    # Any other 5xx may have executed; any other 4xx was refused before execution.
    return AttemptResult(Kind.FATAL, status >= 500, status, error=error)


def _classify_intent(status: int, body: dict[str, Any]) -> AttemptResult:
    intent_id, intent_status = body.get("id"), body.get("status")
    if not isinstance(intent_id, str) or not isinstance(intent_status, str):
        # A 2xx we cannot read (truncated, malformed): it probably committed.
        # Replaying the same key returns the saved answer, so retry.
        return AttemptResult(Kind.TRANSIENT, True, status)
    if intent_status == "succeeded":
        return AttemptResult(Kind.SUCCEEDED, False, status, intent_id=intent_id, intent_status=intent_status)
    last_error = body.get("last_payment_error")
    if intent_status == "requires_payment_method" and isinstance(last_error, dict):
        return AttemptResult(
            Kind.DECLINED, False, status, intent_id=intent_id, intent_status=intent_status, error=last_error
        )
    if intent_status == "requires_action":
        # 3-D Secure: this checkout has no way to bring the customer back.
        return AttemptResult(
            Kind.DECLINED,
            False,
            status,
            intent_id=intent_id,
            intent_status=intent_status,
            error={"type": "card_error", "code": "authentication_required"},
        )
    # processing, requires_capture, requires_confirmation...: accepted, outcome not final.
    return AttemptResult(Kind.UNCONFIRMED, True, status, intent_id=intent_id, intent_status=intent_status)


def classify_exception(exc: httpx.HTTPError) -> AttemptResult:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    # Order matters: ConnectTimeout/PoolTimeout are TimeoutExceptions that
    # happen before a byte of the request left, so nothing can have committed.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return AttemptResult(Kind.TRANSIENT, False, exception=text)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)):
        # Our own configuration or request is wrong: nothing was sent.
        return AttemptResult(Kind.FATAL, False, exception=text)
    if isinstance(exc, (httpx.TimeoutException, httpx.TransportError)):
        # Read/write timeout, reset, "server disconnected without sending a
        # response", truncated body: the request may have been executed.
        return AttemptResult(Kind.TRANSIENT, True, exception=text)
    # Decoding errors and the like: a response arrived but we could not use it.
    return AttemptResult(Kind.TRANSIENT, True, exception=text)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
