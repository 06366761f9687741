"""``/v1/payment_intents``: create (optionally confirm), retrieve, update,
confirm, capture (``capture_method=manual``), cancel, list, search. Handlers
take (exchange, params, path args, forced decline) and return a ``Result``;
they run inside the provider pipeline, after auth and the idempotency layer.
"""

from __future__ import annotations

import time

from ..core.forms import nested
from ..core.provider import Result, info
from .charging import charge, intent_result, resolve_payment_method
from .errors import dumps, invalid, not_found
from .intents import CANCELABLE, CONFIRMABLE, UPDATABLE, PaymentIntent, SearchQueryError, parse_search_query
from .listing import LIST_PARAMS, object_result, page
from .params import ARRAY, BOOL, HASH, INT, MAP, STR, Enum, Params, boolean, integer

__all__ = ["PaymentIntentsApi", "MIN_AMOUNT", "MAX_AMOUNT", "amount_error", "currency_error", "checked_create",
           "merged_metadata",
           "touches"]

CAPTURE_METHODS = Enum("automatic", "automatic_async", "manual")
SETUP_FUTURE_USAGE = Enum("off_session", "on_session")
_SHARED = dict(
    expand=ARRAY, payment_method=STR, payment_method_data=HASH, payment_method_options=HASH,
    payment_method_types=ARRAY, excluded_payment_method_types=ARRAY, allowed_payment_method_types=ARRAY,
    customer_account=STR, receipt_email=STR,
    setup_future_usage=SETUP_FUTURE_USAGE, shipping=HASH, capture_method=CAPTURE_METHODS, amount_details=HASH,
    payment_details=HASH, hooks=HASH)
_CONFIRMING = dict(return_url=STR, off_session=STR, error_on_requires_action=BOOL, use_stripe_sdk=BOOL,
                   mandate=STR, mandate_data=HASH, radar_options=HASH, confirmation_token=STR)
CREATE = Params(
    required=("amount", "currency"), **_SHARED, **_CONFIRMING, amount=INT, currency=STR, confirm=BOOL,
    metadata=MAP, description=STR, automatic_payment_methods=HASH, customer=STR, statement_descriptor=STR,
    statement_descriptor_suffix=STR, confirmation_method=Enum("automatic", "manual"), on_behalf_of=STR,
    transfer_data=HASH, transfer_group=STR, application_fee_amount=INT, payment_method_configuration=STR)
UPDATE = Params(**_SHARED, amount=INT, currency=STR, customer=STR, description=STR, metadata=MAP,
                statement_descriptor=STR, statement_descriptor_suffix=STR, application_fee_amount=INT,
                transfer_data=HASH, transfer_group=STR, payment_method_configuration=STR)
CONFIRM = Params(**_SHARED, **_CONFIRMING, client_secret=STR, amount_to_confirm=INT)
CAPTURE = Params(amount_to_capture=INT, expand=ARRAY, metadata=MAP, statement_descriptor=STR,
                 statement_descriptor_suffix=STR, application_fee_amount=INT, final_capture=BOOL,
                 transfer_data=HASH, amount_details=HASH, payment_details=HASH, hooks=HASH)
