"""Stripe's error envelope and statuses (docs.stripe.com/api/errors).

Each builder returns a ``Result``; ``saved=False`` marks answers Stripe does
not store under an idempotency key (validation failures: nothing executed).
"""

from __future__ import annotations

import json
import math

from ..core.provider import Result, info

__all__ = ["stripe_error", "invalid", "not_found", "unauthorized", "publishable_refused", "status_error", "dumps",
           "RATE_LIMIT_MESSAGE"]

_SEP = (",", ":")
_dumps = json.JSONEncoder(separators=_SEP).encode

RATE_LIMIT_MESSAGE = ("Too many requests hit the API too quickly. We recommend an exponential"
                      " backoff of your requests.")
_LOCK_TIMEOUT_MESSAGE = ("This object cannot be accessed right now because another API request or"
                         " Stripe process is currently accessing it. If you see this error"
                         " intermittently, retry the request.")


def dumps(obj) -> bytes:
    return _dumps(obj).encode()


def doc_url(code: str) -> str:
    return "https://stripe.com/docs/error-codes/" + code.replace("_", "-")


def stripe_error(status: int, etype: str, message: str, code: str | None = None, *,
                 param: str | None = None, decline_code: str | None = None,
                 should_retry: str | None = None, retry_after_s: float | None = None,
                 extra: dict | None = None, saved: bool = True, object_id: str | None = None,
                 object_status: str | None = None) -> Result:
    err: dict = {"message": message, "type": etype}
    if code is not None:
        err["code"] = code
        err["doc_url"] = doc_url(code)
    if decline_code is not None:
        err["decline_code"] = decline_code
    if param is not None:
        err["param"] = param
    if extra:
        err.update(extra)
    headers = b""
    if should_retry is not None:
        headers += b"Stripe-Should-Retry: %s\r\n" % should_retry.encode()
    if retry_after_s is not None:
        headers += b"Retry-After: %d\r\nPaychaos-Retry-After-Ms: %d\r\n" % (
            math.ceil(retry_after_s), round(retry_after_s * 1000))
    return Result(status, dumps({"error": err}),
                  info(status, etype, code, decline_code, object_id, object_status, False,
                       retry_after_s, should_retry, param),
                  headers, saved)


def invalid(message: str, code: str | None = None, param: str | None = None, status: int = 400) -> Result:
    """A parameter or state error: nothing executed, nothing saved."""
    return stripe_error(status, "invalid_request_error", message, code, param=param, saved=False)


def not_found(kind: str, ident: str, param: str = "id") -> Result:
    return invalid(f"No such {kind}: '{ident}'", "resource_missing", param, status=404)


def mask_key(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 12 else f"{key[:3]}****"


def unauthorized(key: str | None) -> Result:
    if not key:
        msg = ("You did not provide an API key. You need to provide your API key in the Authorization"
               " header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See"
               " https://stripe.com/docs/api#authentication for details, or we can help at"
               " https://support.stripe.com/.")
    else:
        msg = f"Invalid API Key provided: {mask_key(key)}"
    res = stripe_error(401, "invalid_request_error", msg, saved=False)
    res.headers += b'WWW-Authenticate: Bearer realm="Stripe"\r\n'
    return res


def publishable_refused() -> Result:
    """A publishable key on a call only a secret key may make."""
    return stripe_error(401, "invalid_request_error", "This API call cannot be made with a publishable API key."
                        " Please use a secret API key. You can find a list of your API keys at"
                        " https://dashboard.stripe.com/account/apikeys.", saved=False)


def status_error(status: int, code: str | None = None, retry_after_s: float | None = None,
                 message: str | None = None) -> Result:
    """Stripe's answer for a bare HTTP status (used by faults)."""
    if status == 429:
        code = code or "rate_limit"
        msg = message or (_LOCK_TIMEOUT_MESSAGE if code == "lock_timeout" else RATE_LIMIT_MESSAGE)
        # Stripe asks for a retry of a lock timeout, never of a rate limit.
        return stripe_error(429, "invalid_request_error", msg, code, retry_after_s=retry_after_s,
                            should_retry="true" if code == "lock_timeout" else None)
    if status == 402:
        decline = "generic_decline" if code in (None, "card_declined") else None
        return stripe_error(402, "card_error", message or "Your card was declined.", code or "card_declined",
                            decline_code=decline, should_retry="false", retry_after_s=retry_after_s)
    if status == 401:
        return unauthorized(None)
    if status == 409:
        return stripe_error(409, "invalid_request_error", message or
                            "There is currently another in-progress request using this idempotent key.",
                            code or "idempotency_key_in_use", retry_after_s=retry_after_s)
    if status == 404:
        return stripe_error(404, "invalid_request_error", message or "The requested resource does not exist.",
                            code or "resource_missing", retry_after_s=retry_after_s)
    if status < 500:
        return stripe_error(status, "invalid_request_error", message or "The request could not be processed.",
                            code, retry_after_s=retry_after_s)
    if status == 500:
        # Stripe saves a 500 under the idempotency key, so a same-key retry is pointless.
        return stripe_error(500, "api_error", message or
                            "An unknown error occurred while processing your request.",
                            code, should_retry="false", retry_after_s=retry_after_s)
    return stripe_error(status, "api_error", message or
                        "Stripe is temporarily unavailable. Please retry your request.",
                        code, retry_after_s=retry_after_s)
