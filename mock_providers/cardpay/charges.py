"""``/v1/charges``: the Charges API many integrations still use (create with a
``source`` token or a customer's default card, ``capture=false`` to hold,
capture, retrieve, list). A charge made here is its own ledger object; a
charge a PaymentIntent made is its intent's (captures go through the intent).
"""

from __future__ import annotations

from ..core.forms import nested
from ..core.provider import Result
from .charging import decline_for, payment_method, raw_card, test_payment_method
from .errors import invalid, not_found, stripe_error
from .listing import LIST_PARAMS, object_result, page
from .objects import Charge
from .params import ARRAY, BOOL, HASH, INT, MAP, STR, Params, boolean, integer
from .payment_intents import checked_create

__all__ = ["ChargesApi"]

CREATE = Params(required=("amount", "currency"), amount=INT, currency=STR, source=STR, customer=STR, capture=BOOL,
                description=STR, metadata=MAP, receipt_email=STR, statement_descriptor=STR,
                statement_descriptor_suffix=STR, shipping=HASH, expand=ARRAY, application_fee_amount=INT,
                on_behalf_of=STR, transfer_data=HASH, transfer_group=STR, radar_options=HASH, card=HASH,
                application_fee=INT, destination=HASH)
CAPTURE = Params(amount=INT, expand=ARRAY, receipt_email=STR, statement_descriptor=STR, application_fee=INT,
                 statement_descriptor_suffix=STR, application_fee_amount=INT, transfer_data=HASH,
                 transfer_group=STR)
RETRIEVE = Params(expand=ARRAY)
LIST = Params(**LIST_PARAMS, customer=STR, payment_intent=STR, transfer_group=STR)


class ChargesApi:
    """Mixed into ``CardPay``: needs ``self.store``, ``self.ledger``, ``self.order_ref_field``."""

    def charge_create(self, ex, params, args, forced) -> Result:
        metadata: dict[str, str] = {}
        err, amount, currency = checked_create(CREATE, params, metadata)
        if err is not None:
            return err
        store = self.store
        source, customer_id = params.get("source") or None, params.get("customer") or None
        customer = None
        if customer_id is not None:
            customer = store.customers.get(customer_id)
            if customer is None:
                return invalid(f"No such customer: '{customer_id}'", "resource_missing", "customer")
        card_data = nested(params, "card")
        if source is None and card_data:  # raw card details, as old integrations send them
            pm_id, pm = raw_card(store, card_data, "card")
            if pm_id is None:
                return pm
        else:
            if source is None and customer is None:
                return invalid("Must provide source or customer.", "parameter_missing", "source")
            if source is None:
                source = customer.default_source or customer.default_payment_method
                if source is None:
                    return invalid("Cannot charge a customer that has no active card", "missing", "card")
            pm = payment_method(store, source) if not source.startswith("tok_") else test_payment_method(source)
            if pm is None:
                return invalid(f"No such token: '{source}'", "resource_missing", "source")
        capture = boolean(params.get("capture") or "true")
        order_ref = params.get(self.order_ref_field)
        card = pm.card
        common = dict(customer=customer_id, description=params.get("description") or None,
                      metadata=metadata, order_ref=order_ref,
                      receipt_email=params.get("receipt_email") or None)
        if forced is None and card.outcome == "succeeded":
            ch = Charge(store.new_id("ch"), amount, currency, pm, captured=capture, succeeded=True, **common)
            store.charges[ch.id] = store.direct_charges[ch.id] = ch
            if capture:
                self.ledger.charge(amount, currency, ch.id, order_ref, ex.idempotency_key)
            else:
                self.ledger.authorize(amount, currency, ch.id, order_ref, ex.idempotency_key)
            ex.committed = True
            return object_result(self, ch, params)
        if forced is None and card.outcome == "requires_action":
            # The Charges API cannot authenticate: Stripe declines a card that insists on 3-D Secure.
            code, decline_code, message, param = ("card_declined", "authentication_required",
                                                  "Your card was declined. This transaction requires"
                                                  " authentication.", None)
        elif forced is not None:
            code, decline_code, message, param = decline_for(forced)
        else:
            code, decline_code, message, param = card.code, card.decline_code, card.message, card.param
        ch = Charge(store.new_id("ch"), amount, currency, pm, captured=False, succeeded=False,
                    failure=(code, decline_code, message), **common)
        store.charges[ch.id] = store.direct_charges[ch.id] = ch
        # A Charges API decline names the charge, not a PaymentMethod.
        return stripe_error(402, "card_error", message, code, param=param, decline_code=decline_code,
                            should_retry="false", extra={"charge": ch.id}, object_id=ch.id, object_status="failed")

    def charge_retrieve(self, ex, params, args, forced) -> Result:
        ch = self.store.charges.get(args["id"])
        if ch is None:
            return not_found("charge", args["id"])
        return RETRIEVE.check(params) or object_result(self, ch, params)

    def charge_capture(self, ex, params, args, forced) -> Result:
        store = self.store
        ch = store.charges.get(args["id"])
        if ch is None:
            return not_found("charge", args["id"])
        err = CAPTURE.check(params)
        if err is not None:
            return err
        if ch.captured:
            return invalid(f"Charge {ch.id} has already been captured.", "charge_already_captured")
        if ch.status != "succeeded" or ch.amount_refunded:
            return invalid(f"Charge {ch.id} cannot be captured: it has status {ch.status}"
                           f"{' and was released' if ch.amount_refunded else ''}.", "charge_expired_for_capture")
        amount = integer(params.get("amount") or str(ch.amount))
        if amount > ch.amount or amount < 1:
            return invalid(f"Amount ({amount}) must be a positive integer no greater than the charge's amount"
                           f" ({ch.amount}).", "amount_too_large", "amount")
        if ch.payment_intent is not None:  # the intent's hold: capture through the intent
            intent = store.get(ch.payment_intent)
            self.capture_hold(intent, amount, ex)
            return object_result(self, ch, params)
        ch.capture(amount)
        self.ledger.charge(amount, ch.currency, ch.id, ch.order_ref, ex.idempotency_key)
        if amount < ch.amount:
            self.ledger.release(ch.amount - amount, ch.currency, ch.id, ch.order_ref, ex.idempotency_key)
        ex.committed = True
        return object_result(self, ch, params)

    def charge_list(self, ex, params, args, forced) -> Result:
        err = LIST.check(params)
        if err is not None:
            return err
        return page(self, "/v1/charges", self.store.charges.values(), params, by=("customer", "payment_intent"))

