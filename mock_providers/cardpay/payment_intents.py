"""``/v1/payment_intents``: create (optionally confirm), confirm, retrieve,
cancel, search. Handlers take (exchange, params, path args, forced decline)
and return a ``Result``; they run inside the provider pipeline, after auth
and the idempotency layer.
"""

from __future__ import annotations

import time

from ..core.forms import unknown_params
from ..core.provider import Result, info
from .charging import charge, intent_result, resolve_payment_method
from .errors import dumps, invalid, not_found
from .intents import CANCELABLE, CONFIRMABLE, PaymentIntent, SearchQueryError, parse_search_query

__all__ = ["PaymentIntentsApi"]

_COMMON = {"expand", "return_url", "off_session", "error_on_requires_action", "use_stripe_sdk",
           "setup_future_usage", "receipt_email", "shipping", "mandate_data", "payment_method_options",
           "payment_method", "payment_method_data", "capture_method"}
CREATE_PARAMS = frozenset(_COMMON | {
    "amount", "currency", "confirm", "metadata", "description", "payment_method_types",
    "automatic_payment_methods", "customer", "statement_descriptor", "statement_descriptor_suffix",
    "confirmation_method"})
CONFIRM_PARAMS = frozenset(_COMMON | {"client_secret"})  # Stripe.js confirms with the publishable key and it
CANCEL_PARAMS = frozenset({"cancellation_reason", "expand"})
RETRIEVE_PARAMS = frozenset({"client_secret", "expand"})
SEARCH_PARAMS = frozenset({"query", "limit", "page", "expand"})
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
MIN_AMOUNT = 50  # Stripe's minimum charge is 0.50 in the major unit for the common currencies
MAX_AMOUNT = 99_999_999


def _unknown(params: dict, allowed: frozenset) -> Result | None:
    bad = unknown_params(params, allowed)
    if bad is None:
        return None
    return invalid(f"Received unknown parameter: {bad}", "parameter_unknown", bad)


def _capture_method(params: dict) -> Result | None:
    method = params.get("capture_method")
    if method is not None and method not in ("automatic", "automatic_async"):
        return invalid(f"capture_method={method!r} is not supported by this mock; use 'automatic'",
                       "parameter_invalid_string", "capture_method")
    return None


