"""Every cardpay endpoint driven by three official SDKs: stripe-python 16.x (in
this process), stripe-python 11.x (a subprocess on tools/stripe11: it sends
booleans as ``True``/``False``) and the Node SDK (a subprocess on
examples/node_shop/node_modules).

All three run ONE plan (sdk_drive/plan.json: the step sequence and its
parameters) and are judged by ONE table (``EXPECT``: step, endpoint and what
the answer must say), then by the journal (one entry per step, on the right
endpoint, with the step's status) and by the ledger (authorize / charge /
release / refund per order). A failing run lists every failing step at once.

``test_wire_encoding`` runs the same drivers against a local capture server
(no provider) and pins how each SDK puts the plan on the wire.

Skips: stripe 11 without tools/stripe11 (``make stripe-sdk11``; a failure with
PAYCHAOS_REQUIRE_STRIPE11=1); Node without ``node`` or the node_shop install
(``make node_shop``; a failure with PAYCHAOS_REQUIRE_NODE_SHOP=1, as
tests/e2e/test_node_shop.py).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from mock_providers.cardpay.profile import PROFILE as CARDPAY

from ._helpers import sdk
from .sdk_drive.plan import load_plan, run_plan

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DRIVE = Path(__file__).with_name("sdk_drive")
STRIPE11 = REPO / "tools" / "stripe11"
NODE_SHOP = REPO / "examples" / "node_shop"
RUN = "sdk"  # the plan's order prefix: order ids are sdk-manual, sdk-hold, ...
SK, PK = "sk_test_paychaos", "pk_test_paychaos"
DRIVER_TIMEOUT_S = 120.0

ENDPOINTS = set(CARDPAY.routes)  # every endpoint cardpay serves


# -- the expectations ----------------------------------------------------------------------------------------
class Ctx:
    """The run's records by step; ``"$step.field"`` in an expectation is that step's answer's field
    (a declined create's PaymentIntent id is ``error.payment_intent.id``)."""

    def __init__(self, records: list[dict]):
        self.by_step = {r["step"]: r for r in records}

    def ref(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            step, _, name = value[1:].partition(".")
            rec = self.by_step.get(step) or {}
            body = rec.get("body") or ((rec.get("error") or {}).get("payment_intent") or {})
            return body.get(name, f"<{step} has no {name}>")
        if isinstance(value, str):
            return value.replace("{run}", RUN)
        if isinstance(value, list):
            return [self.ref(v) for v in value]
        if isinstance(value, dict):
            return {k: self.ref(v) for k, v in value.items()}
        return value


@dataclass(frozen=True)
class Prefix:
    text: str

    def __eq__(self, other):  # a field that must start with text
        return isinstance(other, str) and other.startswith(self.text)

    def __repr__(self):
        return f"{self.text}..."


@dataclass(frozen=True)
class Expect:
    step: str
    endpoint: str
    fields: dict = field(default_factory=dict)  # answer fields (ok, 200) or error fields (with status)
    status: int = 200
    more: Callable[[dict, Ctx], None] | None = None  # further asserts on the body

    def check(self, rec: dict, ctx: Ctx) -> None:
        want = ctx.ref(self.fields)
        if self.status == 200:
            assert rec["ok"] and rec["status"] == 200, f"want 200, got {rec['status']}: {rec['error']}"
            got = rec["body"]
        else:
            assert not rec["ok"] and rec["status"] == self.status, \
                f"want {self.status}, got {rec['status']}: {rec['error'] or 'a success'}"
            got = rec["error"]
        wrong = {k: (got.get(k, "<absent>"), v) for k, v in want.items() if not v == got.get(k, "<absent>")}
        assert not wrong, "got != want: " + ", ".join(f"{k}={g!r} (want {w!r})" for k, (g, w) in wrong.items())
        if self.more is not None:
            self.more(got, ctx)


def _card_4242(body, ctx):
    assert (body.get("card") or {}).get("last4") == "4242", f"card={body.get('card')}"


def _one_item(body, ctx):
    assert len(body["ids"]) == 1, f"ids={body['ids']}"


def _next_page(body, ctx):
    first = ctx.by_step["charge_list_p1"]["body"] or {"ids": []}
    assert len(body["ids"]) == 1 and body["ids"] != first["ids"], f"page 2 {body['ids']} after {first['ids']}"


def _the_intents_charge(body, ctx):
    pi = ctx.ref("$pi_manual_create.id")
    got = [(c.get("payment_intent"), c.get("captured"), c.get("amount_captured")) for c in body["data"]]
    assert got == [(pi, True, 1500)], f"(payment_intent, captured, amount_captured) per charge: {got}"


CARD_ERROR = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}

EXPECT: list[Expect] = [
    Expect("customer_create", "customers.create",
           {"object": "customer", "id": Prefix("cus_"), "email": "ada@example.com", "name": "Ada Buyer",
            "metadata": {"order_id": "{run}-cus"}}),
    Expect("customer_retrieve", "customers.retrieve",
           {"id": "$customer_create.id", "email": "ada@example.com", "description": "sdk drive"}),
    Expect("pm_create", "payment_methods.create",
           {"object": "payment_method", "id": Prefix("pm_"), "type": "card", "customer": None}, more=_card_4242),
    Expect("pm_attach", "payment_methods.attach", {"id": "$pm_create.id", "customer": "$customer_create.id"}),
    Expect("pm_retrieve", "payment_methods.retrieve", {"id": "$pm_create.id", "customer": "$customer_create.id"},
           more=_card_4242),
    # Manual capture: confirmed -> requires_capture with the whole amount held; a partial capture.
    Expect("pi_manual_create", "payment_intents.create",
           {"object": "payment_intent", "id": Prefix("pi_"), "status": "requires_capture", "amount": 2000,
            "amount_capturable": 2000, "amount_received": 0, "capture_method": "manual",
            "customer": "$customer_create.id", "payment_method": "$pm_create.id",
            "metadata": {"order_id": "{run}-manual"}}),
    Expect("pi_manual_capture", "payment_intents.capture",
           {"id": "$pi_manual_create.id", "status": "succeeded", "amount_received": 1500, "amount_capturable": 0}),
    Expect("pi_manual_retrieve", "payment_intents.retrieve",
           {"id": "$pi_manual_create.id", "status": "succeeded", "amount": 2000, "amount_received": 1500}),
    Expect("refund_partial", "refunds.create",
           {"object": "refund", "id": Prefix("re_"), "amount": 500, "status": "succeeded", "currency": "usd",
            "payment_intent": "$pi_manual_create.id", "reason": "requested_by_customer"}),
    Expect("refund_rest", "refunds.create",  # no amount: what is left of the 1500 captured
           {"object": "refund", "amount": 1000, "status": "succeeded", "payment_intent": "$pi_manual_create.id"}),
    Expect("refund_retrieve", "refunds.retrieve", {"id": "$refund_partial.id", "amount": 500}),
    Expect("refund_list", "refunds.list",
           {"object": "list", "has_more": False, "ids": ["$refund_rest.id", "$refund_partial.id"]}),
    # A hold canceled.
    Expect("pi_hold_create", "payment_intents.create",
           {"status": "requires_capture", "amount_capturable": 800, "capture_method": "manual"}),
    Expect("pi_hold_cancel", "payment_intents.cancel",
           {"id": "$pi_hold_create.id", "status": "canceled", "cancellation_reason": "requested_by_customer",
            "amount_capturable": 0, "amount_received": 0}),
    # Updated (amount, metadata: "" unsets a key), then confirmed by the browser (publishable key + client secret).
    Expect("pi_open_create", "payment_intents.create",
           {"status": "requires_payment_method", "amount": 1000, "client_secret": Prefix("pi_"),
            "metadata": {"order_id": "{run}-open", "scratch": "x"}},
           more=lambda b, ctx: _secret_of(b)),
    Expect("pi_open_update", "payment_intents.update",
           {"id": "$pi_open_create.id", "status": "requires_payment_method", "amount": 3000,
            "description": "three tickets", "metadata": {"order_id": "{run}-open", "note": "updated"}}),
    Expect("pm_create_pk", "payment_methods.create", {"object": "payment_method", "id": Prefix("pm_")},
           more=_card_4242),
    Expect("pi_open_confirm_pk", "payment_intents.confirm",
           {"id": "$pi_open_create.id", "status": "succeeded", "amount": 3000, "payment_method": "$pm_create_pk.id"}),
    Expect("pi_open_retrieve_pk", "payment_intents.retrieve",
           {"id": "$pi_open_create.id", "status": "succeeded", "client_secret": "$pi_open_create.client_secret"}),
    # A decline is a 402 card error carrying the intent.
    Expect("pi_declined", "payment_intents.create", CARD_ERROR, status=402,
           more=lambda e, ctx: _declined_intent(e)),
    # Lists: newest first, cursor pages, filters; search.
    Expect("pi_list_p1", "payment_intents.list",
           {"object": "list", "has_more": True, "ids": ["$pi_declined.id", "$pi_open_create.id"]}),
    Expect("pi_list_p2", "payment_intents.list",
           {"object": "list", "has_more": False, "ids": ["$pi_hold_create.id", "$pi_manual_create.id"]}),
    Expect("pi_list_customer", "payment_intents.list",
           {"object": "list", "has_more": False, "ids": ["$pi_manual_create.id"]}),
    Expect("pi_search", "payment_intents.search",
           {"object": "search_result", "has_more": False, "ids": ["$pi_open_create.id"]}),
    # Charges: an authorisation (capture=false) captured later; a plain charge; a declined one.
    Expect("charge_hold_create", "charges.create",
           {"object": "charge", "id": Prefix("ch_"), "status": "succeeded", "paid": True, "captured": False,
            "amount": 1500, "amount_captured": 0, "metadata": {"order_id": "{run}-chhold"}}),
    Expect("charge_hold_capture", "charges.capture",
           {"id": "$charge_hold_create.id", "captured": True, "amount_captured": 1500, "status": "succeeded"}),
    Expect("charge_retrieve", "charges.retrieve",
           {"id": "$charge_hold_create.id", "captured": True, "amount_captured": 1500, "description": "auth only"}),
    Expect("charge_create", "charges.create",
           {"object": "charge", "status": "succeeded", "paid": True, "captured": True, "amount": 700,
            "amount_captured": 700}),
    Expect("charge_declined", "charges.create", CARD_ERROR, status=402),
    Expect("charge_list_p1", "charges.list", {"object": "list", "has_more": True}, more=_one_item),
    Expect("charge_list_p2", "charges.list", {"object": "list"}, more=_next_page),
    Expect("charge_list_pi", "charges.list", {"object": "list", "has_more": False}, more=_the_intents_charge),
    Expect("refund_charge", "refunds.create",
           {"object": "refund", "amount": 200, "status": "succeeded", "charge": "$charge_create.id"}),
    Expect("refund_list_charge", "refunds.list", {"object": "list", "ids": ["$refund_charge.id"]}),
]


def _secret_of(body):
    assert body["client_secret"].startswith(body["id"] + "_secret_"), f"client_secret={body['client_secret']}"


def _declined_intent(err):
    pi = err.get("payment_intent") or {}
    assert pi.get("id", "").startswith("pi_") and pi.get("status") == "requires_payment_method", \
        f"error.payment_intent={pi}"


# (order_ref, kind, amount) of every ledger entry the plan makes (usd throughout).
LEDGER = Counter({
    (f"{RUN}-manual", "authorize", 2000): 1, (f"{RUN}-manual", "charge", 1500): 1,
    (f"{RUN}-manual", "release", 500): 1, (f"{RUN}-manual", "refund", 500): 1, (f"{RUN}-manual", "refund", 1000): 1,
    (f"{RUN}-hold", "authorize", 800): 1, (f"{RUN}-hold", "release", 800): 1,
    (f"{RUN}-open", "charge", 3000): 1,
    (f"{RUN}-chhold", "authorize", 1500): 1, (f"{RUN}-chhold", "charge", 1500): 1,
    (f"{RUN}-charge", "charge", 700): 1, (f"{RUN}-charge", "refund", 200): 1,
})
# The object each order's money moves on (authorize/charge/release entries).
LEDGER_OBJECT = {f"{RUN}-manual": "$pi_manual_create.id", f"{RUN}-hold": "$pi_hold_create.id",
                 f"{RUN}-open": "$pi_open_create.id", f"{RUN}-chhold": "$charge_hold_create.id",
                 f"{RUN}-charge": "$charge_create.id"}
# Within one order: the hold first, then captures/releases, then refunds.
RANK = {"authorize": 0, "charge": 1, "release": 1, "refund": 2}


def test_the_table_is_the_plan():
    """One table for one plan: same steps, same endpoints, same order; all 20 endpoints and a publishable key."""
    plan = load_plan()
    assert [(s["step"], s["endpoint"]) for s in plan] == [(e.step, e.endpoint) for e in EXPECT]
    assert {s["endpoint"] for s in plan} == ENDPOINTS
    pk = [(s["endpoint"], sorted(s["params"])) for s in plan if s["key"] == "pk"]
    assert ("payment_intents.confirm", ["client_secret", "payment_method"]) in pk


async def judge(records: list[dict], ctl, sdk_name: str) -> None:
    """Every step against EXPECT, then the journal and the ledger; one failure listing everything wrong."""
    problems: list[str] = []
    steps = [r["step"] for r in records]
    if steps != [e.step for e in EXPECT]:
        problems.append(f"the driver ran steps {steps}")
    ctx = Ctx(records)
    for exp in EXPECT:
        rec = ctx.by_step.get(exp.step)
        if rec is None:
            continue
        try:
            exp.check(rec, ctx)
        except (AssertionError, KeyError, TypeError, AttributeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""  # not pytest's rewritten-assert detail
            problems.append(f"{exp.step} ({exp.endpoint}): {type(exc).__name__}: {first}")

    journal = (await ctl.journal())["entries"]
    got = [(e["endpoint"], e["response"]["status"]) for e in journal]
    want = [(r["endpoint"], r["status"]) for r in records]
    if got != want:
        problems.append("journal (endpoint, status) per request != the steps':\n    "
                        + "\n    ".join(f"{'  ' if g == w else '!='} {g!s:55} {w}" for g, w in _zip_longest(got, want)))

    entries = (await ctl.ledger())["entries"]
    seen = Counter((e["order_ref"], e["kind"], e["amount"]) for e in entries)
    if seen != LEDGER:
        problems.append(f"ledger: missing {sorted((LEDGER - seen).elements())},"
                        f" unexpected {sorted((seen - LEDGER).elements())}")
    for e in entries:
        obj = LEDGER_OBJECT.get(e["order_ref"])
        if e["currency"] != "usd":
            problems.append(f"ledger entry in {e['currency']}: {e}")
        if obj is not None and e["kind"] != "refund" and e["object_id"] != ctx.ref(obj):
            problems.append(f"ledger {e['kind']} of {e['order_ref']} on {e['object_id']}, want {ctx.ref(obj)}")
    for ref in LEDGER_OBJECT:
        ranks = [RANK.get(e["kind"], 9) for e in entries if e["order_ref"] == ref]
        if ranks != sorted(ranks):
            problems.append(f"ledger order of {ref}: {[e['kind'] for e in entries if e['order_ref'] == ref]}")
    if problems:
        pytest.fail(f"{sdk_name}: {len(problems)} problem(s):\n- " + "\n- ".join(problems), pytrace=False)


def _zip_longest(a, b):
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else "-", b[i] if i < len(b) else "-") for i in range(n)]


