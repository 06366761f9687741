"""Validate a `POST /payments` body before anything is stored or charged.

Each problem answers 400 with an error that names the field, states the rule
and says how to fix it; the first problem found is reported.
"""

from __future__ import annotations

import re
from typing import Any

from .service import PaymentRequest
from .user_errors import UserError, invalid_request

__all__ = ["parse_payment", "ORDER_ID_PATTERN"]

# The order id goes into a search query (metadata['order_id']:'...') and into
# the idempotency key (<= 255 chars), so quotes and long ids are refused.
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_FIX = "Fix the request and send it again."


def parse_payment(body: Any) -> PaymentRequest | UserError:
    if not isinstance(body, dict):
        return _bad("invalid_json", "The request body must be a JSON object.")
    order_id = body.get("order_id")
    if not isinstance(order_id, str) or not ORDER_ID_PATTERN.match(order_id):
        return _bad(
            "invalid_order_id" if "order_id" in body else "missing_field",
            f"order_id={order_id!r} is invalid: it must be 1-100 characters of letters, digits, "
            "'_', '.', ':' or '-', starting with a letter or digit.",
        )
    amount = body.get("amount")
    # bool is an int in Python; `true` is not an amount.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return _bad(
            "invalid_amount" if "amount" in body else "missing_field",
            f"amount={amount!r} is invalid: it must be a positive integer in minor units "
            "(e.g. 1200 for 12.00).",
        )
    currency = body.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        return _bad(
            "invalid_currency" if "currency" in body else "missing_field",
            f"currency={currency!r} is invalid: it must be a three-letter ISO code such as 'usd'.",
        )
    payment_method = body.get("payment_method")
    if not isinstance(payment_method, str) or not payment_method.strip():
        return _bad(
            "invalid_payment_method" if "payment_method" in body else "missing_field",
            f"payment_method={payment_method!r} is invalid: it must be a non-empty string "
            "such as 'pm_card_visa'.",
        )
    customer = body.get("customer")
    if not isinstance(customer, dict):
        return _bad(
            "invalid_customer" if "customer" in body else "missing_field",
            "customer is invalid: it must be an object with 'name' and 'email'.",
        )
    name, email = customer.get("name"), customer.get("email")
    if not isinstance(name, str) or not name.strip():
        return _bad("invalid_customer", f"customer.name={name!r} is invalid: it must be a non-empty string.")
    if not isinstance(email, str) or not _EMAIL.match(email):
        return _bad("invalid_customer", f"customer.email={email!r} is invalid: it must be an email address.")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        return _bad("invalid_description", f"description={description!r} is invalid: it must be a string.")
    return PaymentRequest(
        order_id=order_id,
        amount=amount,
        currency=currency.lower(),
        payment_method=payment_method.strip(),
        customer_name=name,
        customer_email=email,
        description=description,
    )


def _bad(code: str, message: str) -> UserError:
    return invalid_request(message, _FIX, code=code)
