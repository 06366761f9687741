"""``/v1/customers``: create (optionally with a card: ``source`` token or a
``payment_method`` to attach) and retrieve. A customer's card is what a
``/v1/charges`` call with only ``customer`` charges."""

from __future__ import annotations

from ..core.forms import nested
from ..core.provider import Result
from .charging import payment_method, test_payment_method
from .errors import invalid, not_found
from .listing import object_result
from .objects import Customer
from .params import ARRAY, HASH, INT, MAP, STR, Enum, Params

__all__ = ["CustomersApi"]

CREATE = Params(email=STR, name=STR, phone=STR, description=STR, metadata=MAP, payment_method=STR, source=STR,
                address=HASH, shipping=HASH, invoice_settings=HASH, preferred_locales=ARRAY,
                tax_exempt=Enum("exempt", "none", "reverse"), expand=ARRAY, balance=INT, test_clock=STR, tax=HASH,
                tax_id_data=ARRAY, invoice_prefix=STR, next_invoice_sequence=INT, cash_balance=HASH,
                individual_name=STR, business_name=STR)
RETRIEVE = Params(expand=ARRAY)


class CustomersApi:
    """Mixed into ``CardPay``: needs ``self.store``."""

    def customer_create(self, ex, params, args, forced) -> Result:
        err = CREATE.check(params)
        if err is not None:
            return err
        store = self.store
        cus = Customer(store.new_id("cus"), params.get("email") or None, params.get("name") or None,
                       params.get("phone") or None, params.get("description") or None, nested(params, "metadata"))
        pm_id = params.get("payment_method")
        if pm_id:
            pm = payment_method(store, pm_id)
            if pm is None:
                return invalid(f"No such PaymentMethod: '{pm_id}'", "resource_missing", "payment_method")
            self.attach(pm, cus.id)
        source = params.get("source")
        if source:
            card = test_payment_method(source) if source.startswith("tok_") else None
            if card is None:
                return invalid(f"No such token: '{source}'", "resource_missing", "source")
            saved = self.attach(card, cus.id, prefix="card")
            cus.default_source = saved.id
        default_pm = params.get("invoice_settings[default_payment_method]")
        if default_pm:
            pm = store.payment_methods.get(default_pm)
            if pm is None or pm.customer not in (None, cus.id):
                return invalid(f"No such PaymentMethod: '{default_pm}'", "resource_missing",
                               "invoice_settings[default_payment_method]")
            if pm.customer is None:
                self.attach(pm, cus.id)
            cus.default_payment_method = pm.id
        store.customers[cus.id] = cus
        return object_result(self, cus, params)

    def customer_retrieve(self, ex, params, args, forced) -> Result:
        cus = self.store.customers.get(args["id"])
        if cus is None:
            return not_found("customer", args["id"])
        return RETRIEVE.check(params) or object_result(self, cus, params)