async def journal_param(ctl, endpoint: str, name: str, nth: int = 0) -> str | None:
    entries = [e for e in (await ctl.journal())["entries"] if e["endpoint"] == endpoint]
    return entries[nth]["params"].get(name) if len(entries) > nth else None


# -- stripe-python 16 (this process) ---------------------------------------------------------------------------
def py16_call(sk_client, pk_client):
    calls = {
        "customers.create": lambda c, i, p: c.v1.customers.create(p),
        "customers.retrieve": lambda c, i, p: c.v1.customers.retrieve(i, p),
        "payment_methods.create": lambda c, i, p: c.v1.payment_methods.create(p),
        "payment_methods.retrieve": lambda c, i, p: c.v1.payment_methods.retrieve(i, p),
        "payment_methods.attach": lambda c, i, p: c.v1.payment_methods.attach(i, p),
        "payment_intents.create": lambda c, i, p: c.v1.payment_intents.create(p),
        "payment_intents.retrieve": lambda c, i, p: c.v1.payment_intents.retrieve(i, p),
        "payment_intents.update": lambda c, i, p: c.v1.payment_intents.update(i, p),
        "payment_intents.confirm": lambda c, i, p: c.v1.payment_intents.confirm(i, p),
        "payment_intents.capture": lambda c, i, p: c.v1.payment_intents.capture(i, p),
        "payment_intents.cancel": lambda c, i, p: c.v1.payment_intents.cancel(i, p),
        "payment_intents.list": lambda c, i, p: c.v1.payment_intents.list(p),
        "payment_intents.search": lambda c, i, p: c.v1.payment_intents.search(p),
        "charges.create": lambda c, i, p: c.v1.charges.create(p),
        "charges.retrieve": lambda c, i, p: c.v1.charges.retrieve(i, p),
        "charges.capture": lambda c, i, p: c.v1.charges.capture(i, p),
        "charges.list": lambda c, i, p: c.v1.charges.list(p),
        "refunds.create": lambda c, i, p: c.v1.refunds.create(p),
        "refunds.retrieve": lambda c, i, p: c.v1.refunds.retrieve(i, p),
        "refunds.list": lambda c, i, p: c.v1.refunds.list(p),
    }

    def call(endpoint, key, ident, params):
        obj = calls[endpoint](sk_client if key == "sk" else pk_client, ident, params)
        return obj.last_response.code, obj.last_response.data

    return call


