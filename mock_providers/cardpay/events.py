"""Stripe's webhook events and their ``Stripe-Signature`` header, as data.

The first part of cardpay's webhooks (issue 10): what an event is and how it is
signed, so that ``stripe.Webhook.construct_event`` (the official SDK) accepts
it. Delivery (the queue, the provider's retries on non-2xx) and webhook faults
(duplicate, delay, reorder, bad signature, never sent) build on this.

    body = event_body(new_event("payment_intent.succeeded", intent.to_api(), request_id, key))
    headers = {"Stripe-Signature": sign(body, secret, timestamp)}

Stripe signs ``f"{t}.{payload}"`` with HMAC-SHA256 under the endpoint's secret
(``whsec_...``) and sends ``t=<unix seconds>,v1=<hex digest>``
(docs.stripe.com/webhooks#verify-manually).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

__all__ = ["EVENT_TYPES", "API_VERSION", "new_event", "event_body", "sign", "signature_matches"]

# The events a card payment's life produces here; each names the object it carries.
EVENT_TYPES = {
    "payment_intent.succeeded": "payment_intent",
    "payment_intent.payment_failed": "payment_intent",
    "payment_intent.amount_capturable_updated": "payment_intent",
    "payment_intent.canceled": "payment_intent",
    "charge.refunded": "charge",
}
API_VERSION = "2026-08-26.dahlia"  # the version of the spec cardpay is proven against (stripe-mock 0.203.0)


def new_event(event_type: str, obj: dict, request_id: str | None = None, idempotency_key: str | None = None,
              created: int | None = None) -> dict:
    """A Stripe ``event`` object for ``obj`` (the API object after the change)."""
    kind = EVENT_TYPES.get(event_type)
    if kind is None:
        raise ValueError(f"event type {event_type!r} is not one cardpay sends; known: {', '.join(EVENT_TYPES)}")
    if obj.get("object") != kind:
        raise ValueError(f"a {event_type} event carries a {kind}, not a {obj.get('object')!r}")
    return {
        "id": "evt_" + secrets.token_hex(12), "object": "event", "api_version": API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key}, "type": event_type,
    }


def event_body(event: dict) -> bytes:
    """The exact bytes that are signed and sent (a receiver verifies THESE bytes, not a re-encoding)."""
    return json.dumps(event, separators=(",", ":")).encode()


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``body`` under the endpoint ``secret``."""
    if not secret:
        raise ValueError("a webhook secret is needed to sign (Stripe's are whsec_...)")
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(body, secret, t)}"


def signature_matches(body: bytes, header: str, secret: str, tolerance_s: int = 300,
                      now: int | None = None) -> bool:
    """Stripe's own check, for tests and for the harness's webhook checks: a ``v1`` of the
    header matches and its timestamp is within ``tolerance_s`` of ``now``."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((int(time.time()) if now is None else now) - t) > tolerance_s:
        return False
    want = _digest(body, secret, t)
    return any(k == "v1" and hmac.compare_digest(v, want) for k, v in parts)
