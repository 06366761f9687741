"""cardpay against stripe-mock, endpoint by endpoint (differential conformance).

Each endpoint cardpay serves is driven by the official SDK with the same calls
and parameters against both servers; ids in paths come from each server's own
earlier answers (stripe-mock is stateless: its ids are fixtures, and any id
works there). cardpay's answer must have every field of stripe-mock's, with
the same JSON type, nulls only where the spec says nullable (see
tests/providers/stripe_mock.py); where stripe-mock's fixture says little (an
empty object, a value where cardpay has null), cardpay's fields are judged by
the spec itself; a field asked for with expand[] must come as an object. Raw
malformed requests that stripe-mock refuses must be refused by cardpay too.

stripe-mock refuses publishable keys, so calls that a browser makes with one
(confirm and retrieve with a client_secret, payment_methods.create) go to
stripe-mock with a secret key and to cardpay with a publishable key.
stripe-mock never answers 402, so a declined card's envelope is judged by the
spec, with the PaymentIntent inside it compared to stripe-mock's.

The comparator itself is tested at the end: stripe-mock against itself passes,
altered copies fail with the field's path.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
import stripe

from mock_providers.cardpay.profile import PROFILE as CARDPAY

from . import stripe_mock as stripe_mock_module
from .stripe_mock import (SECRET_KEY, Mismatch, Spec, StripeMock, StripeMockError, check_types, compare, json_type,
                          need_stripe_mock, render)

pytestmark = pytest.mark.integration

PUBLISHABLE_KEY = "pk_test_paychaos"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}


@pytest.fixture(scope="module")
def spec() -> Spec:
    need_stripe_mock()
    return Spec.load()


@dataclass(frozen=True)
class Clients:
    secret: stripe.StripeClient
    public: stripe.StripeClient  # a publishable key on cardpay; a secret one on stripe-mock


def _clients(make, url: str, *, reference: bool) -> Clients:
    return Clients(make(url, key=SECRET_KEY), make(url, key=SECRET_KEY if reference else PUBLISHABLE_KEY))


def _body(obj: stripe.StripeObject) -> dict:
    return json.loads(obj.last_response.body)


# --- the endpoints ------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    name: str  # the journal's endpoint name, with a variant in brackets
    method: str
    route: str  # the spec's path template: its 200 schema is the root of the comparison
    run: Callable[[Clients], stripe.StripeObject]
    expand: tuple[str, ...] = ()  # fields the call asks to expand: an id is then not enough


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint(name: str, method: str, route: str, expand: tuple[str, ...] = ()):
    def register(fn):
        assert name not in ENDPOINTS, f"endpoint {name} registered twice"
        ENDPOINTS[name] = Endpoint(name, method, route, fn, expand)
        return fn
    return register


def _intent(c: Clients, order: str = "conf-1", **extra) -> stripe.PaymentIntent:
    return c.secret.v1.payment_intents.create(
        {"amount": 1200, "currency": "usd", "metadata": {"order_id": order}, **extra})


def _paid_intent(c: Clients, order: str = "conf-1", **extra) -> stripe.PaymentIntent:
    return _intent(c, order, payment_method="pm_card_visa", confirm=True, **extra)


def _charge(c: Clients, **extra) -> stripe.Charge:
    return c.secret.v1.charges.create(
        {"amount": 1200, "currency": "usd", "source": "tok_visa", "metadata": {"order_id": "ch-1"}, **extra})


def _customer(c: Clients) -> stripe.Customer:
    return c.secret.v1.customers.create({"email": "jenny@example.com", "name": "Jenny Rosen"})


def _card(c: Clients) -> stripe.PaymentMethod:
    return c.public.v1.payment_methods.create({"type": "card", "card": CARD})


PI, PI_ID = "/v1/payment_intents", "/v1/payment_intents/{intent}"


@endpoint("payment_intents.create", "post", PI)
def _(c):
    return _paid_intent(c, capture_method="automatic", description="conformance")


@endpoint("payment_intents.create[manual]", "post", PI)
def _(c):
    return _paid_intent(c, capture_method="manual")


@endpoint("payment_intents.create[requires_action]", "post", PI)
def _(c):
    return _intent(c, payment_method="pm_card_threeDSecure2Required", confirm=True)


@endpoint("payment_intents.retrieve", "get", PI_ID)
def _(c):
    return c.secret.v1.payment_intents.retrieve(_paid_intent(c).id)


@endpoint("payment_intents.retrieve[client_secret]", "get", PI_ID)
def _(c):
    pi = _intent(c)
    return c.public.v1.payment_intents.retrieve(pi.id, {"client_secret": pi.client_secret})


EXPAND_PI = ("latest_charge", "customer", "payment_method")


@endpoint("payment_intents.retrieve[expand=latest_charge,customer,payment_method]", "get", PI_ID, EXPAND_PI)
def _(c):
    pi = _paid_intent(c, customer=_customer(c).id)
    return c.secret.v1.payment_intents.retrieve(pi.id, {"expand": list(EXPAND_PI)})


@endpoint("payment_intents.update", "post", PI_ID)
def _(c):
    cus = _customer(c)
    return c.secret.v1.payment_intents.update(_intent(c).id, {
        "amount": 1500, "currency": "usd", "description": "updated", "metadata": {"note": "x"},
        "payment_method": "pm_card_visa", "capture_method": "manual", "customer": cus.id})


@endpoint("payment_intents.confirm", "post", f"{PI_ID}/confirm")
def _(c):
    return c.secret.v1.payment_intents.confirm(_intent(c).id, {"payment_method": "pm_card_visa"})


@endpoint("payment_intents.confirm[client_secret]", "post", f"{PI_ID}/confirm")
def _(c):
    pi = _intent(c)
    return c.public.v1.payment_intents.confirm(
        pi.id, {"payment_method": "pm_card_visa", "client_secret": pi.client_secret})


@endpoint("payment_intents.capture", "post", f"{PI_ID}/capture")
def _(c):
    pi = _paid_intent(c, capture_method="manual")
    return c.secret.v1.payment_intents.capture(pi.id, {"amount_to_capture": 700})


@endpoint("payment_intents.cancel", "post", f"{PI_ID}/cancel")
def _(c):
    return c.secret.v1.payment_intents.cancel(_intent(c).id, {"cancellation_reason": "requested_by_customer"})


@endpoint("payment_intents.cancel[requires_capture]", "post", f"{PI_ID}/cancel")
def _(c):
    return c.secret.v1.payment_intents.cancel(_paid_intent(c, capture_method="manual").id)


@endpoint("payment_intents.list", "get", PI)
def _(c):
    cus = _customer(c)
    _paid_intent(c, "list-1", customer=cus.id)
    _paid_intent(c, "list-2", customer=cus.id)
    return c.secret.v1.payment_intents.list({"limit": 2, "customer": cus.id, "created": {"gte": 0}})


@endpoint("payment_intents.search", "get", f"{PI}/search")
def _(c):
    _paid_intent(c, "search-1")
    return c.secret.v1.payment_intents.search({"query": "metadata['order_id']:'search-1' AND status:'succeeded'"})


@endpoint("charges.create", "post", "/v1/charges")
def _(c):
    return _charge(c, description="conformance", capture=True)


@endpoint("charges.create[uncaptured]", "post", "/v1/charges")
def _(c):
    return _charge(c, capture=False)


@endpoint("charges.retrieve", "get", "/v1/charges/{charge}")
def _(c):
    return c.secret.v1.charges.retrieve(_charge(c).id)


@endpoint("charges.retrieve[expand=customer]", "get", "/v1/charges/{charge}", ("customer",))
def _(c):
    return c.secret.v1.charges.retrieve(_charge(c, customer=_customer(c).id).id, {"expand": ["customer"]})


@endpoint("charges.retrieve[expand=payment_intent]", "get", "/v1/charges/{charge}", ("payment_intent",))
def _(c):
    charge = _paid_intent(c).latest_charge or "ch_1"  # stripe-mock's intents have no latest_charge
    return c.secret.v1.charges.retrieve(charge, {"expand": ["payment_intent"]})


@endpoint("charges.capture", "post", "/v1/charges/{charge}/capture")
def _(c):
    return c.secret.v1.charges.capture(_charge(c, capture=False).id, {"amount": 700})


@endpoint("charges.list", "get", "/v1/charges")
def _(c):
    cus = _customer(c)
    _charge(c, customer=cus.id)
    return c.secret.v1.charges.list({"limit": 3, "customer": cus.id})


@endpoint("charges.list[payment_intent]", "get", "/v1/charges")
def _(c):
    return c.secret.v1.charges.list({"limit": 3, "payment_intent": _paid_intent(c).id})


@endpoint("refunds.create", "post", "/v1/refunds")
def _(c):
    return c.secret.v1.refunds.create({"payment_intent": _paid_intent(c).id, "amount": 500,
                                       "reason": "requested_by_customer", "metadata": {"why": "test"}})


@endpoint("refunds.create[charge]", "post", "/v1/refunds")
def _(c):
    return c.secret.v1.refunds.create({"charge": _charge(c).id, "amount": 300})


@endpoint("refunds.retrieve", "get", "/v1/refunds/{refund}")
def _(c):
    return c.secret.v1.refunds.retrieve(c.secret.v1.refunds.create({"payment_intent": _paid_intent(c).id}).id)


@endpoint("refunds.retrieve[expand=charge,payment_intent]", "get", "/v1/refunds/{refund}",
          ("charge", "payment_intent"))
def _(c):
    refund = c.secret.v1.refunds.create({"payment_intent": _paid_intent(c).id})
    return c.secret.v1.refunds.retrieve(refund.id, {"expand": ["charge", "payment_intent"]})


@endpoint("refunds.list", "get", "/v1/refunds")
def _(c):
    pi = _paid_intent(c)
    c.secret.v1.refunds.create({"payment_intent": pi.id, "amount": 100})
    return c.secret.v1.refunds.list({"limit": 3, "payment_intent": pi.id})


@endpoint("refunds.list[charge]", "get", "/v1/refunds")
def _(c):
    ch = _charge(c)
    c.secret.v1.refunds.create({"charge": ch.id, "amount": 100})
    return c.secret.v1.refunds.list({"limit": 3, "charge": ch.id})


@endpoint("customers.create", "post", "/v1/customers")
def _(c):
    return c.secret.v1.customers.create({"email": "jenny@example.com", "name": "Jenny Rosen",
                                         "description": "conformance", "metadata": {"k": "v"}})


@endpoint("customers.create[payment_method]", "post", "/v1/customers")
def _(c):
    return c.secret.v1.customers.create({"email": "jenny@example.com", "payment_method": _card(c).id})


@endpoint("customers.retrieve", "get", "/v1/customers/{customer}")
def _(c):
    return c.secret.v1.customers.retrieve(_customer(c).id)


@endpoint("payment_methods.create", "post", "/v1/payment_methods")
def _(c):
    return _card(c)


@endpoint("payment_methods.retrieve", "get", "/v1/payment_methods/{payment_method}")
def _(c):
    return c.secret.v1.payment_methods.retrieve(_card(c).id)


@endpoint("payment_methods.attach", "post", "/v1/payment_methods/{payment_method}/attach")
def _(c):
    return c.secret.v1.payment_methods.attach(_card(c).id, {"customer": _customer(c).id})


def test_every_cardpay_endpoint_is_compared():
    compared = {name.split("[")[0] for name in ENDPOINTS}
    assert set(CARDPAY.routes) <= compared, f"no conformance test for {sorted(set(CARDPAY.routes) - compared)}"


def test_the_readme_endpoint_table_is_what_cardpay_serves_and_this_suite_compares():
    from mock_providers.cardpay import CardPay

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| `(GET|POST) (/v1/[^` ]+)`[^|]*\| (\w+) \|$", readme, re.M)
    table = {name: (method, path, role) for name, method, path, role in rows}
    served = {r.endpoint: (r.method, r.pattern, CARDPAY.role_of(r.endpoint)) for r in CardPay().router.routes}
    assert table == served
    assert set(table) == {name.split("[")[0] for name in ENDPOINTS}


async def _answer(ep_run: Callable[[Clients], Any], clients: Clients, server: str, what: str) -> dict:
    try:
        return _body(await asyncio.to_thread(ep_run, clients))
    except stripe.StripeError as exc:
        pytest.fail(f"{server} refused the SDK's {what}: HTTP {exc.http_status} {exc.http_body}", pytrace=False)


@pytest.mark.parametrize("name", list(ENDPOINTS))
async def test_cardpay_answers_with_stripe_mocks_shape(name, spec, stripe_mock, cardpay, stripe_client):
    ep = ENDPOINTS[name]
    reference = await _answer(ep.run, _clients(stripe_client, stripe_mock, reference=True), "stripe-mock", name)
    candidate = await _answer(ep.run, _clients(stripe_client, cardpay[0], reference=False), "cardpay", name)
    if reference.get("data") and not candidate.get("data"):
        pytest.fail(f"{name}: cardpay listed nothing for objects made just before (so no element to "
                    f"compare): {json.dumps(candidate)[:300]}", pytrace=False)
    root, schema = reference.get("object", name), spec.response(ep.method, ep.route)
    # stripe-mock leaves many nested objects empty ({}, or a value where cardpay has null):
    # what cardpay puts there is judged by the spec.
    mismatches = compare(reference, candidate, spec, schema, root) + check_types(candidate, spec, schema, root)
    mismatches += [Mismatch(f"{root}.{f}", "object", json_type(candidate.get(f)), "asked for with expand[]")
                   for f in ep.expand
                   if isinstance(reference.get(f), dict) and not isinstance(candidate.get(f), dict)]
    if mismatches:
        pytest.fail(render(mismatches, f"{name} ({ep.method.upper()} {ep.route})"), pytrace=False)


# --- declined cards: 402 envelopes ----------------------------------------------

@dataclass(frozen=True)
class Decline:
    name: str
    run: Callable[[Clients], Any]
    carries: tuple[str, ...]  # objects the envelope embeds, compared with stripe-mock's


DECLINES = {d.name: d for d in (
    Decline("payment_intents.create[declined]",
            lambda c: _intent(c, payment_method="pm_card_visa_chargeDeclined", confirm=True),
            ("payment_intent", "payment_method")),
    Decline("payment_intents.confirm[declined]",
            lambda c: c.secret.v1.payment_intents.confirm(
                _intent(c).id, {"payment_method": "pm_card_visa_chargeDeclined"}),
            ("payment_intent", "payment_method")),
    Decline("charges.create[declined]", lambda c: _charge(c, source="tok_chargeDeclined"), ()),
)}

# What Stripe puts in a card decline (docs.stripe.com/api/errors); stripe-mock cannot show one.
DECLINE_FIELDS = ("type", "code", "decline_code", "message", "doc_url", "charge")


@pytest.mark.parametrize("name", list(DECLINES))
async def test_declined_cards_get_stripes_402_envelope(name, spec, stripe_mock, cardpay, stripe_client):
    decline = DECLINES[name]
    ref_clients = _clients(stripe_client, stripe_mock, reference=True)
    reference = await _answer(decline.run, ref_clients, "stripe-mock", name)  # 200: it ignores test cards
    with pytest.raises(stripe.CardError) as info:
        await asyncio.to_thread(decline.run, _clients(stripe_client, cardpay[0], reference=False))
    assert info.value.http_status == 402
    error = info.value.json_body["error"]
    missing = [f for f in DECLINE_FIELDS + decline.carries if error.get(f) is None]
    assert not missing, f"{name}: the card_error envelope lacks {missing}; it has {sorted(error)}"
    assert error["type"] == "card_error"
    plain = {k: v for k, v in error.items() if k not in decline.carries}
    mismatches = check_types(plain, spec, spec.schemas["api_errors"], "error")
    pm_reference = _body(await asyncio.to_thread(ref_clients.secret.v1.payment_methods.retrieve, "pm_card"))
    for field in decline.carries:
        ref = reference if field == "payment_intent" else pm_reference
        mismatches += compare(ref, error[field], spec, spec.schemas[field], f"error.{field}")
    if mismatches:
        pytest.fail(render(mismatches, f"{name} (402 envelope)"), pytrace=False)


# --- malformed requests -----------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    id: str
    method: str
    path: str  # "{id}" is an object made first by ``make`` on each server
    params: dict[str, str]
    param: str  # the param a rejection names (Stripe's error.param)
    make: str | None = None


MAKERS: dict[str, Callable[[Clients], str]] = {
    "intent": lambda c: _intent(c).id,
    "capturable": lambda c: _paid_intent(c, capture_method="manual").id,
    "succeeded": lambda c: _paid_intent(c).id,
    "charge": lambda c: _charge(c).id,
    "uncaptured": lambda c: _charge(c, capture=False).id,
    "refund": lambda c: c.secret.v1.refunds.create({"payment_intent": _paid_intent(c).id}).id,
    "customer": lambda c: _customer(c).id,
    "card": lambda c: _card(c).id,
}

NEW_PI = {"amount": "1200", "currency": "usd"}
BAD = [
    Bad("pi.create-unknown-param", "POST", PI, {**NEW_PI, "bogus": "1"}, "bogus"),
    Bad("pi.create-amount-abc", "POST", PI, {**NEW_PI, "amount": "abc"}, "amount"),
    Bad("pi.create-amount-decimal", "POST", PI, {**NEW_PI, "amount": "12.5"}, "amount"),
    Bad("pi.create-no-currency", "POST", PI, {"amount": "1200"}, "currency"),
    Bad("pi.create-no-amount", "POST", PI, {"currency": "usd"}, "amount"),
    Bad("pi.create-capture_method-bogus", "POST", PI, {**NEW_PI, "capture_method": "bogus"}, "capture_method"),
    Bad("pi.create-confirm-maybe", "POST", PI, {**NEW_PI, "confirm": "maybe"}, "confirm"),
    Bad("pi.create-expand-not-array", "POST", PI, {**NEW_PI, "expand": "customer"}, "expand"),
    Bad("pi.create-metadata-not-map", "POST", PI, {**NEW_PI, "metadata": "foo"}, "metadata"),
    Bad("pi.create-metadata-nested", "POST", PI, {**NEW_PI, "metadata[a][b]": "c"}, "metadata"),
    Bad("pi.create-pm_data-type-bogus", "POST", PI, {**NEW_PI, "payment_method_data[type]": "bogus"},
        "payment_method_data[type]"),
    Bad("pi.create-pm_data-no-type", "POST", PI,
        {**NEW_PI, "payment_method_data[card][number]": "4242424242424242"}, "payment_method_data[type]"),
    Bad("pi.retrieve-unknown-param", "GET", f"{PI}/{{id}}", {"bogus": "1"}, "bogus", "intent"),
    Bad("pi.retrieve-expand-not-array", "GET", f"{PI}/{{id}}", {"expand": "customer"}, "expand", "intent"),
    Bad("pi.update-amount-abc", "POST", f"{PI}/{{id}}", {"amount": "abc"}, "amount", "intent"),
    Bad("pi.update-capture_method-bogus", "POST", f"{PI}/{{id}}", {"capture_method": "bogus"}, "capture_method",
        "intent"),
    Bad("pi.update-unknown-param", "POST", f"{PI}/{{id}}", {"bogus": "1"}, "bogus", "intent"),
    Bad("pi.confirm-unknown-param", "POST", f"{PI}/{{id}}/confirm", {"bogus": "1"}, "bogus", "intent"),
    Bad("pi.confirm-expand-not-array", "POST", f"{PI}/{{id}}/confirm", {"expand": "customer"}, "expand", "intent"),
    Bad("pi.capture-amount-abc", "POST", f"{PI}/{{id}}/capture", {"amount_to_capture": "abc"}, "amount_to_capture",
        "capturable"),
    Bad("pi.capture-unknown-param", "POST", f"{PI}/{{id}}/capture", {"bogus": "1"}, "bogus", "capturable"),
    Bad("pi.cancel-reason-nonsense", "POST", f"{PI}/{{id}}/cancel", {"cancellation_reason": "nonsense"},
        "cancellation_reason", "intent"),
    Bad("pi.cancel-unknown-param", "POST", f"{PI}/{{id}}/cancel", {"bogus": "1"}, "bogus", "intent"),
    Bad("pi.list-limit-abc", "GET", PI, {"limit": "abc"}, "limit"),
    Bad("pi.list-created-gte-abc", "GET", PI, {"created[gte]": "abc"}, "created"),
    Bad("pi.list-unknown-param", "GET", PI, {"bogus": "1"}, "bogus"),
    Bad("pi.search-no-query", "GET", f"{PI}/search", {"limit": "3"}, "query"),
    Bad("pi.search-limit-abc", "GET", f"{PI}/search", {"query": "status:'succeeded'", "limit": "abc"}, "limit"),
    Bad("pi.search-unknown-param", "GET", f"{PI}/search", {"query": "status:'succeeded'", "bogus": "1"}, "bogus"),
    Bad("ch.create-amount-abc", "POST", "/v1/charges", {**NEW_PI, "source": "tok_visa", "amount": "abc"},
        "amount"),
    Bad("ch.create-capture-maybe", "POST", "/v1/charges", {**NEW_PI, "source": "tok_visa", "capture": "maybe"},
        "capture"),
    Bad("ch.create-unknown-param", "POST", "/v1/charges", {**NEW_PI, "source": "tok_visa", "bogus": "1"}, "bogus"),
    Bad("ch.retrieve-unknown-param", "GET", "/v1/charges/{id}", {"bogus": "1"}, "bogus", "charge"),
    Bad("ch.capture-amount-abc", "POST", "/v1/charges/{id}/capture", {"amount": "abc"}, "amount", "uncaptured"),
    Bad("ch.capture-unknown-param", "POST", "/v1/charges/{id}/capture", {"bogus": "1"}, "bogus", "uncaptured"),
    Bad("ch.list-limit-abc", "GET", "/v1/charges", {"limit": "abc"}, "limit"),
    Bad("ch.list-unknown-param", "GET", "/v1/charges", {"bogus": "1"}, "bogus"),
    Bad("re.create-amount-abc", "POST", "/v1/refunds", {"payment_intent": "{id}", "amount": "abc"}, "amount",
        "succeeded"),
    Bad("re.create-reason-bogus", "POST", "/v1/refunds", {"payment_intent": "{id}", "reason": "bogus"}, "reason",
        "succeeded"),
    Bad("re.create-unknown-param", "POST", "/v1/refunds", {"payment_intent": "{id}", "bogus": "1"}, "bogus",
        "succeeded"),
    Bad("re.retrieve-unknown-param", "GET", "/v1/refunds/{id}", {"bogus": "1"}, "bogus", "refund"),
    Bad("re.list-limit-abc", "GET", "/v1/refunds", {"limit": "abc"}, "limit"),
    Bad("re.list-unknown-param", "GET", "/v1/refunds", {"bogus": "1"}, "bogus"),
    Bad("cus.create-unknown-param", "POST", "/v1/customers", {"email": "a@example.com", "bogus": "1"}, "bogus"),
    Bad("cus.create-metadata-not-map", "POST", "/v1/customers", {"metadata": "foo"}, "metadata"),
    Bad("cus.retrieve-unknown-param", "GET", "/v1/customers/{id}", {"bogus": "1"}, "bogus", "customer"),
    Bad("pm.create-type-bogus", "POST", "/v1/payment_methods", {"type": "bogus"}, "type"),
    Bad("pm.create-exp_month-abc", "POST", "/v1/payment_methods",
        {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "abc", "card[exp_year]": "2040"},
        "card"),
    Bad("pm.create-unknown-param", "POST", "/v1/payment_methods", {"type": "card", "bogus": "1"}, "bogus"),
    Bad("pm.retrieve-unknown-param", "GET", "/v1/payment_methods/{id}", {"bogus": "1"}, "bogus", "card"),
    Bad("pm.attach-unknown-param", "POST", "/v1/payment_methods/{id}/attach", {"bogus": "1"}, "bogus", "card"),
]

# "object property 'payment_method_data' validation failed: object property 'type' is required"
_PROPERTY = re.compile(r"object property '([^']+)'")


def _param_named(message: str) -> str | None:
    """The (bracketed) parameter a stripe-mock validation message names, if any."""
    names = _PROPERTY.findall(message)
    return names[0] + "".join(f"[{n}]" for n in names[1:]) if names else None


def _covers(param: str | None, expected: str) -> bool:
    """'created[gte]' names the same parameter as 'created' (Stripe names the leaf)."""
    return param is not None and (param == expected or param.startswith(expected + "["))


def _send(url: str, bad: Bad, obj_id: str | None) -> requests.Response:
    path = bad.path.replace("{id}", obj_id or "")
    params = {k: (v.replace("{id}", obj_id) if obj_id else v) for k, v in bad.params.items()}
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    with requests.Session() as session:
        if bad.method == "GET":
            return session.get(url + path, params=params, headers=headers, timeout=10)
        return session.post(url + path, data=params, headers=headers, timeout=10)


async def _rejection(url: str, clients: Clients, bad: Bad) -> tuple[int, dict]:
    obj_id = await asyncio.to_thread(MAKERS[bad.make], clients) if bad.make else None
    resp = await asyncio.to_thread(_send, url, bad, obj_id)
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, {"body": resp.text[:300]}


def test_bad_request_table_ids_are_unique():
    assert len({b.id for b in BAD}) == len(BAD)
    assert {b.make for b in BAD} - {None} <= MAKERS.keys()


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
async def test_cardpay_rejects_what_stripe_mock_rejects(bad, stripe_mock, cardpay, stripe_client):
    what = f"{bad.method} {bad.path} {bad.params}"
    ref_status, ref = await _rejection(stripe_mock, _clients(stripe_client, stripe_mock, reference=True), bad)
    if ref_status // 100 != 4:
        pytest.fail(f"stripe-mock accepts {what} (HTTP {ref_status}): drop the row {bad.id!r}", pytrace=False)
    named = _param_named(ref["error"]["message"])
    if named is not None and not _covers(bad.param, named):
        pytest.fail(f"row {bad.id!r} says param={bad.param!r} but stripe-mock complains about {named!r}: "
                    f"{ref['error']['message']}", pytrace=False)
    url = cardpay[0]
    status, got = await _rejection(url, _clients(stripe_client, url, reference=False), bad)
    error = got.get("error") or {}
    if status // 100 != 4 or error.get("type") != "invalid_request_error":
        summary = json.dumps(error or {k: got.get(k) for k in ("object", "id", "status")})
        pytest.fail(f"cardpay answered {what} with HTTP {status} {summary}; stripe-mock: HTTP {ref_status} "
                    f"{ref['error']['message']}", pytrace=False)
    if not _covers(error.get("param"), bad.param):
        pytest.fail(f"{what}: cardpay's error.param is {error.get('param')!r}, expected {bad.param!r}: "
                    f"{json.dumps(error)}", pytrace=False)


async def test_capitalised_true_is_a_boolean(stripe_mock, cardpay, stripe_client):
    """stripe-python < 12 sends confirm=True; Stripe (and stripe-mock) take it as true."""
    params = {**NEW_PI, "payment_method": "pm_card_visa", "confirm": "True", "metadata[order_id]": "cap-true"}
    for server, url in (("stripe-mock", stripe_mock), ("cardpay", cardpay[0])):
        resp = await asyncio.to_thread(_send, url, Bad("confirm-True", "POST", PI, params, ""), None)
        assert resp.status_code == 200, f"{server} refused confirm=True: HTTP {resp.status_code} {resp.text[:300]}"
    assert resp.json()["status"] == "succeeded", f"cardpay did not confirm: {resp.json()}"


# --- the comparator, checked on stripe-mock's own answers ------------------------------

@pytest.mark.parametrize("name", list(ENDPOINTS))
async def test_comparator_accepts_stripe_mock_against_itself(name, spec, stripe_mock, stripe_client):
    ep = ENDPOINTS[name]
    clients = _clients(stripe_client, stripe_mock, reference=True)
    first, second = [await _answer(ep.run, clients, "stripe-mock", name) for _ in range(2)]
    assert compare(first, second, spec, spec.response(ep.method, ep.route), name) == []


@pytest.fixture(scope="module")
def samples(stripe_mock):
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    with requests.Session() as session:
        def get(path):
            return session.get(f"{stripe_mock}{path}", headers=headers, timeout=10).json()
        return {"pi": get("/v1/payment_intents/pi_1"), "charge": get("/v1/charges/ch_1"),
                "refund": get("/v1/refunds/re_1"), "list": get("/v1/refunds?limit=3")}


def _altered(sample: dict, change: Callable[[dict], Any]) -> dict:
    altered = copy.deepcopy(sample)
    change(altered)
    return altered


ALTERATIONS = [
    # (sample, schema, change, the one message expected; None: no mismatch)
    ("pi", "payment_intent", lambda d: d.pop("status"),
     "payment_intent.status: stripe-mock string, cardpay missing (field absent)"),
    ("pi", "payment_intent", lambda d: d.pop("amount_details"),
     "payment_intent.amount_details: stripe-mock object, cardpay missing (field absent; the spec marks it optional)"),
    ("pi", "payment_intent", lambda d: d.update(amount="1200"),
     "payment_intent.amount: stripe-mock integer, cardpay string (different JSON type)"),
    ("pi", "payment_intent", lambda d: d.update(status=None),
     "payment_intent.status: stripe-mock string, cardpay null (null, and the spec does not say nullable)"),
    ("pi", "payment_intent", lambda d: d.update(amount_details=None),
     "payment_intent.amount_details: stripe-mock object, cardpay null (null, and the spec does not say nullable)"),
    ("pi", "payment_intent", lambda d: d.update(canceled_at=None), None),
    ("pi", "payment_intent", lambda d: d.update(last_payment_error=None), None),
    ("pi", "payment_intent", lambda d: d.update(customer="cus_1", description="x"), None),
    ("pi", "payment_intent", lambda d: d.update(metadata={"order_id": "o1"}), None),
    ("pi", "payment_intent", lambda d: d["automatic_payment_methods"].update(enabled="yes"),
     "payment_intent.automatic_payment_methods.enabled: stripe-mock boolean, cardpay string "
     "(different JSON type)"),
    ("pi", "payment_intent", lambda d: d.update(payment_method={"id": "pm_1", "object": "payment_method"}), None),
    ("pi", "payment_intent", lambda d: d.update(currency=7),
     "payment_intent.currency: stripe-mock string, cardpay integer (different JSON type)"),
    ("charge", "charge", lambda d: d["billing_details"]["address"].pop("city"),
     "charge.billing_details.address.city: stripe-mock null, cardpay missing "
     "(field absent; the spec marks it optional)"),
    ("charge", "charge", lambda d: d["payment_method_details"]["card"]["checks"].update(cvc_check=1),
     "charge.payment_method_details.card.checks.cvc_check: stripe-mock string, cardpay integer "
     "(different JSON type)"),
    ("charge", "charge", lambda d: d["payment_method_details"]["card"].update(three_d_secure=None), None),
    ("charge", "charge", lambda d: d["refunds"]["data"][0].pop("amount"),
     "charge.refunds.data[].amount: stripe-mock integer, cardpay missing (field absent)"),
    ("refund", "refund", lambda d: d.update(charge={"id": "ch_1", "object": "charge"}), None),
    ("list", None, lambda d: d["data"].append({**d["data"][0], "amount": "1"}),
     "list.data[].amount: stripe-mock integer, cardpay string (different JSON type)"),
    ("list", None, lambda d: d.update(data=[]), None),
    ("list", None, lambda d: d.pop("has_more"),
     "list.has_more: stripe-mock boolean, cardpay missing (field absent)"),
]


@pytest.mark.parametrize("sample,schema,change,expected", ALTERATIONS,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(ALTERATIONS)])
def test_comparator_names_each_deviation(sample, schema, change, expected, spec, samples):
    reference = samples[sample]
    node = spec.schemas[schema] if schema else spec.response("get", "/v1/refunds")
    found = [str(m) for m in compare(reference, _altered(reference, change), spec, node, reference["object"])]
    assert found == ([expected] if expected else [])


def test_spec_lookup_by_object_type_and_path(spec):
    assert spec.is_nullable("payment_intent", "latest_charge")
    assert spec.is_nullable("payment_intent", "payment_method_options.card.request_three_d_secure")
    assert not spec.is_nullable("payment_intent", "amount")
    assert not spec.is_nullable("charge", "refunds.data[].amount")
    assert spec.is_expandable(spec.at("payment_intent", "customer"))
    assert spec.is_free_map(spec.at("payment_intent", "metadata"))
    assert spec.at("payment_intent", "no_such_field") is None


def test_card_error_envelope_is_judged_by_the_spec(spec):
    error = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
             "message": "Your card was declined.", "doc_url": "https://stripe.com/docs/error-codes/card-declined",
             "charge": "ch_1"}
    assert check_types(error, spec, spec.schemas["api_errors"], "error") == []
    found = [str(m) for m in check_types({**error, "code": 402, "param": None, "declined": True},
                                         spec, spec.schemas["api_errors"], "error")]
    assert found == ["error.code: spec string, cardpay integer (type not allowed by the spec)",
                     "error.param: spec string, cardpay null (the spec does not say nullable)",
                     "error.declined: spec absent, cardpay boolean (not a field in the spec)"]


# --- the gate and the process ---------------------------------------------------------

@pytest.fixture
def absent(tmp_path, monkeypatch):
    monkeypatch.setattr(stripe_mock_module, "BINARY", tmp_path / "stripe-mock")
    return monkeypatch


def test_absent_stripe_mock_is_a_visible_skip_locally(absent):
    absent.delenv("PAYCHAOS_REQUIRE_STRIPE_MOCK", raising=False)
    with pytest.raises(pytest.skip.Exception, match="stripe-mock not installed .*: run make stripe-mock"):
        need_stripe_mock()


def test_absent_stripe_mock_fails_when_required(absent):
    absent.setenv("PAYCHAOS_REQUIRE_STRIPE_MOCK", "1")
    with pytest.raises(pytest.fail.Exception,
                       match="PAYCHAOS_REQUIRE_STRIPE_MOCK is set but stripe-mock not installed"):
        need_stripe_mock()


def _fake_server(tmp_path, body: str):
    fake = tmp_path / "fake-stripe-mock"
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(0o755)
    return fake


def test_a_server_that_dies_at_start_is_named_with_its_output(tmp_path):
    fake = _fake_server(tmp_path, "echo 'bind: address already in use'; exit 3")
    with pytest.raises(StripeMockError,
                       match="exited with status 3 before listening: bind: address already in use"):
        StripeMock(fake, tmp_path / "log").start(timeout=5)


def test_a_silent_server_times_out_and_its_process_group_is_killed(tmp_path):
    child = tmp_path / "child.pid"
    fake = _fake_server(tmp_path, f"sleep 60 & echo $! > {child}; wait")
    server = StripeMock(fake, tmp_path / "log")
    with pytest.raises(StripeMockError, match="printed no HTTP address in time"):
        server.start(timeout=0.5)
    assert server.proc.returncode is not None
    pid, deadline = int(child.read_text()), time.monotonic() + 5
    while _alive(pid):
        assert time.monotonic() < deadline, f"the server's child {pid} outlived stop()"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stripe_mock_listens_on_loopback_only(tmp_path):
    server = StripeMock(need_stripe_mock(), tmp_path / "log")
    url = server.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        log = (tmp_path / "log").read_text()
        assert "Listening for HTTPS at address: 127.0.0.1:" in log, log
    finally:
        server.stop()
    assert server.proc.returncode is not None


# --- what cardpay accepts: every parameter Stripe's spec documents -------------------------

# cardpay is a card acquirer: the other payment-method types' own hashes are not served
# (a request naming one is refused with Stripe's error body, as an integration mismatch).
_NOT_CARD = "payment_methods.create"


def _spec_parameters(spec: Spec, method: str, route: str) -> set[str]:
    op = spec.document["paths"][route][method]
    if method == "get":
        return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    schema = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    return set(schema.get("properties", {}))


def _parameter_tables() -> dict[str, object]:
    from mock_providers.cardpay import charges, customers, payment_intents, payment_methods, refunds

    pi, ch, re_, cu, pm = payment_intents, charges, refunds, customers, payment_methods
    return {"payment_intents.create": pi.CREATE, "payment_intents.retrieve": pi.RETRIEVE,
            "payment_intents.update": pi.UPDATE, "payment_intents.confirm": pi.CONFIRM,
            "payment_intents.capture": pi.CAPTURE, "payment_intents.cancel": pi.CANCEL,
            "payment_intents.list": pi.LIST, "payment_intents.search": pi.SEARCH,
            "charges.create": ch.CREATE, "charges.retrieve": ch.RETRIEVE, "charges.capture": ch.CAPTURE,
            "charges.list": ch.LIST, "refunds.create": re_.CREATE, "refunds.retrieve": re_.RETRIEVE,
            "refunds.list": re_.LIST, "customers.create": cu.CREATE, "customers.retrieve": cu.RETRIEVE,
            "payment_methods.create": pm.CREATE, "payment_methods.retrieve": pm.RETRIEVE,
            "payment_methods.attach": pm.ATTACH}


def test_cardpay_accepts_every_parameter_stripes_spec_documents(spec):
    """A parameter Stripe accepts and cardpay refuses would turn a correct integration into an
    integration error: each endpoint's table holds every parameter of the spec's operation."""
    from mock_providers.cardpay import CardPay

    tables = _parameter_tables()
    assert set(tables) == set(CARDPAY.routes)
    routes = {r.endpoint: r for r in CardPay().router.routes}
    missing = {}
    for endpoint, table in tables.items():
        route = routes[endpoint]
        spec_route = next(p for p in spec.document["paths"]
                          if re.sub(r"\{[^}]+\}", "{id}", p) == route.pattern
                          and route.method.lower() in spec.document["paths"][p])
        want = _spec_parameters(spec, route.method.lower(), spec_route)
        if endpoint == _NOT_CARD:
            want = {p for p in want if p in table.kinds or p in ("type", "card", "billing_details", "metadata")}
        if want - set(table.kinds):
            missing[endpoint] = sorted(want - set(table.kinds))
    assert not missing, f"cardpay would refuse parameters Stripe documents: {missing}"
