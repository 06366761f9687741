"""Journal bounds and spill, ledger, idempotency store (no sockets)."""

from __future__ import annotations

import json

import pytest

from mock_providers.core.http import Request
from mock_providers.core.idempotency import IN_USE, MISMATCH, NEW, REPLAY, IdempotencyStore
from mock_providers.core.journal import Exchange, Journal, mask_param, redact_header
from mock_providers.core.ledger import Ledger


def _ex(seq: int) -> Exchange:
    req = Request("POST", "/v1/payment_intents", "", {b"authorization": b"Bearer sk_test_secret123"},
                  b"amount=1", True, float(seq), None)
    ex = Exchange(seq, req, "payment_intents.create", f"req_{seq}")
    ex.params = {"amount": "1", "payment_method_data[card][number]": "4242424242424242",
                 "payment_method_data[card][cvc]": "123"}
    ex.delivery = "delivered"
    return ex


def test_without_spill_old_entries_are_counted_as_dropped():
    j = Journal("cardpay", capacity=10)
    for i in range(1, 26):
        j.append(_ex(i))
    assert len(j) == 10
    page = j.query(after=0, limit=100)
    assert [e["seq"] for e in page["entries"]] == list(range(16, 26))
    assert page["dropped"] == 15 and page["next"] == 25


def test_spilled_entries_land_in_jsonl_and_read_back(tmp_path):
    j = Journal("cardpay", capacity=10, spill_dir=str(tmp_path), batch=4)
    for i in range(1, 41):
        j.append(_ex(i))
    lines = (tmp_path / "cardpay.journal.jsonl").read_text().splitlines()
    spilled = [json.loads(x)["seq"] for x in lines]
    assert spilled == list(range(1, len(spilled) + 1)) and len(spilled) >= 28
    page = j.query(after=3, limit=1000)
    assert [e["seq"] for e in page["entries"]] == list(range(4, 41))
    assert page["dropped"] == 0
    page = j.query(after=5, limit=7)
    assert [e["seq"] for e in page["entries"]] == list(range(6, 13)) and page["next"] == 12
    j.close()
    lines = (tmp_path / "cardpay.journal.jsonl").read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == list(range(1, 41))


def test_entry_shape_and_masking():
    e = _ex(1).to_dict("cardpay")
    assert e["params"]["payment_method_data[card][number]"] == "************4242"
    assert e["params"]["payment_method_data[card][cvc]"] == "***"
    assert e["headers"]["authorization"] == "Bearer sk_test_****"
    assert len(e["body_sha256"]) == 64 and e["wall"].endswith("Z")
    assert mask_param("amount", "5") == "5"
    assert redact_header("authorization", "Basic abcdef") == "Basic abc****"


def test_journal_rejects_zero_capacity():
    with pytest.raises(ValueError, match="capacity=0 is invalid"):
        Journal("cardpay", capacity=0)


def test_idempotency_rules_and_ttl():
    now = [0.0]
    store = IdempotencyStore(ttl_s=10, clock=lambda: now[0])
    verdict, rec = store.begin("k", "e", "/p", b"a=1&b=2", {"a": "1", "b": "2"})
    assert verdict == NEW
    assert store.begin("k", "e", "/p", b"a=1&b=2", {"a": "1", "b": "2"})[0] == IN_USE
    store.complete(rec, 200, b"{}", b"", (200,), "req_1")
    assert store.begin("k", "e", "/p", b"a=1&b=2", {"a": "1", "b": "2"}) == (REPLAY, rec)
    # The same parameters in another order are the same request.
    assert store.begin("k", "e", "/p", b"b=2&a=1", {"b": "2", "a": "1"})[0] == REPLAY
    assert store.begin("k", "e", "/p", b"a=2&b=2", {"a": "2", "b": "2"})[0] == MISMATCH
    assert store.begin("k", "e2", "/q", b"a=1&b=2", {"a": "1", "b": "2"})[0] == MISMATCH
    now[0] = 10.0
    assert store.begin("k", "e", "/p", b"a=2", {"a": "2"})[0] == NEW  # expired: a fresh request


def test_idempotency_abandon_saves_nothing_and_cap_prunes_oldest():
    store = IdempotencyStore(max_keys=3, clock=lambda: 0.0)
    _, rec = store.begin("a", "e", "/p", b"", {})
    store.abandon(rec)
    verdict, rec = store.begin("a", "e", "/p", b"", {})
    assert verdict == NEW
    store.complete(rec, 200, b"", b"", (200,), "r")
    for key in "bcdef":
        _, rec = store.begin(key, "e", "/p", b"", {})
        store.complete(rec, 200, b"", b"", (200,), "r")
    assert len(store) <= 4
    assert store.begin("a", "e", "/p", b"", {})[0] == NEW  # the oldest key was pruned


def test_ledger_entries_and_totals():
    ledger = Ledger()
    ledger.charge(1000, "usd", "pi_1", "o1", "k1")
    ledger.refund(400, "usd", "pi_1", "re_1", "o1", "k2")
    entries = ledger.entries()
    assert [e["kind"] for e in entries] == ["charge", "refund"]
    assert set(entries[0]) == {"seq", "t", "wall", "kind", "amount", "currency", "object_id", "refund",
                               "order_ref", "idempotency_key"}
    assert ledger.totals() == {"pi_1": (1000, 400)}
