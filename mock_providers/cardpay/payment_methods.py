"""``POST /v1/payment_methods``: tokenize a card, as Stripe.js does in the
customer's browser with the publishable key (``createPaymentMethod``). The
PaymentMethod id then stands for the card in a PaymentIntent, and, being one
per checkout, can carry the order for the harness (``order_ref: payment_method``)."""

from __future__ import annotations

from ..core.forms import nested, unknown_params
from ..core.provider import Result, info
from .charging import resolve_payment_method
from .errors import dumps, invalid

__all__ = ["PaymentMethodsApi"]

PM_PARAMS = frozenset({"type", "card", "billing_details", "metadata", "expand"})


class PaymentMethodsApi:
    """Mixed into ``CardPay``: needs ``self.store``."""

    def pm_create(self, ex, params, args, forced) -> Result:
        bad = unknown_params(params, PM_PARAMS)
        if bad is not None:
            return invalid(f"Received unknown parameter: {bad}", "parameter_unknown", bad)
        if params.get("type") != "card":
            return invalid("Missing required param: type (this mock tokenizes cards: type=card).",
                           "parameter_missing" if "type" not in params else "parameter_invalid_string", "type")
        card = nested(params, "card")
        pm_id, entry = resolve_payment_method(self.store, {"payment_method_data[type]": "card",
                                                           **{f"payment_method_data[card][{k}]": v
                                                              for k, v in card.items()}})
        if pm_id is None:
            return entry  # the card's own error (missing field, bad expiry...)
        test_card, number, month, year = entry
        body = {"id": pm_id, "object": "payment_method", "type": "card", "livemode": False,
                "card": {"brand": test_card.brand, "last4": number[-4:], "exp_month": month, "exp_year": year,
                         "funding": "credit", "country": "US"},
                "billing_details": {}, "metadata": {}}
        return Result(200, dumps(body), info(200, object_id=pm_id, object_status="created"))
