"""A hypothesis state machine over CardPay's idempotency layer and ledger,
driven in-process (no sockets): money is conserved, a key never yields two
charges, and a replay is byte-for-byte the original answer."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mock_providers.cardpay import CardPay
from mock_providers.core.http import Request

KEYS = st.sampled_from([f"key{i}" for i in range(6)])
ORDERS = st.sampled_from([f"ord{i}" for i in range(4)])
CARDS = st.sampled_from(["pm_card_visa", "pm_card_visa_chargeDeclined", "pm_card_threeDSecure2Required",
                         "pm_card_chargeDeclinedProcessingError"])


def call(provider: CardPay, method: str, path: str, params: dict, key: str | None = None):
    headers = {b"authorization": b"Bearer sk_test_machine"}
    if key is not None:
        headers[b"idempotency-key"] = key.encode()
    body = urlencode(params).encode() if method == "POST" else b""
    query = "" if method == "POST" else urlencode(params)
    reply = provider(Request(method, path, query, headers, body, True, time.monotonic(), None))
    head, _, payload = reply.data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    replayed = b"Idempotent-Replayed: true" in head
    return status, payload, replayed


class IdempotencyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.p = CardPay(seed=3)
        self.first: dict[str, tuple[str, dict, int, bytes]] = {}  # key -> (path, params, status, body)
        self.intents: list[str] = []

    def _keyed(self, path: str, params: dict, key: str) -> tuple[int, bytes]:
        status, body, replayed = call(self.p, "POST", path, params, key)
        if key in self.first:
            fpath, fparams, fstatus, fbody = self.first[key]
            if fpath == path and fparams == params:
                assert replayed, "a saved key must replay"
                assert (status, body) == (fstatus, fbody), "replay differs from the original"
            else:
                assert status == 400 and json.loads(body)["error"]["type"] == "idempotency_error"
        elif status < 400 or status in (402, 500):
            self.first[key] = (path, params, status, body)  # execution began: saved
        else:
            # Validation failures are not saved: the same key may be used again.
            assert not replayed
        return status, body

    @rule(key=KEYS, order=ORDERS, card=CARDS, amount=st.sampled_from([500, 1200]))
    def pay(self, key, order, card, amount):
        params = {"amount": str(amount), "currency": "usd", "payment_method": card, "confirm": "true",
                  "metadata[order_id]": order}
        status, body = self._keyed("/v1/payment_intents", params, key)
        data = json.loads(body)
        pi = data.get("id") or (data.get("error", {}).get("payment_intent") or {}).get("id")
        if pi:
            self.intents.append(pi)

    @rule(key=KEYS, which=st.integers(0, 20), amount=st.sampled_from([None, 100, 700, 5000]))
    def refund(self, key, which, amount):
        if not self.intents:
            return
        params = {"payment_intent": self.intents[which % len(self.intents)]}
        if amount is not None:
            params["amount"] = str(amount)
        self._keyed("/v1/refunds", params, key)

    @rule(which=st.integers(0, 20))
    def retrieve(self, which):
        if self.intents:
            status, _, replayed = call(self.p, "GET", f"/v1/payment_intents/{self.intents[which % len(self.intents)]}", {})
            assert status == 200 and not replayed

    @invariant()
    def money_is_conserved(self):
        totals = self.p.ledger.totals()
        for intent in self.p.store.intents.values():
            charged, refunded = totals.get(intent.id, (0, 0))
            assert charged == intent.amount_received
            assert refunded == intent.amount_refunded
            assert 0 <= refunded <= charged
            assert charged in (0, intent.amount)

    @invariant()
    def a_key_never_charges_twice(self):
        seen: dict[str, int] = {}
        for entry in self.p.ledger.entries():
            if entry["kind"] == "charge":
                seen[entry["idempotency_key"]] = seen.get(entry["idempotency_key"], 0) + 1
        assert all(n == 1 for n in seen.values()), seen


IdempotencyMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestIdempotencyMachine = IdempotencyMachine.TestCase
