"""Drive every cardpay endpoint in plan.json with stripe-python 11.x (its global,
resource-class API: stripe.api_key / stripe.api_base, as 11.x apps are written).

    PYTHONPATH=tools/stripe11 .venv/bin/python tests/providers/sdk_drive/drive_py11.py URL [--run R]

Prints one JSON line per step (see plan.py). stripe 11.x must be first on the
path (the venv has 16.x): the first line says which version ran, so a test can
tell it was not 16.x by mistake.
"""

from __future__ import annotations

import argparse
import json
import sys

import stripe

from plan import run_plan


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--run", default="drive")
    ap.add_argument("--sk", default="sk_test_paychaos")
    ap.add_argument("--pk", default="pk_test_paychaos")
    args = ap.parse_args()

    stripe.api_key = args.sk
    stripe.api_base = args.url.rstrip("/")
    stripe.max_network_retries = 0
    keys = {"sk": args.sk, "pk": args.pk}

    calls = {
        "customers.create": lambda i, p, k: stripe.Customer.create(api_key=k, **p),
        "customers.retrieve": lambda i, p, k: stripe.Customer.retrieve(i, api_key=k, **p),
        "payment_methods.create": lambda i, p, k: stripe.PaymentMethod.create(api_key=k, **p),
        "payment_methods.retrieve": lambda i, p, k: stripe.PaymentMethod.retrieve(i, api_key=k, **p),
        "payment_methods.attach": lambda i, p, k: stripe.PaymentMethod.attach(i, api_key=k, **p),
        "payment_intents.create": lambda i, p, k: stripe.PaymentIntent.create(api_key=k, **p),
        "payment_intents.retrieve": lambda i, p, k: stripe.PaymentIntent.retrieve(i, api_key=k, **p),
        "payment_intents.update": lambda i, p, k: stripe.PaymentIntent.modify(i, api_key=k, **p),
        "payment_intents.confirm": lambda i, p, k: stripe.PaymentIntent.confirm(i, api_key=k, **p),
        "payment_intents.capture": lambda i, p, k: stripe.PaymentIntent.capture(i, api_key=k, **p),
        "payment_intents.cancel": lambda i, p, k: stripe.PaymentIntent.cancel(i, api_key=k, **p),
        "payment_intents.list": lambda i, p, k: stripe.PaymentIntent.list(api_key=k, **p),
        "payment_intents.search": lambda i, p, k: stripe.PaymentIntent.search(api_key=k, **p),
        "charges.create": lambda i, p, k: stripe.Charge.create(api_key=k, **p),
        "charges.retrieve": lambda i, p, k: stripe.Charge.retrieve(i, api_key=k, **p),
        "charges.capture": lambda i, p, k: stripe.Charge.capture(i, api_key=k, **p),
        "charges.list": lambda i, p, k: stripe.Charge.list(api_key=k, **p),
        "refunds.create": lambda i, p, k: stripe.Refund.create(api_key=k, **p),
        "refunds.retrieve": lambda i, p, k: stripe.Refund.retrieve(i, api_key=k, **p),
        "refunds.list": lambda i, p, k: stripe.Refund.list(api_key=k, **p),
    }

    def call(endpoint, key, ident, params):
        obj = calls[endpoint](ident, params, keys[key])
        resp = obj.last_response
        return resp.code, resp.data

    print(json.dumps({"sdk": "stripe-python", "version": stripe.VERSION}), flush=True)
    run_plan(call, args.run, emit=lambda rec: print(json.dumps(rec), flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
