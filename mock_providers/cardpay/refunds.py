"""``POST /v1/refunds``: refund all or part of a succeeded PaymentIntent."""

from __future__ import annotations

import time

from ..core.forms import nested, unknown_params
from ..core.provider import Result, info
from .errors import dumps, invalid, not_found

__all__ = ["RefundsApi"]

REFUND_PARAMS = frozenset({"payment_intent", "charge", "amount", "reason", "metadata", "expand",
                           "refund_application_fee", "reverse_transfer", "instructions_email"})
REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency}"


class RefundsApi:
    """Mixed into ``CardPay``: needs ``self.store`` and ``self.ledger``."""

    def refund_create(self, ex, params, args, forced) -> Result:
        bad = unknown_params(params, REFUND_PARAMS)
        if bad is not None:
            return invalid(f"Received unknown parameter: {bad}", "parameter_unknown", bad)
        store = self.store
        pi_id = params.get("payment_intent")
        if pi_id is None:
            charge_id = params.get("charge")
            if charge_id is None:
                return invalid("One of the following params should be provided for this request:"
                               " payment_intent or charge.", "parameter_missing", "payment_intent")
            intent = next((pi for pi in store.intents.values() if pi.latest_charge == charge_id), None)
            if intent is None:
                return not_found("charge", charge_id, "charge")
        else:
            intent = store.get(pi_id)
            if intent is None:
                return not_found("payment_intent", pi_id, "payment_intent")
        if intent.status != "succeeded":
            return invalid(f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                           "charge_not_refundable", "payment_intent")
        remaining = intent.amount_received - intent.amount_refunded
        if remaining <= 0:
            return invalid(f"Charge {intent.latest_charge} has already been refunded.",
                           "charge_already_refunded")
        raw = params.get("amount")
        try:
            amount = remaining if raw is None else int(raw)
        except ValueError:
            return invalid(f"Invalid integer: {raw}", "parameter_invalid_integer", "amount")
        if amount < 1:
            return invalid("Refund amount must be a positive integer.", "parameter_invalid_integer", "amount")
        if amount > remaining:
            return invalid(f"Refund amount ({_money(amount, intent.currency)}) is greater than unrefunded"
                           f" amount on charge ({_money(remaining, intent.currency)})", "amount_too_large",
                           "amount")
        reason = params.get("reason")
        if reason is not None and reason not in REASONS:
            return invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", "parameter_invalid_string",
                           "reason")
        refund_id = store.new_id("re")
        intent.amount_refunded += amount
        self.ledger.refund(amount, intent.currency, intent.id, refund_id, intent.order_ref, ex.idempotency_key)
        ex.committed = True
        refund = {"id": refund_id, "object": "refund", "amount": amount, "charge": intent.latest_charge,
                  "created": int(time.time()), "currency": intent.currency, "metadata": nested(params, "metadata"),
                  "payment_intent": intent.id, "reason": reason, "status": "succeeded"}
        return Result(200, dumps(refund), info(200, object_id=refund_id, object_status="succeeded"))
