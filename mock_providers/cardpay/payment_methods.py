"""``/v1/payment_methods``: tokenize a card, as Stripe.js does in the
customer's browser with the publishable key (``createPaymentMethod``),
retrieve one, attach one to a customer. The PaymentMethod id then stands for
the card in a PaymentIntent, and, being one per checkout, can carry the order
for the harness (``order_ref: payment_method``)."""

from __future__ import annotations

from ..core.forms import nested
from ..core.provider import Result
from .charging import payment_method, raw_card
from .errors import invalid, not_found
from .listing import object_result
from .objects import PaymentMethod
from .params import ARRAY, HASH, MAP, STR, Enum, Params

__all__ = ["PaymentMethodsApi"]

CREATE = Params(required=("type",), type=STR, card=HASH, billing_details=HASH, metadata=MAP, expand=ARRAY,
                allow_redisplay=Enum("always", "limited", "unspecified"), radar_options=HASH, customer=STR,
                payment_method=STR)
RETRIEVE = Params(expand=ARRAY)
ATTACH = Params(required=("customer",), customer=STR, customer_account=STR, expand=ARRAY)


class PaymentMethodsApi:
    """Mixed into ``CardPay``: needs ``self.store``."""

    def pm_create(self, ex, params, args, forced) -> Result:
        err = CREATE.check(params)
        if err is not None:
            return err
        if params["type"] != "card":
            return invalid(f"Invalid type: {params['type']!r} (this mock tokenizes cards: type=card).",
                           "parameter_invalid_string", "type")
        card = nested(params, "card")
        if "token" in card:  # card[token]=tok_visa, as mobile SDKs send it
            pm = payment_method(self.store, card["token"])
            if pm is None:
                return invalid(f"No such token: '{card['token']}'", "resource_missing", "card[token]")
            pm = self.attach(pm, None)
        else:
            pm_id, pm = raw_card(self.store, card, "card", nested(params, "billing_details"))
            if pm_id is None:
                return pm  # the card's own error (missing field, bad expiry...)
        pm.metadata = nested(params, "metadata")
        return object_result(self, pm, params)

    def pm_retrieve(self, ex, params, args, forced) -> Result:
        pm = payment_method(self.store, args["id"])
        if pm is None:
            return not_found("payment_method", args["id"])
        return RETRIEVE.check(params) or object_result(self, pm, params)

    def pm_attach(self, ex, params, args, forced) -> Result:
        store = self.store
        pm = payment_method(store, args["id"])
        if pm is None:
            return not_found("payment_method", args["id"])
        err = ATTACH.check(params)
        if err is not None:
            return err
        customer = params["customer"]
        if customer not in store.customers:
            return invalid(f"No such customer: '{customer}'", "resource_missing", "customer")
        if pm.customer is not None and pm.customer != customer:
            return invalid("The payment method you provided has already been attached to a customer.",
                           "payment_method_unexpected_state", "payment_method")
        pm = self.attach(pm, customer)
        return object_result(self, pm, params)

    def attach(self, pm: PaymentMethod, customer: str | None, prefix: str = "pm") -> PaymentMethod:
        """Attach ``pm`` to ``customer``. A Stripe test id (``pm_card_visa``) is a
        recipe, not an object: attaching it makes a new PaymentMethod, as Stripe does."""
        store = self.store
        if store.payment_methods.get(pm.id) is not pm:
            pm = PaymentMethod(store.new_id(prefix), pm.card, pm.number, pm.exp_month, pm.exp_year)
            store.payment_methods[pm.id] = pm
        pm.customer = customer
        return pm
