"""The evidence builder (``build_evidence``) on hand-written journals, ledgers
and calls: journal entries read as attempts, provider traffic tied to orders
(order reference, the object id in the service's answers, the idempotency-key
chain, the object chain, the object named in a path, and as a last resort
amount and time), the attribution figures the coverage gate reads, when each
attempt was sent, the order's final state and what it was to charge.

Network faults and what reached the service are ``test_reply_fate.py``'s."""

from __future__ import annotations

from harness.evidence.collect import attempt_from_journal, build_evidence
from harness.spec.target import AmountFixed, AmountFromResponse, Correlation

from tests.harness.builders import call, entry, ledger, ledger_entry, order

EMPTY = ledger()


def one_instance(journal: list[dict], book: dict | None = None, *, orders=None, calls=(), **kw):
    return build_evidence(orders or [order()], list(calls), {"p": journal}, {"p": book or EMPTY}, [], **kw)


def owners(ev) -> dict[int, str]:
    """seq -> the order each attempt was tied to."""
    return {a.seq: oid for oid, h in ev.orders.items() for a in h.attempts}


# -- journal entries as attempts ---------------------------------------------------------------------------


def test_a_bare_journal_entry_reads_as_an_unknown_request() -> None:
    a = attempt_from_journal({})
    assert (a.provider, a.type, a.role, a.seq, a.t_start, a.t_end, a.method, a.path, a.endpoint) == \
        ("?", "", "other", 0, 0.0, 0.0, "?", "?", "unknown")
    assert (a.klass, a.failure, a.delivery, a.phase, a.status, a.replayed, a.integration, a.committed) == \
        ("unknown", None, "delivered", "in_call", None, False, False, False)


def test_a_journal_entry_carries_its_answer_and_its_class() -> None:
    a = attempt_from_journal({
        "provider": "p", "type": "cardpay", "role": "charge", "seq": "7", "t_start": 2.5, "t_end": None,
        "method": "POST", "path": "/v1/payment_intents", "endpoint": "payment_intents.create", "order_ref": "ord_1",
        "idempotency_key": "k1", "retry_hint": False, "integration": 1, "delivery": "delivered", "committed": 1,
        "fault": {"kind": "decline"}, "class": "failed", "failure": "decline",
        "headers": {"paychaos-actor": "customer"},
        "response": {"status": 402, "error_type": "card_error", "error_code": "card_declined",
                     "decline_code": "insufficient_funds", "object_id": "pi_1", "object_status": "requires_payment_method",
                     "replayed": 1, "retry_after_s": 2, "error_param": "payment_method"}})
    assert (a.seq, a.t_start, a.t_end) == (7, 2.5, 2.5), "no end recorded: it ended as it began"
    assert (a.status, a.error_type, a.error_code, a.decline_code, a.object_id, a.object_status, a.error_param) == \
        (402, "card_error", "card_declined", "insufficient_funds", "pi_1", "requires_payment_method", "payment_method")
    assert (a.replayed, a.retry_after_s, a.retry_hint, a.integration, a.committed) == (True, 2.0, False, True, True)
    assert (a.klass, a.failure, a.fault, a.phase) == ("failed", "decline", {"kind": "decline"}, "customer")
    assert attempt_from_journal({"t_start": 1.0, "t_end": 3.0}).t_end == 3.0


# -- the evidence as a whole ----------------------------------------------------------------------------------


def test_evidence_holds_every_order_its_calls_in_time_order_and_the_run_figures() -> None:
    a, b = order(1), order(2)
    calls = [call("lookup", 5.0, 5.1, "succeeded"), call("pay", 0.0, 1.0, "pending"),
             call("pay", 0.0, 1.0, "succeeded", order_id="ord_9")]  # an order not submitted: ignored
    ev = build_evidence([a, b], calls, {}, {}, [])
    assert (ev.submitted, ev.journal_dropped, ev.not_submitted, ev.t0) == (2, 0, 0, 0.0)
    assert (ev.instances, ev.exponents, ev.attribution, ev.provider_requests) == ({}, {}, {}, 0)
    assert [c.kind for c in ev.orders["ord_1"].calls] == ["pay", "lookup"] and ev.orders["ord_2"].calls == []
    ev = build_evidence([a], [], {}, {}, [], journal_dropped=3, not_submitted=4, t0=12.5,
                        instances={"p": "cardpay"}, exponents={"usd": 2})
    assert (ev.journal_dropped, ev.not_submitted, ev.t0, ev.instances, ev.exponents) == \
        (3, 4, 12.5, {"p": "cardpay"}, {"usd": 2})