class PaymentIntentsApi:
    """Mixed into ``CardPay``: needs ``self.store``, ``self.ledger``, ``self.order_ref_field``."""

    def pi_create(self, ex, params, args, forced) -> Result:
        # One pass: collect metadata[...] and refuse unknown parameters (hot path).
        metadata = {}
        for key, value in params.items():
            if key in CREATE_PARAMS:
                continue
            if key.startswith("metadata[") and key.endswith("]"):
                metadata[key[9:-1]] = value
            elif key.split("[", 1)[0] not in CREATE_PARAMS:
                bad = key.split("[", 1)[0]
                return invalid(f"Received unknown parameter: {bad}", "parameter_unknown", bad)
        if "capture_method" in params:
            err = _capture_method(params)
            if err is not None:
                return err
        raw = params.get("amount")
        if raw is None:
            return invalid("Missing required param: amount.", "parameter_missing", "amount")
        try:
            amount = int(raw)
        except ValueError:
            return invalid(f"Invalid integer: {raw}", "parameter_invalid_integer", "amount")
        currency = params.get("currency")
        if currency is None:
            return invalid("Missing required param: currency.", "parameter_missing", "currency")
        currency = currency.lower()
        if len(currency) != 3 or not currency.isalpha():
            return invalid(f"Invalid currency: {currency}. Use a three-letter ISO code such as 'usd'.",
                           "parameter_invalid_string", "currency")
        if amount < MIN_AMOUNT:
            return invalid(f"Amount must be at least {MIN_AMOUNT} minor units ({currency})",
                           "amount_too_small", "amount")
        if amount > MAX_AMOUNT:
            return invalid(f"Amount must be no more than {MAX_AMOUNT} minor units", "amount_too_large", "amount")
        confirm = params.get("confirm", "false")
        if confirm not in ("true", "false"):
            return invalid(f"Invalid boolean: {confirm}", "parameter_invalid_boolean", "confirm")
        pm_id, entry = resolve_payment_method(self.store, params)
        if pm_id is None and entry is not None:
            return entry  # an error Result
        if confirm == "true" and pm_id is None:
            return invalid("You cannot confirm this PaymentIntent because it's missing a payment method."
                           " Update the PaymentIntent with a payment method and then confirm it again.",
                           "payment_intent_unexpected_state")
        store = self.store
        intent = PaymentIntent(store.new_id("pi"), amount, currency, params.get(self.order_ref_field),
                               metadata, params.get("description"), pm_id)
        store.add(intent)  # also the ledger's object table (CardPay links them)
        if confirm == "true":
            return charge(self, intent, pm_id, entry, ex, forced)
        return intent_result(intent)

    def pi_confirm(self, ex, params, args, forced) -> Result:
        intent = self.store.get(args["id"])
        if intent is None:
            return not_found("payment_intent", args["id"])
        err = _unknown(params, CONFIRM_PARAMS) or _capture_method(params)
        if err is not None:
            return err
        if intent.status not in CONFIRMABLE:
            return invalid(f"You cannot confirm this PaymentIntent because it has a status of"
                           f" {intent.status}. Only a PaymentIntent with one of the following statuses may"
                           f" be confirmed: {', '.join(CONFIRMABLE)}.", "payment_intent_unexpected_state")
        pm_id, entry = resolve_payment_method(self.store, params)
        if pm_id is None and entry is not None:
            return entry
        if pm_id is None and intent.payment_method is not None:
            pm_id, entry = resolve_payment_method(self.store, {"payment_method": intent.payment_method})
        if pm_id is None:
            return invalid("You cannot confirm this PaymentIntent because it's missing a payment method."
                           " To confirm the PaymentIntent, pass a payment_method.",
                           "payment_intent_unexpected_state")
        return charge(self, intent, pm_id, entry, ex, forced)

    def pi_retrieve(self, ex, params, args, forced) -> Result:
        intent = self.store.get(args["id"])
        if intent is None:
            return not_found("payment_intent", args["id"])
        return _unknown(params, RETRIEVE_PARAMS) or intent_result(intent)

    def pi_cancel(self, ex, params, args, forced) -> Result:
        intent = self.store.get(args["id"])
        if intent is None:
            return not_found("payment_intent", args["id"])
        err = _unknown(params, CANCEL_PARAMS)
        if err is not None:
            return err
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in CANCELLATION_REASONS:
            return invalid(f"Invalid cancellation_reason: must be one of {', '.join(CANCELLATION_REASONS)}",
                           "parameter_invalid_string", "cancellation_reason")
        if intent.status not in CANCELABLE:
            return invalid(f"You cannot cancel this PaymentIntent because it has a status of {intent.status}."
                           f" Only a PaymentIntent with one of the following statuses may be canceled:"
                           f" {', '.join(CANCELABLE)}.", "payment_intent_unexpected_state")
        intent.status = "canceled"
        intent.canceled_at = int(time.time())
        intent.cancellation_reason = reason
        intent.next_action = None
        return intent_result(intent)

    def pi_search(self, ex, params, args, forced) -> Result:
        err = _unknown(params, SEARCH_PARAMS)
        if err is not None:
            return err
        query = params.get("query")
        if not query:
            return invalid("Missing required param: query.", "parameter_missing", "query")
        try:
            limit = int(params.get("limit", "10"))
        except ValueError:
            return invalid(f"Invalid integer: {params['limit']}", "parameter_invalid_integer", "limit")
        if not 1 <= limit <= 100:
            return invalid("limit must be between 1 and 100", "parameter_invalid_integer", "limit")
        try:
            clauses = parse_search_query(query)
        except SearchQueryError as exc:
            return invalid(str(exc), "parameter_invalid_string", "query")
        found = self.store.search(clauses)
        body = {"object": "search_result", "data": [pi.to_api() for pi in found[:limit]],
                "has_more": len(found) > limit, "next_page": None, "url": "/v1/payment_intents/search"}
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
