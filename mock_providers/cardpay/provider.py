"""CardPay: a Stripe-compatible card acquirer, as strict and as wide as
Stripe's API v1 for card payments (PaymentIntents, Charges, Refunds, Customers,
PaymentMethods), that the official stripe SDKs talk to unchanged.

Auth: ``Authorization: Bearer sk_test_...`` (or HTTP Basic with the key as
user name, as Stripe accepts). By default any ``sk_test_`` key passes; set
``api_keys`` through the control API to accept only those.
"""

from __future__ import annotations

import base64
import binascii

from ..core.provider import Provider, Result
from ..core.routing import Route
from .errors import publishable_refused, status_error, stripe_error, unauthorized
from .charges import ChargesApi
from .customers import CustomersApi
from .intents import IntentStore
from .payment_intents import PaymentIntentsApi
from .payment_methods import PaymentMethodsApi
from .profile import PROFILE
from .refunds import RefundsApi

__all__ = ["CardPay"]

# What a publishable key (the customer's browser, Stripe.js) may call; the intent
# calls only with that intent's client_secret (checked in ``authorize``).
_PUBLISHABLE = frozenset({"payment_methods.create", "payment_intents.confirm", "payment_intents.retrieve"})


class CardPay(PaymentIntentsApi, ChargesApi, RefundsApi, CustomersApi, PaymentMethodsApi, Provider):
    PROFILE = PROFILE
    config_keys = ("api_keys", "publishable_keys")

    def __init__(self, **kwargs):
        self.store = IntentStore()
        self.api_keys: frozenset[str] | None = None  # None: any sk_test_ key
        self.publishable_keys: frozenset[str] | None = None  # None: any pk_test_ key
        self._last_good_auth: bytes | None = None  # the hot path sees one key over and over
        super().__init__(**kwargs)
        self._link_ledger()

    def _link_ledger(self) -> None:
        # The store's own dicts are the ledger's object tables: memory per request counts.
        self.ledger.objects = self.store.intents
        self.ledger.more_objects = (self.store.direct_charges,)

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/v1/payment_intents", "payment_intents.create", self.pi_create),
            Route("GET", "/v1/payment_intents", "payment_intents.list", self.pi_list),
            Route("GET", "/v1/payment_intents/search", "payment_intents.search", self.pi_search),
            Route("GET", "/v1/payment_intents/{id}", "payment_intents.retrieve", self.pi_retrieve),
            Route("POST", "/v1/payment_intents/{id}", "payment_intents.update", self.pi_update),
            Route("POST", "/v1/payment_intents/{id}/confirm", "payment_intents.confirm", self.pi_confirm),
            Route("POST", "/v1/payment_intents/{id}/capture", "payment_intents.capture", self.pi_capture),
            Route("POST", "/v1/payment_intents/{id}/cancel", "payment_intents.cancel", self.pi_cancel),
            Route("POST", "/v1/charges", "charges.create", self.charge_create),
            Route("GET", "/v1/charges", "charges.list", self.charge_list),
            Route("GET", "/v1/charges/{id}", "charges.retrieve", self.charge_retrieve),
            Route("POST", "/v1/charges/{id}/capture", "charges.capture", self.charge_capture),
            Route("POST", "/v1/refunds", "refunds.create", self.refund_create),
            Route("GET", "/v1/refunds", "refunds.list", self.refund_list),
            Route("GET", "/v1/refunds/{id}", "refunds.retrieve", self.refund_retrieve),
            Route("POST", "/v1/customers", "customers.create", self.customer_create),
            Route("GET", "/v1/customers/{id}", "customers.retrieve", self.customer_retrieve),
            Route("POST", "/v1/payment_methods", "payment_methods.create", self.pm_create),
            Route("GET", "/v1/payment_methods/{id}", "payment_methods.retrieve", self.pm_retrieve),
            Route("POST", "/v1/payment_methods/{id}/attach", "payment_methods.attach", self.pm_attach),
        ]

    # -- provider hooks -------------------------------------------------------
    def authenticate(self, req) -> Result | None:
        raw = req.headers.get(b"authorization")
        if raw is not None and raw == self._last_good_auth:
            return None
        key = _api_key(raw)
        if key is None:
            return unauthorized(None)
        if key.startswith("pk_"):  # the customer's browser (Stripe.js): checked per call in authorize()
            ok = key.startswith("pk_test_") if self.publishable_keys is None else key in self.publishable_keys
            return None if ok else unauthorized(key)
        ok = key.startswith("sk_test_") if self.api_keys is None else key in self.api_keys
        if not ok:
            return unauthorized(key)
        self._last_good_auth = raw
        return None

    def authorize(self, req, route, params, args) -> Result | None:
        """A publishable key confirms or retrieves only the intent whose client secret it shows, as Stripe.js does."""
        raw = req.headers.get(b"authorization")
        if raw is None or raw == self._last_good_auth or not (_api_key(raw) or "").startswith("pk_"):
            return None
        if route.endpoint not in _PUBLISHABLE:
            return publishable_refused()
        if route.endpoint == "payment_methods.create":
            return None  # tokenizing a card is what a publishable key is for
        intent = self.store.get(args.get("id", ""))
        secret = params.get("client_secret")
        if intent is None or secret is None or secret != intent.client_secret:
            return stripe_error(400 if secret is None else 404, "invalid_request_error",
                                "A publishable key needs the PaymentIntent's client_secret"
                                if secret is None else f"No such payment_intent: '{args.get('id')}'",
                                "parameter_missing" if secret is None else "resource_missing",
                                param="client_secret" if secret is None else "intent", saved=False)
        return None

    def error_result(self, status, code=None, retry_after_s=None, message=None) -> Result:
        return status_error(status, code, retry_after_s, message)

    def not_found_result(self, req) -> Result:
        return stripe_error(404, "invalid_request_error",
                            f"Unrecognized request URL ({req.method}: {req.path}). Please see"
                            " https://stripe.com/docs or we can help at https://support.stripe.com/.",
                            saved=False)

    def idempotency_result(self, verdict, key, ex, first_path) -> Result:
        if verdict == "in_use":
            return stripe_error(
                409, "invalid_request_error",
                "There is currently another in-progress request using this idempotent key (that probably"
                f" means you submitted twice, and the other request is still going through): {key}."
                " Please try again later.", "idempotency_key_in_use", saved=False)
        if first_path != ex.path:
            message = ("Keys for idempotent requests can only be used for the same endpoint they were first"
                       f" used for ('{first_path}' vs '{ex.path}'). Try using a key other than '{key}' if you"
                       " meant to execute a different request.")
        else:
            message = ("Keys for idempotent requests can only be used with the same parameters they were"
                       f" first used with. Try using a key other than '{key}' if you meant to execute a"
                       " different request.")
        return stripe_error(400, "idempotency_error", message, saved=False)

    def order_ref_of(self, route, params, args) -> str | None:
        endpoint = route.endpoint
        if endpoint in ("payment_intents.create", "charges.create"):
            return params.get(self.order_ref_field)
        if endpoint == "payment_intents.search":
            return self.search_order_ref(params)
        store = self.store
        kind, _, verb = endpoint.partition(".")
        if kind == "payment_intents":
            ident = args.get("id") if verb != "list" else None
        elif kind == "charges":
            if "id" in args:  # retrieve, capture
                ch = store.charges.get(args["id"])
                return None if ch is None else ch.order_ref
            ident = params.get("payment_intent")  # a list of one intent's charges
        elif kind == "refunds":
            refund = store.refunds.get(args.get("id", ""))
            if refund is not None:
                return refund.order_ref
            ch = store.charges.get(params.get("charge") or "")
            if ch is not None:
                return ch.order_ref
            ident = params.get("payment_intent")
        else:
            return None  # customers, payment methods: not one order's
        intent = store.get(ident) if ident else None
        return None if intent is None else intent.order_ref

    def credentials_config(self, credentials: dict) -> dict:
        out = {}
        if "api_key" in credentials:
            out["api_keys"] = [credentials["api_key"]]
        if "publishable_key" in credentials:
            out["publishable_keys"] = [credentials["publishable_key"]]
        return out

    def configure(self, cfg: dict):
        changes = {}
        for name, prefix in (("api_keys", "sk_test_"), ("publishable_keys", "pk_test_")):
            if name not in cfg:
                continue
            keys = cfg.pop(name)
            if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys)):
                raise ValueError(f"{name}={keys!r} is invalid: it must be a list of key strings such as"
                                 f" ['{prefix}abc'], or null to accept any {prefix} key")
            changes[name] = None if keys is None else frozenset(keys)

        def apply() -> None:
            for name, value in changes.items():
                setattr(self, name, value)
            self._last_good_auth = None

        return list(cfg), apply

    def reset_state(self) -> None:
        self.store.reset()
        self._link_ledger()


def _api_key(raw: bytes | None) -> str | None:
    if not raw:
        return None
    value = raw.decode("latin-1").strip()
    scheme, _, cred = value.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return cred.strip() or None
    if scheme == "basic":
        try:
            user = base64.b64decode(cred.strip(), validate=True).decode("latin-1")
        except (binascii.Error, ValueError):
            return None
        return user.partition(":")[0] or None
    return None