def test_attribution_figures_count_what_was_tied_and_leave_out_refusals() -> None:
    journal = [
        entry(1, 0.1, ref="ord_1", key="k1", obj="pi_1"),
        entry(2, 0.2, ref=None, key="k1"),  # the key chain
        entry(3, 0.3, ref=None, key=None, path="/v1/payment_intents/pi_1", method="GET", role="lookup"),  # the path
        entry(4, 0.4, ref=None, key="kx"),  # nobody's
        entry(5, 0.5, ref=None, key=None, integration=True),  # refused, nobody's: integration.api's to report
        entry(6, 0.6, ref="ord_2", key="k6", integration=True),  # refused, but an order's: counted
    ]
    book = ledger(ledger_entry(1, 0.15, obj="pi_1"), ledger_entry(2, 0.45, 777, obj="pi_z"),
                  ledger_entry(3, 0.9, obj="pi_1", kind="refund"))
    ev = one_instance(journal, book, orders=[order(1), order(2)])
    assert owners(ev) == {1: "ord_1", 2: "ord_1", 3: "ord_1", 6: "ord_2"}
    assert ev.attribution == {"p": {"requests": 5, "unattributed": 1, "ledger": 3, "ledger_unattributed": 1,
                                    "inferred": 0}}
    assert (ev.provider_requests, ev.unattributed_attempts) == (6, 1)
    assert [a.seq for a in ev.unattributed_examples] == [4]
    assert sorted(a.seq for a in ev.integration_errors) == [5, 6]
    assert [e.object_id for e in ev.unattributed_ledger] == ["pi_z"]
    h = ev.orders["ord_1"]
    assert (h.captured, h.refunded, h.net_captured) == (1000, 1000, 0)
    assert all(a.provider == "p" for a in h.attempts) and all(e.provider == "p" for e in h.ledger)


def test_three_unattributed_requests_are_kept_as_examples() -> None:
    ev = one_instance([entry(i, 0.1 * i, ref=None, key=f"k{i}") for i in range(1, 6)])
    assert ev.unattributed_attempts == 5 and [a.seq for a in ev.unattributed_examples] == [1, 2, 3]


def test_instances_join_one_history_with_their_own_figures() -> None:
    ev = build_evidence([order()], [], {"a": [entry(1, 0.1)], "b": [entry(1, 0.2), entry(2, 0.3, ref=None, key="z")]},
                        {"b": ledger(ledger_entry(1, 0.25, obj="pi_b", ref="ord_1"))}, [])
    assert [a.provider for a in ev.orders["ord_1"].attempts] == ["a", "b"]
    assert ev.attribution["a"] == {"requests": 1, "unattributed": 0, "ledger": 0, "ledger_unattributed": 0,
                                   "inferred": 0}
    assert ev.attribution["b"]["requests"] == 2 and ev.attribution["b"]["ledger"] == 1
    assert ev.provider_requests == 3 and ev.orders["ord_1"].captured == 1000


# -- how traffic is tied to orders -----------------------------------------------------------------------


def test_a_later_request_about_the_same_object_joins_the_order() -> None:
    # The first request names no order, under a key of its own; its object is only tied to the order by a
    # request listed after it: the chains run until nothing changes.
    journal = [entry(1, 0.1, ref=None, key="kx", obj="pi_7"), entry(2, 0.2, ref="ord_1", key="ky", obj="pi_7")]
    assert owners(one_instance(journal)) == {1: "ord_1", 2: "ord_1"}


def test_links_chain_through_a_key_then_an_object() -> None:
    journal = [entry(1, 0.1, ref=None, key="k2", obj="pi_5"),  # ...the object of 2
               entry(2, 0.2, ref=None, key="k1", obj="pi_5"),  # the key of 3...
               entry(3, 0.3, ref="ord_1", key="k1")]
    assert owners(one_instance(journal)) == {1: "ord_1", 2: "ord_1", 3: "ord_1"}


def test_the_object_an_order_is_known_by_wins_over_the_key_chain() -> None:
    journal = [entry(1, 0.1, ref="ord_1", key="k1"),
               entry(2, 0.2, ref=None, key="k1", obj="pi_9")]  # ord_2's object, under ord_1's key
    book = ledger(objects=[{"id": "pi_9", "order_ref": "ord_2"}, {"id": "pi_q", "order_ref": "nobody"},
                           {"order_ref": "ord_1"}])
    ev = one_instance(journal + [entry(3, 0.3, ref=None, key="kq", obj="pi_q")], book, orders=[order(1), order(2)])
    assert owners(ev) == {1: "ord_1", 2: "ord_2"}, "an object of an unknown order ties nothing"


