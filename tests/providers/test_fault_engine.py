"""Seeded, interleaving-independent fault decisions (no sockets)."""

from __future__ import annotations

import math
import random

import pytest

from mock_providers.core.fault_engine import FaultEngine, draw
from mock_providers.core.faults import FaultRuleError


def _engine(seed=7, **rule):
    eng = FaultEngine("cardpay", seed)
    eng.add({"kind": "status", "status": 503, **rule})
    return eng


def test_draw_is_a_pure_function():
    assert draw(1, "cardpay", "f1", "o1", 3) == draw(1, "cardpay", "f1", "o1", 3)
    assert draw(1, "cardpay", "f1", "o1", 3) != draw(2, "cardpay", "f1", "o1", 3)
    assert 0.0 <= draw(1, "p", "r", "o", 1) < 1.0


def test_rate_within_binomial_tolerance():
    n, p = 4000, 0.2
    eng = _engine(rate=p)
    hits = sum(eng.decide("POST", "/v1/payment_intents", f"o{i}", i) is not None for i in range(n))
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) < 4 * sigma, (hits, n * p, sigma)


def _schedule(order):
    """Decisions per (order, attempt) for a given interleaving of requests."""
    eng = _engine(rate=0.3)
    out = {}
    for seq, (ref, attempt) in enumerate(order, 1):
        out[(ref, attempt)] = eng.decide("POST", "/v1/payment_intents", ref, seq) is not None
    return out


def test_same_seed_same_decisions_whatever_the_interleaving():
    requests = [(f"o{i}", a) for i in range(300) for a in range(1, 4)]
    shuffled = requests[:]
    random.Random(99).shuffle(shuffled)
    # Keep each order's own attempts in order (a client never reorders its own retries).
    by_order: dict[str, list[int]] = {}
    for ref, a in shuffled:
        by_order.setdefault(ref, []).append(a)
    fixed = []
    counters = {ref: iter(sorted(v)) for ref, v in by_order.items()}
    for ref, _ in shuffled:
        fixed.append((ref, next(counters[ref])))
    first, second = _schedule(requests), _schedule(fixed)
    assert first == second
    assert 0 < sum(first.values()) < len(first)


def test_another_seed_gives_another_schedule():
    a = _engine(seed=1, rate=0.5)
    b = _engine(seed=2, rate=0.5)
    da = [a.decide("GET", "/x", f"o{i}", i) is not None for i in range(200)]
    db = [b.decide("GET", "/x", f"o{i}", i) is not None for i in range(200)]
    assert da != db


def test_first_n_per_order():
    eng = _engine(first_n=2)
    for ref in ("a", "b"):
        got = [eng.decide("POST", "/v1/payment_intents", ref, 0) is not None for _ in range(4)]
        assert got == [True, True, False, False]


def test_first_n_rate_selects_orders():
    n, p = 2000, 0.25
    eng = _engine(first_n=1, rate=p)
    selected = 0
    for i in range(n):
        first = eng.decide("POST", "/v1/payment_intents", f"o{i}", i) is not None
        second = eng.decide("POST", "/v1/payment_intents", f"o{i}", i) is not None
        assert not second
        selected += first
    assert abs(selected - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_requests_without_order_ref_use_the_sequence():
    a = _engine(rate=0.5)
    b = _engine(rate=0.5)
    da = [a.decide("GET", "/x", None, seq) is not None for seq in range(1, 100)]
    db = [b.decide("GET", "/x", None, seq) is not None for seq in range(1, 100)]
    assert da == db


def test_match_method_and_path():
    eng = _engine(match={"method": "POST", "path": "/v1/payment_intents*"})
    assert eng.decide("POST", "/v1/payment_intents/pi_1/confirm", "o", 1) is not None
    assert eng.decide("GET", "/v1/payment_intents/pi_1", "o", 2) is None
    assert eng.decide("POST", "/v1/refunds", "o", 3) is None


def test_first_rule_that_fires_wins_and_ids():
    eng = FaultEngine("cardpay", 1)
    r1 = eng.add({"kind": "drop", "rate": 0})
    r2 = eng.add({"kind": "status", "status": 502})
    assert (r1.id, r2.id) == ("f1", "f2")
    decision = eng.decide("POST", "/v1/refunds", "o", 1)
    assert decision.rule_id == "f2" and decision.kind == "status" and decision.effect.status == 502
    assert decision.journal()[:2] == ("f2", "status")
    with pytest.raises(FaultRuleError, match="already active"):
        eng.add({"id": "f2", "kind": "drop"})
    assert eng.remove("f1") and not eng.remove("f1")
    eng.reset()
    assert eng.add({"kind": "drop"}).id == "f1"