CANCEL = Params(cancellation_reason=Enum("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
                expand=ARRAY)
RETRIEVE = Params(client_secret=STR, expand=ARRAY)
LIST = Params(**LIST_PARAMS, customer=STR, customer_account=STR)
SEARCH = Params(required=("query",), query=STR, limit=INT, page=STR, expand=ARRAY)
MIN_AMOUNT = 50  # Stripe's minimum charge is 0.50 in the major unit for the common currencies
MAX_AMOUNT = 99_999_999


def amount_error(amount: int, currency: str, param: str = "amount") -> Result | None:
    if amount < MIN_AMOUNT:
        return invalid(f"Amount must be at least {MIN_AMOUNT} minor units ({currency})", "amount_too_small", param)
    if amount > MAX_AMOUNT:
        return invalid(f"Amount must be no more than {MAX_AMOUNT} minor units", "amount_too_large", param)
    return None


def currency_error(currency: str) -> Result | None:
    if len(currency) != 3 or not currency.isalpha():
        return invalid(f"Invalid currency: {currency}. Use a three-letter ISO code such as 'usd'.",
                       "parameter_invalid_string", "currency")
    return None


def checked_create(table: Params, params: dict, metadata: dict) -> tuple[Result | None, int, str]:
    """A create's parameters checked: (Stripe's refusal or None, amount, currency); ``metadata``
    collects the ``metadata[k]`` values."""
    err = table.check(params, metadata)
    if err is not None:
        return err, 0, ""
    amount, currency = int(params["amount"]), params["currency"].lower()  # an integer: checked
    return currency_error(currency) or amount_error(amount, currency), amount, currency


def merged_metadata(current: dict, params: dict) -> dict:
    """Stripe's update rule: ``metadata=`` clears it, ``metadata[k]=`` removes k, others set."""
    out = {} if params.get("metadata") == "" else dict(current)
    for k, v in nested(params, "metadata").items():
        if v == "":
            out.pop(k, None)
        else:
            out[k] = v
    return out


def touches(params: dict, name: str) -> bool:
    """Does the request set ``name`` or any of its keys (``metadata[k]``)?"""
    prefix = name + "["
    return any(k == name or k.startswith(prefix) for k in params)


def _unexpected_state(verb: str, intent: PaymentIntent, allowed) -> Result:
    return invalid(f"This PaymentIntent could not be {verb} because it has a status of {intent.status}. Only a"
                   f" PaymentIntent with one of the following statuses may be {verb}: {', '.join(allowed)}.",
                   "payment_intent_unexpected_state")


class PaymentIntentsApi:
    """Mixed into ``CardPay``: needs ``self.store``, ``self.ledger``, ``self.order_ref_field``."""

    def pi_create(self, ex, params, args, forced) -> Result:
        metadata: dict[str, str] = {}
        err, amount, currency = checked_create(CREATE, params, metadata)
        if err is not None:
            return err
        customer = params.get("customer") or None
        if customer is not None and customer not in self.store.customers:
            return invalid(f"No such customer: '{customer}'", "resource_missing", "customer")
        confirm = boolean(params.get("confirm", "false"))
        pm_id, pm = resolve_payment_method(self.store, params)
        if pm_id is None and pm is not None:
            return pm  # an error Result
        if confirm and pm_id is None:
            return invalid("You cannot confirm this PaymentIntent because it's missing a payment method."
                           " Update the PaymentIntent with a payment method and then confirm it again.",
                           "payment_intent_unexpected_state")
        store = self.store
        intent = PaymentIntent(store.new_id("pi"), amount, currency, params.get(self.order_ref_field),
                               metadata, params.get("description") or None, pm_id,
                               params.get("capture_method") or "automatic", customer,
                               params.get("receipt_email") or None)
        store.add(intent)  # also the ledger's object table (CardPay links them)
        if confirm:
            result = charge(self, intent, pm_id, pm, ex, forced)
        else:
            result = intent_result(intent)
        return self._expanded(intent, params, result)

    def _expanded(self, intent: PaymentIntent, params: dict, result: Result) -> Result:
        if result.status != 200 or "expand[0]" not in params:
            return result
        return object_result(self, intent, params)

    def _intent(self, args: dict, table: Params, params: dict) -> tuple[PaymentIntent, Result | None]:
        """The intent the path names and the request's parameters checked: (intent, refusal or None)."""
        intent = self.store.get(args["id"])
        if intent is None:
            return intent, not_found("payment_intent", args["id"])
        return intent, table.check(params)

    def pi_retrieve(self, ex, params, args, forced) -> Result:
        intent, err = self._intent(args, RETRIEVE, params)
        return err or object_result(self, intent, params)

    def pi_update(self, ex, params, args, forced) -> Result:
        intent, err = self._intent(args, UPDATE, params)
        if err is not None:
            return err
        money = [k for k in ("amount", "currency", "payment_method", "capture_method") if k in params]
        if money and intent.status not in UPDATABLE:
            return invalid(f"You cannot update this PaymentIntent's {money[0]} because it has a status of"
                           f" {intent.status}.", "payment_intent_unexpected_state", money[0])
        amount = integer(params["amount"]) if "amount" in params else intent.amount
        currency = params.get("currency", intent.currency).lower()
        err = currency_error(currency) or amount_error(amount, currency)
        if err is not None:
            return err
        pm_id, pm = resolve_payment_method(self.store, params)
        if pm_id is None and pm is not None:
            return pm
        customer = params.get("customer")
        if customer and customer not in self.store.customers:
            return invalid(f"No such customer: '{customer}'", "resource_missing", "customer")
        intent.amount, intent.currency = amount, currency
        if pm_id is not None:
            intent.payment_method = pm_id
            if intent.status == "requires_payment_method":
                intent.status = "requires_confirmation"
        if "capture_method" in params:
            intent.capture_method = params["capture_method"] or "automatic"
        for name in ("description", "receipt_email", "customer"):
            if name in params:
                setattr(intent, name, params[name] or None)
        if touches(params, "metadata"):
            intent.metadata = merged_metadata(intent.metadata, params)
            self.store.reindex()
        return object_result(self, intent, params)

    def pi_confirm(self, ex, params, args, forced) -> Result:
        intent, err = self._intent(args, CONFIRM, params)
        if err is not None:
            return err
        if intent.status not in CONFIRMABLE:
            return invalid(f"You cannot confirm this PaymentIntent because it has a status of"
                           f" {intent.status}. Only a PaymentIntent with one of the following statuses may"
                           f" be confirmed: {', '.join(CONFIRMABLE)}.", "payment_intent_unexpected_state")
        pm_id, pm = resolve_payment_method(self.store, params)
        if pm_id is None and pm is not None:
            return pm
        if pm_id is None and intent.payment_method is not None:
            pm_id, pm = resolve_payment_method(self.store, {"payment_method": intent.payment_method})
        if pm_id is None:
            return invalid("You cannot confirm this PaymentIntent because it's missing a payment method."
                           " To confirm the PaymentIntent, pass a payment_method.",
                           "payment_intent_unexpected_state")
        if params.get("capture_method"):
            intent.capture_method = params["capture_method"]
        if params.get("receipt_email"):
            intent.receipt_email = params["receipt_email"]
        return self._expanded(intent, params, charge(self, intent, pm_id, pm, ex, forced))

    def pi_capture(self, ex, params, args, forced) -> Result:
        intent, err = self._intent(args, CAPTURE, params)
        if err is not None:
            return err
        if intent.status != "requires_capture":
            return _unexpected_state("captured", intent, ("requires_capture",))
        amount = integer(params.get("amount_to_capture") or str(intent.amount_capturable))
        if amount > intent.amount_capturable:
            return invalid(f"The amount_to_capture must be less than or equal to the PaymentIntent's"
                           f" amount_capturable ({intent.amount_capturable}).", "amount_too_large",
                           "amount_to_capture")
        if amount < 1:
            return invalid("The amount_to_capture must be a positive integer.", "parameter_invalid_integer",
                           "amount_to_capture")
        self.capture_hold(intent, amount, ex)
        if touches(params, "metadata"):
            intent.metadata = merged_metadata(intent.metadata, params)
            self.store.reindex()
        return object_result(self, intent, params)

    def capture_hold(self, intent: PaymentIntent, amount: int, ex) -> None:
        """Capture ``amount`` of the intent's hold; the rest of the hold is released."""
        held = intent.amount_capturable
        ch = self.store.charges.get(intent.latest_charge)
        if ch is not None:
            ch.capture(amount)
        intent.amount_received = amount
        intent.amount_capturable = 0
        intent.status = "succeeded"
        self.ledger.charge(amount, intent.currency, intent.id, intent.order_ref, ex.idempotency_key)
        if held > amount:
            self.ledger.release(held - amount, intent.currency, intent.id, intent.order_ref, ex.idempotency_key)
        ex.committed = True

    def pi_cancel(self, ex, params, args, forced) -> Result:
        intent, err = self._intent(args, CANCEL, params)
        if err is not None:
            return err
        if intent.status not in CANCELABLE:
            return invalid(f"You cannot cancel this PaymentIntent because it has a status of {intent.status}."
                           f" Only a PaymentIntent with one of the following statuses may be canceled:"
                           f" {', '.join(CANCELABLE)}.", "payment_intent_unexpected_state")
        if intent.status == "requires_capture":
            held = intent.amount_capturable
            ch = self.store.charges.get(intent.latest_charge)
            if ch is not None:
                ch.amount_refunded = ch.amount  # Stripe refunds the uncaptured charge
            intent.amount_capturable = 0
            self.ledger.release(held, intent.currency, intent.id, intent.order_ref, ex.idempotency_key)
            ex.committed = True
        intent.status = "canceled"
        intent.canceled_at = int(time.time())
        intent.cancellation_reason = params.get("cancellation_reason") or None
        intent.next_action = None
        return object_result(self, intent, params)

    def pi_list(self, ex, params, args, forced) -> Result:
        err = LIST.check(params)
        if err is not None:
            return err
        return page(self, "/v1/payment_intents", self.store.intents.values(), params, by=("customer",))

    def pi_search(self, ex, params, args, forced) -> Result:
        err = SEARCH.check(params)
        if err is not None:
            return err
        query = params["query"]
        limit = integer(params.get("limit") or "10")
        if not 1 <= limit <= 100:
            return invalid("limit must be between 1 and 100", "parameter_invalid_integer", "limit")
        try:
            clauses = parse_search_query(query)
        except SearchQueryError as exc:
            return invalid(str(exc), "parameter_invalid_string", "query")
        found = self.store.search(clauses)
        body = {"object": "search_result", "data": [pi.to_api() for pi in found[:limit]],
                "has_more": len(found) > limit, "next_page": None, "total_count": len(found),
                "url": "/v1/payment_intents/search"}
        return Result(200, dumps(body), info(200))

    def search_order_ref(self, params: dict) -> str | None:
        """The order reference a search asks about, e.g. from ``metadata['order_id']:'X'``."""
        field = self.order_ref_field
        query = params.get("query")
        if not query or not field.startswith("metadata[") or not field.endswith("]"):
            return None
        try:
            clauses = parse_search_query(query)
        except SearchQueryError:
            return None
        key = "metadata." + field[len("metadata["):-1]
        for name, value in clauses:
            if name == key:
                return value
        return None