def test_an_object_id_that_is_an_order_reference_ties_its_order() -> None:
    assert owners(one_instance([entry(1, 0.1, ref=None, key="kz", obj="ord_1")])) == {1: "ord_1"}


def test_the_object_id_in_the_services_answer_or_a_captured_value_ties_the_order() -> None:
    a, b = order(1), order(2)
    calls = [call("pay", 0.0, 1.0, "succeeded", body={"clientSecret": "pi_A_secret_x"}),
             call("lookup", 2.0, 2.1, "succeeded", order_id="ord_2", body={"clientSecret": "pi_B_secret_y"})]
    calls[0].refs = {"pm": "pm_A"}
    corr = [Correlation.model_validate({"response": "clientSecret", "pattern": "^(pi_[A-Z]+)_secret"}),
            Correlation.model_validate({"capture": "pm"})]
    journal = [entry(1, 0.1, ref=None, key="ka", obj="pm_A"), entry(2, 0.2, ref=None, key="kb", obj="pi_B"),
               entry(3, 0.3, ref=None, key=None, path="/v1/payment_intents/pi_A/confirm")]
    ev = build_evidence([a, b], calls, {"p": journal}, {"p": EMPTY}, [], correlations={"p": corr})
    assert owners(ev) == {1: "ord_1", 2: "ord_2", 3: "ord_1"}


# -- the last resort: amount and time ------------------------------------------------------------------


def test_a_charge_is_inferred_for_the_one_order_whose_pay_call_was_open() -> None:
    a, b = order(1, amount=1200), order(2, amount=3400)
    calls = [call("pay", 0.0, 1.0, "succeeded"), call("pay", 0.2, 1.0, "succeeded", order_id="ord_2")]
    journal = [entry(1, 0.3, ref="ord_1", key="k1", obj="pi_a"), entry(2, 0.5, ref=None, key="x", obj="pi_x"),
               entry(3, 0.6, ref=None, key=None, path="/v1/payment_intents/pi_x/capture")]
    book = ledger(ledger_entry(1, 0.5, 3400, obj="pi_x"))
    ev = build_evidence([a, b], calls, {"p": journal}, {"p": book}, [])
    assert owners(ev) == {1: "ord_1", 2: "ord_2", 3: "ord_2"}
    h = ev.orders["ord_2"]
    assert h.captured == 3400 and h.ledger[0].inferred and [x.inferred for x in h.attempts] == [True, True]
    assert not ev.orders["ord_1"].attempts[0].inferred
    assert ev.attribution["p"]["inferred"] == 1 and ev.unattributed_attempts == 0


def test_the_last_resort_never_moves_a_request_already_tied_to_an_order() -> None:
    a, b = order(1, amount=1200), order(2, amount=3400)
    calls = [call("pay", 0.0, 1.0, "succeeded"), call("pay", 0.2, 1.0, "succeeded", order_id="ord_2")]
    # tied to ord_1 by its reference; it names pi_x, whose charge only ord_2's amount and time fit
    journal = [entry(1, 0.3, ref="ord_1", key="k1", status=None, path="/v1/payment_intents/pi_x/confirm")]
    book = ledger(ledger_entry(1, 0.5, 3400, obj="pi_x"))
    ev = build_evidence([a, b], calls, {"p": journal}, {"p": book}, [])
    assert owners(ev) == {1: "ord_1"} and ev.orders["ord_2"].captured == 3400


def _inferred(t: float, *, pay=(1.0, 2.0), status: int | None = 200, lookup=None, amount: int = 3400,
              currency: str = "usd") -> bool:
    """Is a charge of ``amount`` at ``t`` inferred for ord_1 (pay call ``pay``, answered with ``status``)?
    ord_2, of the same amount, has its pay call long after, and maybe a lookup ``lookup``."""
    calls = [call("pay", *pay, "succeeded", status=status), call("pay", 50.0, 51.0, "succeeded", order_id="ord_2")]
    if lookup:
        calls.append(call("lookup", *lookup, "succeeded", order_id="ord_2"))
    book = ledger(ledger_entry(1, t, amount, obj="pi_x", currency=currency))
    ev = build_evidence([order(1, amount=3400), order(2, amount=3400)], calls, {"p": []}, {"p": book}, [])
    return bool(ev.orders["ord_1"].ledger) and ev.orders["ord_1"].ledger[0].inferred