async def test_stripe_python_16_drives_every_endpoint(cardpay, stripe_client):
    url, ctl = cardpay
    call = py16_call(stripe_client(url, key=SK), stripe_client(url, key=PK))
    records = await sdk(run_plan, call, RUN)
    await judge(records, ctl, "stripe-python 16")
    assert await journal_param(ctl, "payment_intents.create", "confirm") == "true"
    assert await journal_param(ctl, "charges.create", "capture") == "false"


# -- stripe-python 11 and Node (subprocesses) -------------------------------------------------------------------
def _required(env: str) -> bool:
    return os.environ.get(env, "") not in ("", "0", "false", "no")


def _skip_or_fail(env: str, problem: str) -> None:
    if _required(env):
        pytest.fail(f"{env} is set but {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture
def py11_cmd():
    if not (STRIPE11 / "stripe" / "__init__.py").is_file():
        _skip_or_fail("PAYCHAOS_REQUIRE_STRIPE11",
                      "tools/stripe11 (stripe-python 11.6.1) is absent: make stripe-sdk11")
    env = {**os.environ, "PYTHONPATH": str(STRIPE11)}
    return [sys.executable, str(DRIVE / "drive_py11.py")], env


@pytest.fixture
def node_cmd():
    # As tests/e2e/test_node_shop.py: a visible skip, or a failure with PAYCHAOS_REQUIRE_NODE_SHOP=1.
    if shutil.which("node") is None:
        _skip_or_fail("PAYCHAOS_REQUIRE_NODE_SHOP", "node is not on PATH (examples/node_shop needs Node.js 20+)")
    if not (NODE_SHOP / "node_modules" / "stripe" / "package.json").is_file():
        _skip_or_fail("PAYCHAOS_REQUIRE_NODE_SHOP",
                      "examples/node_shop/node_modules is not installed: "
                      "npm ci --prefix examples/node_shop --no-audit --no-fund (or make node_shop)")
    return [shutil.which("node"), str(DRIVE / "drive_node.js")], dict(os.environ)


def run_driver(cmd_env, url: str) -> tuple[dict, list[dict]]:
    """(the driver's header line, its step records); a driver crash or a stray line fails the test."""
    cmd, env = cmd_env
    proc = subprocess.run([*cmd, url, "--run", RUN, "--sk", SK, "--pk", PK], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S)
    assert proc.returncode == 0, f"driver exit {proc.returncode}\nstderr:\n{proc.stderr[-4000:]}"
    lines = proc.stdout.splitlines()
    try:
        parsed = [json.loads(line) for line in lines]
    except ValueError:
        pytest.fail(f"driver printed a line that is not JSON:\n{proc.stdout[-4000:]}", pytrace=False)
    return parsed[0], parsed[1:]


async def test_stripe_python_11_drives_every_endpoint(cardpay, py11_cmd):
    url, ctl = cardpay
    head, records = await asyncio.to_thread(run_driver, py11_cmd, url)
    assert head == {"sdk": "stripe-python", "version": "11.6.1"}
    await judge(records, ctl, "stripe-python 11.6.1")
    # What this test exists for: stripe-python < 12 sends booleans capitalised, and cardpay takes them.
    assert await journal_param(ctl, "payment_intents.create", "confirm") == "True"
    assert await journal_param(ctl, "charges.create", "capture") == "False"


async def test_node_sdk_drives_every_endpoint(cardpay, node_cmd):
    url, ctl = cardpay
    head, records = await asyncio.to_thread(run_driver, node_cmd, url)
    assert head == {"sdk": "stripe-node", "version": "23.1.0"}
    await judge(records, ctl, "stripe-node 23.1.0")
    assert await journal_param(ctl, "payment_intents.create", "confirm") == "true"


# -- what each SDK puts on the wire (a capture server, no provider) ----------------------------------------------
class _Capture(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.seen: list[dict] = []
        super().__init__(("127.0.0.1", 0), _CaptureHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


_OBJECTS = {"payment_intents": "pi", "charges": "ch", "refunds": "re", "customers": "cus", "payment_methods": "pm"}


class _CaptureHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        self.server.seen.append({"method": self.command, "path": self.path, "body": body,
                                 "headers": {k.lower(): v for k, v in self.headers.items()}})
        parts = self.path.partition("?")[0].strip("/").split("/")  # v1, resource[, id[, action]]
        kind = _OBJECTS.get(parts[1] if len(parts) > 1 else "", "obj")
        item = {"id": f"{kind}_cap", "object": parts[1][:-1] if len(parts) > 1 else "obj",
                "client_secret": f"{kind}_cap_secret_x"}
        if self.command == "GET" and len(parts) == 3 and parts[2] == "search":
            answer = {"object": "search_result", "data": [item], "has_more": False, "url": self.path}
        elif self.command == "GET" and len(parts) == 2:
            answer = {"object": "list", "data": [item], "has_more": False, "url": self.path}
        else:
            answer = item
        out = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def capture():
    server = _Capture()
    thread = threading.Thread(target=server.serve_forever, name="sdk-capture", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# (booleans as sent, GET query brackets as sent) per SDK
WIRE = {"py16": ("true", "false", "%5B"), "py11": ("True", "False", "%5B"), "node": ("true", "false", "[")}


@pytest.mark.parametrize("which", sorted(WIRE))
def test_wire_encoding(request, capture, stripe_client, which):
    if which == "py16":
        records = run_plan(py16_call(stripe_client(capture.url, key=SK), stripe_client(capture.url, key=PK)), RUN)
    else:
        _, records = run_driver(request.getfixturevalue(f"{which}_cmd"), capture.url)
    assert [r["step"] for r in records] == [e.step for e in EXPECT]
    assert all(r["ok"] for r in records), [r for r in records if not r["ok"]]
    seen = capture.seen
    assert len(seen) == len(EXPECT)
    true, false, bracket = WIRE[which]
    by_step = dict(zip((e.step for e in EXPECT), seen))

    # Booleans: stripe-python < 12 sends str(True) == "True"; 16 and Node send "true".
    assert f"&confirm={true}&" in f"&{by_step['pi_manual_create']['body']}&"
    assert f"&capture={false}&" in f"&{by_step['charge_hold_create']['body']}&"
    # Bodies: brackets raw (not %5B), arrays indexed, nested objects flattened, "" sent as an empty value.
    manual = by_step["pi_manual_create"]["body"].split("&")
    assert "expand[0]=customer" in manual and f"metadata[order_id]={RUN}-manual" in manual
    card = by_step["pm_create"]["body"].split("&")
    assert "card[number]=4242424242424242" in card and "card[exp_month]=12" in card
    assert "metadata[scratch]=" in by_step["pi_open_update"]["body"].split("&")
    # Query strings: Python percent-encodes brackets, Node leaves them raw.
    assert by_step["pi_search"]["path"].startswith(f"/v1/payment_intents/search?query=metadata{bracket}")
    assert by_step["pi_list_p2"]["path"] == "/v1/payment_intents?limit=2&starting_after=pi_cap"
    assert by_step["pi_open_retrieve_pk"]["path"] == "/v1/payment_intents/pi_cap?client_secret=pi_cap_secret_x"
    # Headers: form bodies, a Stripe-Version, Bearer auth with the step's key, an Idempotency-Key on every POST.
    for step, req in by_step.items():
        key = PK if step.endswith("_pk") else SK
        assert req["headers"]["authorization"] == f"Bearer {key}", step
        assert req["headers"].get("stripe-version"), step
        if req["method"] == "POST":
            assert req["headers"]["content-type"] == "application/x-www-form-urlencoded", step
            assert req["headers"].get("idempotency-key"), step
        else:
            assert req["body"] == "", step
