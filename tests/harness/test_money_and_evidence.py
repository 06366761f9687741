"""Money formatting by currency exponent, the evidence sink's round trip, and
the evidence builder joining several provider instances from their journals
(roles and classes as the providers computed them) and ledgers."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.evidence.collect import build_evidence
from harness.evidence.model import TargetCall
from harness.evidence.money import add_amounts, format_amounts, format_money
from harness.evidence.sink import JsonlSink
from harness.workload.orders import Card, Customer, Order

CARD = Card(name="visa", provider="cardpay", expected="succeeded", category="ok",
            fields={"number": "4242424242424242", "payment_method": "pm_card_visa"})
WHO = Customer(name="A B", email="a@example.org", phone="1", address="x")


def order(i: int, amount: int = 1000, currency: str = "usd") -> Order:
    return Order(index=i, id=f"ord_{i}", amount=amount, currency=currency, description="d", card=CARD, customer=WHO)


@pytest.mark.parametrize("minor,currency,text", [
    (31881, "usd", "318.81 USD"), (5, "usd", "0.05 USD"), (120000, "jpy", "120,000 JPY"), (1234, "kwd", "1.234 KWD"),
    (-250, "eur", "-2.50 EUR"), (0, "krw", "0 KRW"),
])
def test_money_is_formatted_by_exponent_with_its_currency(minor: int, currency: str, text: str) -> None:
    assert format_money(minor, currency) == text


def test_amounts_add_per_currency_never_across() -> None:
    total = add_amounts([{"usd": 1000}, {"jpy": 500}, {"usd": 250}, None, {"eur": 0}])
    assert total == {"usd": 1250, "jpy": 500}
    assert format_amounts(total) == "12.50 USD + 500 JPY"
    assert format_amounts({"huf": 1000}, {"huf": 0}) == "1,000 HUF", "a profile's exponent wins"


def test_the_sink_round_trips_and_holds_no_card_number(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path)
    o = order(1)
    assert o.context()["order"]["card"]["number"] == "4242424242424242", "templates still see the number"
    sink.order(o)
    sink.call(TargetCall(order_id=o.id, kind="pay", t_start=1.0, t_end=1.2, status=200, outcome="succeeded"))
    sink.journal_page("primary", [{"seq": 1, "provider": "primary"}])
    sink.journal_page("backup", [])
    sink.ledger("primary", {"entries": [], "objects": []})
    rec = sink.read()
    sink.close()
    assert [x.id for x in rec.orders] == ["ord_1"] and rec.calls[0].outcome == "succeeded"
    assert rec.journals == {"backup": [], "primary": [{"seq": 1, "provider": "primary"}]}
    assert rec.ledgers == {"primary": {"entries": [], "objects": []}}
    written = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "4242424242424242" not in written


def _entry(instance: str, seq: int, ref: str | None, t: float, *, role: str = "charge", klass: str = "ok",
           failure: str | None = None, key: str = "k", obj: str | None = None, status: int | None = 200) -> dict:
    return {"seq": seq, "provider": instance, "type": "cardpay", "role": role, "class": klass, "failure": failure,
            "t_start": t, "t_end": t + 0.01, "method": "POST", "path": "/x", "endpoint": "x.create",
            "order_ref": ref, "idempotency_key": key, "delivery": "delivered" if status else "dropped",
            "response": {"status": status, "object_id": obj} if status else None}


def test_evidence_joins_every_instance_and_sums_money_across_them() -> None:
    o = order(1, amount=1000)
    journals = {
        "primary": [_entry("primary", 1, "ord_1", 1.0, klass="unknown", failure="dropped", status=None),
                    _entry("primary", 2, None, 1.5, role="lookup", key="k", obj="pi_1")],
        "backup": [_entry("backup", 1, "ord_1", 2.0, obj="pi_9", key="k2")],
    }
    ledgers = {
        "primary": {"entries": [{"seq": 1, "t": 1.005, "kind": "charge", "amount": 1000, "currency": "usd",
                                 "object_id": "pi_1", "order_ref": None}],
                    "objects": [{"id": "pi_1", "order_ref": "ord_1"}]},
        "backup": {"entries": [{"seq": 1, "t": 2.005, "kind": "charge", "amount": 1000, "currency": "usd",
                                "object_id": "pi_9", "order_ref": "ord_1"}], "objects": []},
    }
    ev = build_evidence([o], [], journals, ledgers, [], instances={"primary": "cardpay", "backup": "cardpay"},
                        exponents={"usd": 2})
    h = ev.orders["ord_1"]
    assert [a.provider for a in h.attempts] == ["primary", "primary", "backup"]
    assert [a.role for a in h.charge_attempts] == ["charge", "charge"], "the lookup is no payment attempt"
    assert h.attempts[0].klass == "unknown" and h.attempts[0].failure == "dropped"
    assert ev.unattributed_attempts == 0, "the lookup joined through its idempotency key"
    assert h.captured == 2000 and h.net_captured == 2000, "money from both instances"
    assert ev.money(h.captured - o.amount, o.currency) == "10.00 USD"
    assert [e.object_id for e in h.charges] == ["pi_1", "pi_9"], "joined by object id, then by order ref"


def test_a_charge_in_another_currency_is_kept_apart() -> None:
    o = order(1, amount=1000, currency="usd")
    ledgers = {"p": {"entries": [{"seq": 1, "t": 1.0, "kind": "charge", "amount": 900, "currency": "eur",
                                  "object_id": "x", "order_ref": "ord_1"}], "objects": []}}
    ev = build_evidence([o], [], {"p": []}, ledgers, [])
    h = ev.orders["ord_1"]
    assert h.captured == 0 and [e.currency for e in h.foreign] == ["eur"]


def test_attempts_are_marked_in_call_in_lookup_or_after_answer() -> None:
    o = order(1)
    calls = [TargetCall(order_id=o.id, kind="pay", t_start=0.0, t_end=1.0, status=202, outcome="pending"),
             TargetCall(order_id=o.id, kind="lookup", t_start=3.0, t_end=3.2, status=200, outcome="succeeded")]
    entries = [_entry("p", 1, "ord_1", 0.5), _entry("p", 2, "ord_1", 2.0, role="lookup"),
               _entry("p", 3, "ord_1", 3.1, role="lookup")]
    ev = build_evidence([o], calls, {"p": entries}, {"p": {"entries": [], "objects": []}}, [])
    h = ev.orders["ord_1"]
    assert [a.phase for a in h.attempts] == ["in_call", "after_answer", "in_lookup"]
    assert [a.seq for a in h.in_call_charges] == [1] and [a.seq for a in h.after_answer] == [2]


def test_a_pay_call_that_never_answered_keeps_every_attempt_in_the_call() -> None:
    o = order(1)
    calls = [TargetCall(order_id=o.id, kind="pay", t_start=0.0, t_end=30.0, status=None, error="no answer")]
    ev = build_evidence([o], calls, {"p": [_entry("p", 1, "ord_1", 40.0)]}, {"p": {"entries": [], "objects": []}}, [])
    assert ev.orders["ord_1"].attempts[0].phase == "in_call"


def _pay(o: Order, body: dict, t: float = 0.0) -> TargetCall:
    return TargetCall(order_id=o.id, kind="pay", t_start=t, t_end=t + 1.0, status=200, body=body, outcome="succeeded")


def test_traffic_without_an_order_reference_is_tied_by_the_object_id_in_the_answer() -> None:
    from harness.spec.target import Correlation

    a, b = order(1), order(2)
    calls = [_pay(a, {"clientSecret": "pi_A_secret_x"}), _pay(b, {"clientSecret": "pi_B_secret_y"})]
    journal = [
        _entry("c", 1, None, 0.1, key="ka", obj="pi_A"),  # create: its answer names the object
        _entry("c", 2, None, 0.2, key="ka", status=None),  # a retry under the same key whose reply was lost
        dict(_entry("c", 3, None, 0.3, key="kb", status=None), path="/v1/payment_intents/pi_B/confirm"),
        _entry("c", 4, None, 0.4, key="kz", obj="pi_Z"),  # nobody's
    ]
    ledger = {"entries": [{"seq": 1, "t": 0.15, "kind": "charge", "amount": 1000, "currency": "usd",
                           "object_id": "pi_A", "order_ref": None}], "objects": []}
    corr = [Correlation.model_validate({"response": "clientSecret", "pattern": "^(pi_[A-Z]+)_secret"})]
    ev = build_evidence([a, b], calls, {"c": journal}, {"c": ledger}, [], correlations={"c": corr})
    assert [x.seq for x in ev.orders["ord_1"].attempts] == [1, 2], "by object id, then by the key chain"
    assert [x.seq for x in ev.orders["ord_2"].attempts] == [3], "by the object id in the path"
    assert ev.orders["ord_1"].captured == 1000
    assert ev.unattributed_attempts == 1 and ev.unattributed_examples[0].seq == 4
    assert ev.attribution["c"] == {"requests": 4, "unattributed": 1, "ledger": 1, "ledger_unattributed": 0,
                                   "inferred": 0}


def test_the_services_own_reference_is_mapped_to_the_order() -> None:
    from harness.spec.target import AmountFixed, Correlation

    a = order(1)
    calls = [_pay(a, {"order": {"code": "SHOP-77", "total": 1400}})]
    journal = [_entry("c", 1, "SHOP-77", 0.1, obj="pi_1")]
    ledger = {"entries": [{"seq": 1, "t": 0.15, "kind": "charge", "amount": 1400, "currency": "usd",
                           "object_id": "pi_1", "order_ref": "SHOP-77"}], "objects": []}
    corr = [Correlation.model_validate({"response": "order.code", "as": "reference"})]
    ev = build_evidence([a], calls, {"c": journal}, {"c": ledger}, [], correlations={"c": corr},
                        amount=AmountFixed(fixed=1400))
    h = ev.orders["ord_1"]
    assert len(h.attempts) == 1 and h.captured == 1400 and h.expected_amount == 1400
    from harness.spec.target import AmountFromResponse

    ev = build_evidence([a], calls, {"c": journal}, {"c": ledger}, [], correlations={"c": corr},
                        amount=AmountFromResponse(from_response="order.total"))
    assert ev.orders["ord_1"].expected_amount == 1400
    ev = build_evidence([a], [], {"c": journal}, {"c": ledger}, [], amount=AmountFromResponse(from_response="x"))
    assert ev.orders["ord_1"].expected_amount is None, "no answer said what it charged"


def test_too_much_unattributed_traffic_stops_the_verdicts() -> None:
    from harness.checks import CheckContext, run_checks
    from harness.spec import load_contract, load_scenario, load_target

    repo = Path(__file__).resolve().parents[2]
    target = load_target(repo / "scenarios/targets/reference.yaml")
    ctx = CheckContext(contract=load_contract(repo / "scenarios/contracts/reference.yaml"),
                       scenario=load_scenario(repo / "scenarios/standard/card-declines.yaml", target.spec),
                       target=target.spec)
    a = order(1)
    journal = [_entry("cardpay", i, None, 0.1 * i, key=f"k{i}", obj=f"pi_{i}") for i in range(1, 50)]
    journal.append(_entry("cardpay", 50, "ord_1", 5.0, key="k50"))
    ev = build_evidence([a], [_pay(a, {})], {"cardpay": journal}, {"cardpay": {"entries": [], "objects": []}}, [])
    verdicts = {v.check: v for v in run_checks(list(ctx.scenario.checks), ev, ctx)}
    gate = verdicts["attribution.coverage"]
    assert gate.status == "error" and "cardpay: 49 of 50 requests (98%, more than 2%)" in gate.reason
    assert "providers.cardpay.correlate" in gate.reason and "seq 1: POST /x" in gate.reason
    assert verdicts["money.no_double_charge"].status == "skipped"
    assert verdicts["money.no_double_charge"].reason.startswith("not judged: attribution.coverage")
    fine = build_evidence([a], [_pay(a, {})], {"cardpay": journal[-1:]}, {"cardpay": {"entries": [], "objects": []}},
                          [])
    (ok,) = run_checks(["attribution.coverage"], fine, ctx)
    assert ok.status == "pass" and ok.measured == "1 of 1 provider requests and ledger entries tied to orders"


def test_the_last_resort_ties_by_amount_and_time_and_says_so() -> None:
    a, b = order(1, amount=1200), order(2, amount=3400)
    calls = [_pay(a, {}, t=0.0), _pay(b, {}, t=0.2)]  # both open at t=0.5: the amount decides
    journal = [_entry("c", 1, None, 0.5, key="x", obj="pi_x")]
    ledger = {"entries": [{"seq": 1, "t": 0.5, "kind": "charge", "amount": 3400, "currency": "usd",
                           "object_id": "pi_x", "order_ref": None}], "objects": []}
    ev = build_evidence([a, b], calls, {"c": journal}, {"c": ledger}, [])
    h = ev.orders["ord_2"]
    assert h.captured == 3400 and h.ledger[0].inferred and h.attempts[0].inferred
    assert ev.attribution["c"]["inferred"] == 1 and ev.unattributed_attempts == 0
    same = order(3, amount=3400)  # two orders of one amount open at that moment: nothing is inferred
    ev = build_evidence([same, b], [_pay(same, {}, t=0.1), _pay(b, {}, t=0.2)], {"c": journal}, {"c": ledger}, [])
    assert ev.unattributed_attempts == 1 and len(ev.unattributed_ledger) == 1
