"""``/v1/refunds``: refund all or part of a charge (named directly or by its
PaymentIntent), retrieve a refund, list refunds. A refund of a charge that was
only authorised releases the hold instead."""

from __future__ import annotations

from ..core.forms import nested
from ..core.provider import Result
from .errors import invalid, not_found
from .listing import LIST_PARAMS, object_result, page
from .objects import Refund
from .params import ARRAY, BOOL, INT, MAP, STR, Enum, Params, integer

__all__ = ["RefundsApi"]

CREATE = Params(payment_intent=STR, charge=STR, amount=INT, reason=Enum("duplicate", "fraudulent",
                                                                        "requested_by_customer"),
                metadata=MAP, expand=ARRAY, refund_application_fee=BOOL, reverse_transfer=BOOL,
                instructions_email=STR, customer=STR, currency=STR, origin=STR)
RETRIEVE = Params(expand=ARRAY)
LIST = Params(**LIST_PARAMS, charge=STR, payment_intent=STR)


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency}"


class RefundsApi:
    """Mixed into ``CardPay``: needs ``self.store`` and ``self.ledger``."""

    def refund_create(self, ex, params, args, forced) -> Result:
        err = CREATE.check(params)
        if err is not None:
            return err
        store = self.store
        pi_id, charge_id = params.get("payment_intent"), params.get("charge")
        intent = None
        if pi_id:
            intent = store.get(pi_id)
            if intent is None:
                return not_found("payment_intent", pi_id, "payment_intent")
            ch = store.charges.get(intent.latest_charge or "")
            if intent.status != "succeeded" or ch is None:
                return invalid(f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                               "charge_not_refundable", "payment_intent")
        elif charge_id:
            ch = store.charges.get(charge_id)
            if ch is None:
                return not_found("charge", charge_id, "charge")
            intent = store.get(ch.payment_intent) if ch.payment_intent else None
        else:
            return invalid("One of the following params should be provided for this request:"
                           " payment_intent or charge.", "parameter_missing", "payment_intent")
        if not ch.paid:
            return invalid(f"Charge {ch.id} has no successful payment to refund.", "charge_not_refundable", "charge")
        held = not ch.captured
        base = ch.amount if held else ch.amount_captured
        remaining = base - ch.amount_refunded
        if remaining <= 0:
            return invalid(f"Charge {ch.id} has already been refunded.", "charge_already_refunded")
        amount = remaining if params.get("amount") in (None, "") else integer(params["amount"])
        if amount < 1:
            return invalid("Refund amount must be a positive integer.", "parameter_invalid_integer", "amount")
        if amount > remaining:
            return invalid(f"Refund amount ({_money(amount, ch.currency)}) is greater than unrefunded"
                           f" amount on charge ({_money(remaining, ch.currency)})", "amount_too_large", "amount")
        if held and amount != remaining:
            return invalid(f"Charge {ch.id} is not captured: refund its whole amount to release it, or capture it.",
                           "charge_not_refundable", "amount")
        obj_id, order_ref = (intent.id, intent.order_ref) if intent is not None else (ch.id, ch.order_ref)
        refund = Refund(store.new_id("re"), amount, ch.currency, ch.id, ch.payment_intent,
                        params.get("reason") or None, nested(params, "metadata"), order_ref, ch.customer, ch.pm.id)
        store.refunds[refund.id] = refund
        ch.refunds.append(refund)
        ch.amount_refunded += amount
        if held:  # an uncaptured charge: refunding it releases the hold
            self.ledger.release(amount, ch.currency, obj_id, order_ref, ex.idempotency_key)
            if intent is not None:
                intent.amount_capturable = 0
                intent.status = "canceled"
        else:
            if intent is not None:
                intent.amount_refunded += amount
            self.ledger.refund(amount, ch.currency, obj_id, refund.id, order_ref, ex.idempotency_key)
        ex.committed = True
        return object_result(self, refund, params)

    def refund_retrieve(self, ex, params, args, forced) -> Result:
        refund = self.store.refunds.get(args["id"])
        if refund is None:
            return not_found("refund", args["id"])
        return RETRIEVE.check(params) or object_result(self, refund, params)

    def refund_list(self, ex, params, args, forced) -> Result:
        err = LIST.check(params)
        if err is not None:
            return err
        return page(self, "/v1/refunds", self.store.refunds.values(), params, by=("charge", "payment_intent"))

