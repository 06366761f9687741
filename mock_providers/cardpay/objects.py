"""Stripe's Charge, Refund, Customer and PaymentMethod objects, rendered with
every field Stripe's API returns for a card payment (proven field by field
against stripe-mock in tests/providers/test_stripe_mock_conformance.py).

Fields this mock has no behaviour for take Stripe's value for a plain test-mode
card payment (``null``, ``false``, ``"unavailable"``): a service that reads
them finds what Stripe would send, never a missing key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

from .cards import TestCard

__all__ = ["Charge", "Refund", "Customer", "PaymentMethod", "list_object"]

_ADDRESS_NULL = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}


def _billing_details(details: dict | None = None) -> dict:
    details = details or {}
    address = {**_ADDRESS_NULL, **{k: v for k, v in (details.get("address") or {}).items() if k in _ADDRESS_NULL}}
    return {"address": address, "email": details.get("email"), "name": details.get("name"),
            "phone": details.get("phone"), "tax_id": None}


def list_object(url: str, data: list[dict], has_more: bool) -> dict:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


class PaymentMethod:
    """A tokenized card: ``pm_...`` (Stripe.js ``createPaymentMethod`` or a test id such as ``pm_card_visa``)."""

    __slots__ = ("id", "card", "number", "exp_month", "exp_year", "customer", "created", "metadata",
                 "billing_details")

    def __init__(self, ident: str, card: TestCard, number: str, exp_month: int, exp_year: int,
                 metadata: dict | None = None, billing_details: dict | None = None):
        self.id = ident
        self.card = card
        self.number = number
        self.exp_month = exp_month
        self.exp_year = exp_year
        self.customer: str | None = None
        self.created = int(time.time())
        self.metadata = metadata or {}
        self.billing_details = billing_details

    @property
    def fingerprint(self) -> str:
        # Stable per card number, as Stripe's; never the number itself, nor 16 digits that look like one.
        return base64.b32encode(hashlib.sha256(b"paychaos" + self.number.encode()).digest())[:16].decode()

    def card_api(self) -> dict:
        brand = self.card.brand
        return {"brand": brand, "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                           "cvc_check": "pass"},
                "country": "US", "display_brand": brand, "exp_month": self.exp_month, "exp_year": self.exp_year,
                "fingerprint": self.fingerprint, "funding": "credit", "generated_from": None,
                "last4": self.number[-4:], "networks": {"available": [brand], "preferred": None},
                "regulated_status": "unregulated", "three_d_secure_usage": {"supported": True}, "wallet": None}

    def to_api(self) -> dict:
        return {"id": self.id, "object": "payment_method", "allow_redisplay": "unspecified",
                "billing_details": _billing_details(self.billing_details), "card": self.card_api(),
                "created": self.created, "customer": self.customer, "customer_account": None, "livemode": False,
                "metadata": self.metadata, "type": "card"}

    def details_api(self, amount: int) -> dict:
        """``payment_method_details`` of a Charge made with this card."""
        c = self.card_api()
        return {"card": {"amount_authorized": amount, "authorization_code": None, "brand": c["brand"],
                         "checks": c["checks"], "country": "US", "exp_month": self.exp_month,
                         "exp_year": self.exp_year, "extended_authorization": {"status": "disabled"},
                         "fingerprint": c["fingerprint"], "funding": "credit",
                         "incremental_authorization": {"status": "unavailable"}, "installments": None,
                         "last4": c["last4"], "mandate": None, "multicapture": {"status": "unavailable"},
                         "network": c["brand"], "network_token": {"used": False}, "network_transaction_id": None,
                         "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
                         "regulated_status": "unregulated", "three_d_secure": None, "transaction_link_id": None,
                         "wallet": None},
                "type": "card"}


class Charge:
    """One attempt to move money from a card: made by a PaymentIntent's confirmation or by ``/v1/charges``."""

    __slots__ = ("id", "amount", "currency", "status", "captured", "amount_captured", "amount_refunded",
                 "payment_intent", "pm", "customer", "description", "metadata", "order_ref", "failure_code",
                 "failure_message", "outcome_reason", "created", "created_t", "refunds", "balance_transaction",
                 "receipt_email")

    def __init__(self, ident: str, amount: int, currency: str, pm: PaymentMethod, *, captured: bool,
                 succeeded: bool, payment_intent: str | None = None, customer: str | None = None,
                 description: str | None = None, metadata: dict | None = None, order_ref: str | None = None,
                 failure: tuple[str, str | None, str] | None = None, receipt_email: str | None = None):
        self.id = ident
        self.amount = amount
        self.currency = currency
        self.pm = pm
        self.status = "succeeded" if succeeded else "failed"
        self.captured = captured and succeeded
        self.amount_captured = amount if self.captured else 0
        self.amount_refunded = 0
        self.payment_intent = payment_intent
        self.customer = customer
        self.description = description
        self.metadata = metadata or {}
        self.order_ref = order_ref
        # failure: (code, decline_code, message)
        self.failure_code = failure[0] if failure else None
        self.outcome_reason = failure[1] if failure else None
        self.failure_message = failure[2] if failure else None
        self.created = int(time.time())
        self.created_t = time.monotonic()
        self.refunds: list[Refund] = []
        self.balance_transaction = ("txn_" + ident[3:]) if self.captured else None
        self.receipt_email = receipt_email

    @property
    def paid(self) -> bool:
        return self.status == "succeeded"

    def capture(self, amount: int) -> None:
        self.captured = True
        self.amount_captured = amount
        self.balance_transaction = "txn_" + self.id[3:]

    def _outcome(self) -> dict:
        if self.paid:
            return {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                    "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                    "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"}
        blocked = self.outcome_reason in ("fraudulent", "merchant_blacklist")
        return {"advice_code": "do_not_try_again" if blocked else "try_again_later",
                "network_advice_code": None, "network_decline_code": None,
                "network_status": "not_sent_to_network" if blocked else "declined_by_network",
                "reason": self.outcome_reason or self.failure_code, "risk_level": "highest" if blocked else "normal",
                "risk_score": 95 if blocked else 40,
                "seller_message": "Stripe blocked this payment as too risky." if blocked
                else "The bank did not return any further details with this decline.",
                "type": "blocked" if blocked else "issuer_declined"}

    def to_api(self) -> dict:
        return {
            "id": self.id, "object": "charge", "amount": self.amount, "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded, "application": None, "application_fee": None,
            "application_fee_amount": None, "balance_transaction": self.balance_transaction,
            "billing_details": _billing_details(self.pm.billing_details),
            "calculated_statement_descriptor": "PAYCHAOS", "captured": self.captured, "created": self.created,
            "currency": self.currency, "customer": self.customer, "description": self.description,
            "disputed": False, "failure_balance_transaction": None, "failure_code": self.failure_code,
            "failure_message": self.failure_message, "fraud_details": {}, "livemode": False,
            "metadata": self.metadata, "on_behalf_of": None, "outcome": self._outcome(), "paid": self.paid,
            "payment_intent": self.payment_intent, "payment_method": self.pm.id,
            "payment_method_details": self.pm.details_api(self.amount), "receipt_email": self.receipt_email,
            "receipt_number": None, "receipt_url": None,
            "refunded": self.amount_refunded >= self.amount and self.amount_refunded > 0,
            "refunds": list_object(f"/v1/charges/{self.id}/refunds", [r.to_api() for r in self.refunds], False),
            "review": None, "shipping": None, "source_transfer": None, "statement_descriptor": None,
            "statement_descriptor_suffix": None, "status": self.status, "transfer_data": None,
            "transfer_group": None,
        }

    def ledger_view(self) -> dict:
        """For a charge made through ``/v1/charges`` (a PaymentIntent's charge is its intent's)."""
        return {"id": self.id, "status": self.status, "amount": self.amount, "currency": self.currency,
                "order_ref": self.order_ref, "amount_received": self.amount_captured,
                "amount_refunded": self.amount_refunded, "created_t": self.created_t}


class Refund:
    status = "succeeded"  # card refunds in test mode succeed at once
    __slots__ = ("id", "amount", "currency", "charge", "payment_intent", "reason", "metadata", "created",
                 "created_t", "order_ref", "customer", "payment_method")

    def __init__(self, ident: str, amount: int, currency: str, charge: str | None, payment_intent: str | None,
                 reason: str | None, metadata: dict, order_ref: str | None, customer: str | None = None,
                 payment_method: str | None = None):
        self.customer = customer
        self.payment_method = payment_method
        self.id = ident
        self.amount = amount
        self.currency = currency
        self.charge = charge
        self.payment_intent = payment_intent
        self.reason = reason
        self.metadata = metadata
        self.created = int(time.time())
        self.created_t = time.monotonic()
        self.order_ref = order_ref

    def to_api(self) -> dict:
        return {"id": self.id, "object": "refund", "amount": self.amount, "balance_transaction": "txn_" + self.id[3:],
                "charge": self.charge, "created": self.created, "currency": self.currency,
                "customer": self.customer, "customer_account": None,
                "destination_details": {"card": {"reference_status": "pending",
                                                 "reference_type": "acquirer_reference_number", "type": "refund"},
                                        "type": "card"},
                "metadata": self.metadata, "payment_intent": self.payment_intent, "payment_method": self.payment_method,
                "reason": self.reason,
                "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
                "transfer_reversal": None}


class Customer:
    __slots__ = ("id", "email", "name", "phone", "description", "metadata", "created", "default_source",
                 "default_payment_method", "invoice_prefix")

    def __init__(self, ident: str, email=None, name=None, phone=None, description=None, metadata=None):
        self.id = ident
        self.email = email
        self.name = name
        self.phone = phone
        self.description = description
        self.metadata = metadata or {}
        self.created = int(time.time())
        self.default_source: str | None = None
        self.default_payment_method: str | None = None
        self.invoice_prefix = hashlib.sha256(ident.encode()).hexdigest()[:8].upper()

    def to_api(self) -> dict:
        return {"id": self.id, "object": "customer", "address": None, "balance": 0, "created": self.created,
                "currency": None, "customer_account": None, "default_source": self.default_source,
                "delinquent": False, "description": self.description, "discount": None, "email": self.email,
                "invoice_prefix": self.invoice_prefix,
                "invoice_settings": {"custom_fields": None, "default_payment_method": self.default_payment_method,
                                     "footer": None, "rendering_options": None},
                "livemode": False, "metadata": self.metadata, "name": self.name, "next_invoice_sequence": 1,
                "phone": self.phone, "preferred_locales": [], "shipping": None, "tax_exempt": "none",
                "test_clock": None}


def dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