def test_inference_reads_the_pay_calls_open_span_bounds_included() -> None:
    assert _inferred(1.0) and _inferred(1.5) and _inferred(2.0)
    assert not _inferred(0.99) and not _inferred(2.01), "outside the call"
    assert _inferred(1.5, lookup=(1.0, 2.0)), "another order's lookup open then does not count"
    assert _inferred(30.0, status=None), "a pay call that never answered stays open"
    assert not _inferred(1.5, amount=3300) and not _inferred(1.5, currency="eur")


def test_nothing_already_tied_is_inferred() -> None:
    calls = [call("pay", 0.0, 1.0, "succeeded")]
    journal = [entry(1, 0.3, ref="ord_1", key="k1", obj="pi_1")]
    book = ledger(ledger_entry(1, 0.4, obj="pi_1"), ledger_entry(2, 0.5, obj="pi_2", ref="ord_1"),
                  ledger_entry(3, 0.6, obj="pi_3", kind="refund"))
    ev = build_evidence([order()], calls, {"p": journal}, {"p": book}, [])
    h = ev.orders["ord_1"]
    assert [(e.object_id, e.inferred) for e in h.ledger] == [("pi_1", False), ("pi_2", False)]
    assert ev.attribution["p"]["inferred"] == 0
    assert [e.object_id for e in ev.unattributed_ledger] == ["pi_3"], "a refund is never inferred"


# -- when each attempt was sent, the final state, what was to be charged ----------------------------------


def test_phases_include_the_bounds_of_each_call() -> None:
    calls = [call("pay", 1.0, 2.0, "pending"), call("lookup", 5.0, 6.0, "succeeded")]
    journal = [entry(1, 1.0), entry(2, 2.0), entry(3, 3.0, role="lookup"), entry(4, 5.0, role="lookup"),
               entry(5, 6.0, role="lookup"), entry(6, 3.5, headers={"paychaos-actor": "customer"})]
    ev = one_instance(journal, calls=calls)
    assert {a.seq: a.phase for a in ev.orders["ord_1"].attempts} == {
        1: "in_call", 2: "in_call", 3: "after_answer", 4: "in_lookup", 5: "in_lookup", 6: "customer"}
    assert [a.seq for a in ev.orders["ord_1"].attempts] == [1, 2, 3, 6, 4, 5], "in time order"


def test_an_order_without_a_pay_call_keeps_everything_in_the_call() -> None:
    ev = one_instance([entry(1, 9.0)], calls=[call("lookup", 5.0, 6.0, "succeeded")])
    assert ev.orders["ord_1"].attempts[0].phase == "in_call"


def test_the_final_state_is_the_last_lookups_else_the_pay_answers() -> None:
    looked = one_instance([], calls=[call("pay", 0.0, 1.0, "pending"), call("lookup", 9.0, 9.1, "failed"),
                                     call("lookup", 5.0, 5.1, "pending")]).orders["ord_1"]
    assert (looked.final, looked.final_source) == ("failed", "lookup")
    paid = one_instance([], calls=[call("pay", 0.0, 1.0, "declined")]).orders["ord_1"]
    assert (paid.final, paid.final_source) == ("declined", "pay")
    silent = one_instance([]).orders["ord_1"]
    assert (silent.final, silent.final_source) == (None, "none")


def test_what_the_order_was_to_charge() -> None:
    calls = [call("pay", 0.0, 1.0, "succeeded", body={"order": {"total": True}}),
             call("lookup", 2.0, 2.1, "succeeded", body={"order": {"total": "12.50"}}),
             call("lookup", 3.0, 3.1, "succeeded", body={"order": {"total": "1250"}})]
    o = order(1, amount=1000)
    assert one_instance([], calls=calls).orders["ord_1"].expected_amount == 1000, "from the order by default"
    assert one_instance([], calls=calls, amount=AmountFixed(fixed=1400)).orders["ord_1"].expected_amount == 1400
    from_answer = AmountFromResponse(from_response="order.total")
    assert one_instance([], orders=[o], calls=calls, amount=from_answer).orders["ord_1"].expected_amount == 1250
    assert one_instance([], orders=[o], calls=calls[:2], amount=from_answer).orders["ord_1"].expected_amount is None
    counted = [call("pay", 0.0, 1.0, "succeeded", body={"order": {"total": 990}})]
    assert one_instance([], calls=counted, amount=from_answer).orders["ord_1"].expected_amount == 990
