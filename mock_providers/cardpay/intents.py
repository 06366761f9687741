"""PaymentIntents and the store of every cardpay object (with search by metadata).

An intent renders two ways: ``to_api()`` is Stripe's object as the SDK sees
it; ``ledger_view()`` is the harness's summary (docs/interfaces.md section 5).
"""

from __future__ import annotations

import json
import re
import secrets
import time

from .objects import Charge, Customer, PaymentMethod, Refund

__all__ = ["PaymentIntent", "IntentStore", "parse_search_query", "SearchQueryError", "CONFIRMABLE", "CANCELABLE",
           "UPDATABLE"]

_str = json.encoder.encode_basestring_ascii  # C; quotes and escapes
_dumps = json.JSONEncoder(separators=(",", ":")).encode
# Client secrets only need to look like Stripe's; one random salt per process is enough.
_SECRET_SALT = secrets.token_hex(6)


def _opt(value) -> str:
    if value is None:
        return "null"
    return _str(value) if value.__class__ is str else _dumps(value)


def _metadata(meta: dict) -> str:
    if not meta:
        return "{}"
    if len(meta) == 1:  # the usual {"order_id": ...}: skip the generator
        for k, v in meta.items():
            return "{" + _str(k) + ":" + _str(v) + "}"
    return "{" + ",".join(_str(k) + ":" + _str(v) for k, v in meta.items()) + "}"


THREE_DS_ACTION = {"type": "use_stripe_sdk",
                   "use_stripe_sdk": {"type": "three_d_secure_redirect",
                                      "stripe_js": "https://hooks.stripe.com/3d_secure_2/hosted"}}

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
              "processing")
UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")

# Fields with no behaviour here: Stripe's value for a plain test-mode card payment,
# serialised once (the hot path splices this fragment into every intent).
_STATIC = {
    "allowed_payment_method_types": None, "amount_details": {"tip": {}}, "application": None,
    "application_fee_amount": None, "automatic_payment_methods": None, "confirmation_method": "automatic",
    "customer_account": None, "excluded_payment_method_types": None, "livemode": False, "managed_payments": None,
    "on_behalf_of": None, "payment_method_configuration_details": None,
    "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                        "request_three_d_secure": "automatic"}},
    "payment_method_types": ["card"], "processing": None, "review": None, "setup_future_usage": None,
    "shipping": None, "statement_descriptor": None, "statement_descriptor_suffix": None, "transfer_data": None,
    "transfer_group": None,
}
_STATIC_JSON = _dumps(_STATIC)[1:-1]


class PaymentIntent:
    __slots__ = ("id", "amount", "currency", "status", "order_ref", "description",
                 "payment_method", "created", "created_t", "amount_received", "amount_refunded",
                 "last_payment_error", "next_action", "latest_charge", "canceled_at",
                 "cancellation_reason", "lpe_json", "meta_json", "capture_method", "amount_capturable",
                 "customer", "receipt_email")

    def __init__(self, ident, amount, currency, order_ref, metadata, description, payment_method,
                 capture_method="automatic", customer=None, receipt_email=None):
        self.id = ident
        self.amount = amount
        self.currency = currency
        self.order_ref = order_ref
        self.description = description
        self.payment_method = payment_method
        self.status = "requires_confirmation" if payment_method else "requires_payment_method"
        self.created = int(time.time())
        self.created_t = time.monotonic()
        self.amount_received = 0
        self.amount_refunded = 0
        self.amount_capturable = 0
        self.capture_method = capture_method
        self.customer = customer
        self.receipt_email = receipt_email
        self.last_payment_error = None
        self.next_action = None
        self.latest_charge = None
        self.canceled_at = None
        self.cancellation_reason = None
        self.lpe_json = "null"  # last_payment_error, serialised once when set
        # Keep only the metadata's JSON (an intent is kept for the whole run; every
        # byte per request is a page fault later); an update re-serialises it.
        self.meta_json = _metadata(metadata)

    @property
    def metadata(self) -> dict:
        return json.loads(self.meta_json)

    @metadata.setter
    def metadata(self, value: dict) -> None:
        self.meta_json = _metadata(value)

    @property
    def client_secret(self) -> str:
        return f"{self.id}_secret_{_SECRET_SALT}"

    def to_api(self) -> dict:
        return json.loads(self.to_json())

    def to_json(self) -> bytes:
        """The intent as Stripe's JSON, built by hand, ~4x faster than json.dumps: this is the hot path."""
        return (
            f'{{"id":"{self.id}","object":"payment_intent","amount":{self.amount},'
            f'"amount_capturable":{self.amount_capturable},"amount_received":{self.amount_received},'
            f'"canceled_at":{"null" if self.canceled_at is None else self.canceled_at},'
            f'"cancellation_reason":{_opt(self.cancellation_reason)},'
            f'"capture_method":"{self.capture_method}","client_secret":"{self.id}_secret_{_SECRET_SALT}",'
            f'"created":{self.created},"currency":"{self.currency}",'
            f'"customer":{"null" if self.customer is None else _str(self.customer)},'
            f'"description":{"null" if self.description is None else _str(self.description)},'
            f'"last_payment_error":{self.lpe_json},'
            f'"latest_charge":{"null" if self.latest_charge is None else _str(self.latest_charge)},'
            f'"metadata":{self.meta_json},'
            f'"next_action":{"null" if self.next_action is None else _dumps(self.next_action)},'
            f'"payment_method":{"null" if self.payment_method is None else _str(self.payment_method)},'
            f'"receipt_email":{"null" if self.receipt_email is None else _str(self.receipt_email)},'
            f'"status":"{self.status}",{_STATIC_JSON}}}'
        ).encode()

    def set_payment_error(self, err: dict | None) -> str:
        """Set last_payment_error; returns its JSON (reused in the 402 body)."""
        self.last_payment_error = err
        self.lpe_json = "null" if err is None else _dumps(err)
        return self.lpe_json

    def ledger_view(self) -> dict:
        return {"id": self.id, "status": self.status, "amount": self.amount, "currency": self.currency,
                "order_ref": self.order_ref, "amount_received": self.amount_received,
                "amount_refunded": self.amount_refunded, "created_t": self.created_t}


