"""HTTP answers (docs/interfaces.md section 7): an order or a bad request as (status, body).

    succeeded 200   declined 402   pending/processing 202
    failed    502, or 400 when the provider refused the payment details
"""

from __future__ import annotations

from typing import Any

from .bugs import BugSet, VagueErrors
from .store import DECLINED, FAILED, PROCESSING, SUCCEEDED, Order
from .user_errors import UserError

__all__ = ["render_order", "render_invalid"]

_PENDING_MESSAGE = (
    "We have not been able to confirm your payment yet and are checking with the card "
    "processor. You will not be charged twice."
)
_PENDING_ACTION = "Do not pay again: check this order's status in a few minutes."


def render_order(order: Order, *, contact: str, bugs: BugSet) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "order_id": order.order_id,
        "status": "pending" if order.status == PROCESSING else order.status,
        "amount": order.amount,
        "currency": order.currency,
    }
    if order.status == SUCCEEDED:
        body["payment_intent"] = order.payment_intent
        return 200, body
    if order.status in (DECLINED, FAILED):
        error = order.error or {}
        body["error"] = _error_object(error, contact, bugs)
        if order.status == DECLINED:
            return 402, body
        return (400 if error.get("type") == "invalid_request" else 502), body
    # Outcome unknown: not an error yet, but the customer still needs a next step.
    body.update(message=_PENDING_MESSAGE, action=_PENDING_ACTION, contact=contact)
    return 202, body


def render_invalid(
    error: UserError, *, contact: str, bugs: BugSet, order_id: str | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"status": "failed", "error": _error_object(error.as_dict(), contact, bugs)}
    if order_id is not None:
        body = {"order_id": order_id, **body}
    return 400, body


def _error_object(error: dict[str, Any], contact: str, bugs: BugSet) -> dict[str, str]:
    if VagueErrors in bugs:
        return {"message": VagueErrors.message}
    # Only these fields: the stored `provider` detail (decline_code lost_card...) never leaves.
    return {
        "type": error.get("type", "provider_error"),
        "code": error.get("code", "unknown"),
        "message": error.get("message", "Your payment could not be completed."),
        "action": error.get("action", "Contact us with your order id."),
        "contact": contact,
    }