class SearchQueryError(ValueError):
    pass


_CLAUSE = re.compile(
    r"""\s*(?:metadata\[(?P<q1>['"])(?P<key>[^'"]+)(?P=q1)\]|(?P<field>status|currency))"""
    r""":(?P<q2>['"])(?P<value>[^'"]*)(?P=q2)\s*""")


def parse_search_query(query: str) -> list[tuple[str, str]]:
    """``metadata['order_id']:'X' AND status:'succeeded'`` -> [("metadata.order_id","X"), ("status", ...)]."""
    clauses = []
    for part in query.split(" AND "):
        m = _CLAUSE.fullmatch(part)
        if m is None:
            raise SearchQueryError(
                f"Invalid search query clause {part.strip()!r}: this mock supports"
                " metadata['key']:'value', status:'value' and currency:'value' joined by AND")
        name = "metadata." + m["key"] if m["key"] else m["field"]
        clauses.append((name, m["value"]))
    return clauses


class IntentStore:
    def __init__(self) -> None:
        self._prefix = secrets.token_hex(3)
        self._n = 10**13  # ids of a constant width, like Stripe's
        self.intents: dict[str, PaymentIntent] = {}
        self.payment_methods: dict[str, PaymentMethod] = {}
        self.charges: dict[str, Charge] = {}
        self.direct_charges: dict[str, Charge] = {}  # made by /v1/charges: ledger objects of their own
        self.refunds: dict[str, Refund] = {}
        self.customers: dict[str, Customer] = {}
        # (metadata key, value) -> intents, for search without a scan. Built lazily:
        # searches are rare (reconciliation), creates are the hot path.
        self._by_meta: dict[tuple[str, str], list[PaymentIntent]] = {}
        self._unindexed: list[PaymentIntent] = []

    def new_id(self, prefix: str) -> str:
        self._n += 1
        return prefix + "_" + self._prefix + str(self._n)

    def add(self, intent: PaymentIntent) -> None:
        self.intents[intent.id] = intent
        self._unindexed.append(intent)

    def _index(self) -> None:
        by_meta = self._by_meta
        for intent in self._unindexed:
            if intent.meta_json == "{}":
                continue
            for item in intent.metadata.items():
                bucket = by_meta.get(item)
                if bucket is None:
                    by_meta[item] = [intent]
                else:
                    bucket.append(intent)
        self._unindexed = []

    def get(self, ident: str) -> PaymentIntent | None:
        return self.intents.get(ident)

    def reindex(self) -> None:
        """Metadata changed (an update): rebuild the search index on the next search."""
        self._by_meta = {}
        self._unindexed = list(self.intents.values())

    def search(self, clauses: list[tuple[str, str]]) -> list[PaymentIntent]:
        self._index()
        meta = [(n[len("metadata."):], v) for n, v in clauses if n.startswith("metadata.")]
        if meta:
            candidates = self._by_meta.get(meta[0], [])
        else:
            candidates = list(self.intents.values())
        out = []
        for pi in candidates:
            metadata = pi.metadata
            for name, value in clauses:
                if name.startswith("metadata."):
                    if metadata.get(name[len("metadata."):]) != value:
                        break
                elif getattr(pi, name) != value:
                    break
            else:
                out.append(pi)
        out.sort(key=lambda pi: pi.created_t, reverse=True)  # Stripe lists newest first
        return out

    def reset(self) -> None:
        self.intents = {}
        self.payment_methods = {}
        self.charges = {}
        self.direct_charges = {}
        self.refunds = {}
        self.customers = {}
        self._by_meta = {}
        self._unindexed = []
