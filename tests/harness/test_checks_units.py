"""Every registered check, clause by clause, as a pure function of hand-built
evidence: a correct history passes (with its measured figure), a wrong one fails
naming why, and each skip says its reason. Boundaries are tested at the exact
figure the contract names (a wait equal to the backoff, a share equal to the
limit). Also: the registry and the runner in ``harness.checks.base``, the
example histories verdicts carry, and cardpay's answers mapped onto classes by
``ProviderProfile.classify``."""

from __future__ import annotations

import dataclasses

import pytest

from harness.checks import FAMILIES, REGISTRY, Check, resolve_checks, run_checks
from harness.checks import base as checks_base
from harness.checks import money as money_checks
from harness.checks.base import pick_examples, render_history
from harness.evidence.model import Evidence, OrderHistory
from harness.spec.contract import MoneyClause
from mock_providers.cardpay.profile import PROFILE as CARDPAY
from mock_providers.core.profile import AnswerRule, IdempotencyCarrier, ProviderProfile

from tests.harness.builders import (CONTRACT, CTX, TARGET, attempt, backoff_with, call, charge, ctx_with, evidence,
                                   history, late, lookup, order, retry_with, target_with, verdict)

DECLINED = dict(decline="insufficient_funds")
CLEAR = {"status": "failed", "error": {"type": "card_declined", "message": "The card was declined.",
                                       "action": "Use another card", "contact": "support@example.org"}}


def boom(ev, ctx):
    raise RuntimeError("bug in a check")


# -- the registry and the runner ---------------------------------------------------------------------------


def test_clauses_are_registered_with_their_family_and_flags() -> None:
    assert FAMILIES["retry"] == ["retry.max_attempts", "retry.transient", "retry.never_retry", "retry.backoff",
                                 "retry.honour_retry_after"]
    for cid in ("integration.api", "attribution.coverage"):
        assert REGISTRY[cid].gate and REGISTRY[cid].always, "a gate always runs"
    for cid in ("money.no_double_charge", "money.no_orphan_capture", "money.state_matches_ledger", "money.all_final"):
        assert REGISTRY[cid].always and not REGISTRY[cid].gate, cid
    for cid in ("retry.backoff", "errors.required", "degradation.max_response_ms", "reconcile.replay"):
        assert not REGISTRY[cid].always and not REGISTRY[cid].gate, cid
    assert REGISTRY["retry.backoff"].family == "retry" and REGISTRY["retry.backoff"].severity == "major"
    # The decorator hands the function back: the module keeps it under its own name.
    assert money_checks.no_double_charge is REGISTRY["money.no_double_charge"].fn


def test_checks_and_contexts_are_frozen() -> None:
    plain = Check("x.y", "x", "minor", "a clause", boom)
    assert (plain.always, plain.gate) == (False, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.always = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CTX.target = TARGET.spec  # type: ignore[misc]


def test_verify_names_families_or_clauses_and_money_always_comes_first() -> None:
    always = [cid for cid, c in REGISTRY.items() if c.always]
    chosen, problems = resolve_checks(["retry", "retry.backoff", "errors.required", "bogus", "money.all_final"])
    assert chosen == always + FAMILIES["retry"] + ["errors.required"], "no duplicates, in the order named"
    assert [i for i, _ in problems] == [3]
    assert problems[0][1].startswith("unknown check 'bogus'") and "; families: attribution, " in problems[0][1]
    assert resolve_checks([]) == (always, [])


def test_a_check_that_errors_does_not_stop_the_others_unless_it_is_a_gate(monkeypatch) -> None:
    monkeypatch.setitem(checks_base._registry, "retry.backoff",
                        dataclasses.replace(REGISTRY["retry.backoff"], fn=boom))
    h = history([attempt(0.0, 200)], "succeeded", charges=1)
    verdicts = run_checks(["retry.backoff", "money.all_final"], evidence(h), CTX)
    assert [v.status for v in verdicts] == ["error", "pass"]
    assert verdicts[0].reason == "the check raised RuntimeError: bug in a check"
    assert "traceback" in verdicts[0].figures


def test_when_both_gates_would_error_the_first_one_says_why(monkeypatch) -> None:
    monkeypatch.setitem(checks_base._registry, "integration.api",
                        dataclasses.replace(REGISTRY["integration.api"], fn=boom))
    monkeypatch.setitem(checks_base._registry, "attribution.coverage",
                        dataclasses.replace(REGISTRY["attribution.coverage"], fn=boom))
    verdicts = run_checks(["integration.api", "attribution.coverage", "money.all_final"], Evidence(), CTX)
    assert [v.status for v in verdicts] == ["error", "skipped", "skipped"]
    assert verdicts[1].reason == ("not judged: integration.api says the evidence cannot be trusted (see its "
                                  "verdict)")


def test_a_skip_says_when_some_traffic_could_not_be_tied_to_orders() -> None:
    h = history([attempt(0.0, 200)], "succeeded", charges=1)
    stray = [charge(500, obj="pi_x", ref=None)]
    v = verdict("retry.backoff", h, unattributed_attempts=2, unattributed_ledger=stray)
    assert v.reason == ("no payment was retried, so no backoff could be measured (among the traffic tied to orders; "
                        "2 provider requests and 1 ledger entries could not be tied to any)")
    v = verdict("retry.backoff", h, unattributed_attempts=2)
    assert v.reason.endswith("; 2 provider requests and 0 ledger entries could not be tied to any)")
    gate = verdict("integration.api", h, unattributed_attempts=2)
    assert gate.reason == "no request reached a provider", "a gate's skip is about all the traffic"
    judged = verdict("money.all_final", h, unattributed_attempts=2)
    assert (judged.status, judged.reason) == ("pass", ""), "only a skip gets the note"


def test_a_verdict_has_a_one_line_headline() -> None:
    h = history([attempt(0.0, 200)], "succeeded", charges=1)
    assert verdict("money.all_final", h).headline() == "money.all_final: PASS - all 1 orders final"
    skip = verdict("retry.backoff", h)
    assert skip.headline() == "retry.backoff: SKIPPED - no payment was retried, so no backoff could be measured"
    assert (skip.judged, skip.offenders, skip.measured) == (0, 0, "")
    assert skip.where.startswith(str(CONTRACT.doc.file))


def test_the_example_history_is_the_whole_order_relative_to_its_first_event() -> None:
    o = order()
    h = OrderHistory(order=o, final="succeeded", final_source="lookup", calls=[
        call("pay", 100.0, 100.01234, "succeeded"),
        call("lookup", 101.500012, 101.6, None, status=None, error="no complete answer within 5s"),
        call("lookup", 102.0, 102.1, None, status=502, body=None, text="Bad gateway"),
    ], attempts=[
        attempt(100.00123456, 429, dur=0.01234, retry_after=2.0, fault={"kind": "rate_limit"},
                network_fault="lag"),
        attempt(100.5, 200, phase="customer", replayed=True),
        attempt(101.0, 200, inferred=True),
    ], ledger=[charge(1000, t=100.750012, obj="pi_9").model_copy(update={"inferred": True})])
    rendered = render_history(h)
    assert rendered["order"] == {"id": "ord_1", "amount": 1000, "currency": "usd", "card": "visa",
                                 "expected": "succeeded"}
    assert (rendered["amount_text"], rendered["net_captured"], rendered["net_captured_text"]) == \
        ("10.00 USD", 1000, "10.00 USD")
    assert (rendered["final"], rendered["final_source"]) == ("succeeded", "lookup")
    ev = rendered["events"]
    assert [e["t"] for e in ev] == [0.0, 0.0012, 0.5, 0.75, 1.0, 1.5, 2.0]
    pay, retried, customer, money, inferred, lost, garbled = ev
    assert pay == {"t": 0.0, "who": "workload->target", "what": "pay", "result": "HTTP 200 succeeded",
                   "elapsed_ms": 12.3, "body": {"status": "succeeded"}}
    assert retried == {"t": 0.0012, "who": "target->cardpay", "what": "POST /v1/payment_intents", "role": "charge",
                       "result": "429", "class": "failed", "failure": "rate_limited", "key": "k1",
                       "elapsed_ms": 12.3, "fault": "rate_limit", "network_fault": "lag", "retry_after_s": 2.0}
    assert customer["who"] == "customer->cardpay" and customer["replayed"] is True and "inferred" not in customer
    assert money == {"t": 0.75, "who": "cardpay ledger", "what": "charge", "result": "10.00 USD",
                     "object_id": "pi_9", "inferred": True}
    assert inferred["who"] == "target->cardpay" and inferred["inferred"] is True
    assert not {"fault", "network_fault", "retry_after_s", "replayed"} & set(inferred)
    assert lost["result"] == "no complete answer within 5s" and "body" not in lost and "text" not in lost
    assert garbled["result"] == "HTTP 502 unreadable" and garbled["text"] == "Bad gateway"


def test_an_order_with_only_ledger_entries_is_rendered_from_time_zero() -> None:
    h = OrderHistory(order=order(), ledger=[charge(1000, t=5.0)])
    assert [e["t"] for e in render_history(h)["events"]] == [5.0]


def test_examples_are_the_first_the_worst_and_the_last_offender_once_each() -> None:
    hs = [history([], "failed", o=order(i)) for i in range(1, 5)]
    assert pick_examples([]) == []
    assert [e.order_id for e in pick_examples([(hs[0], "why", 1.0)])] == ["ord_1"]
    four = [(hs[0], "a", 1.0), (hs[1], "b", 2.0), (hs[2], "c", 9.0), (hs[3], "d", 1.0)]
    assert [(e.order_id, e.why) for e in pick_examples(four)] == [("ord_1", "a"), ("ord_3", "c"), ("ord_4", "d")]
    assert [e.order_id for e in pick_examples(four, limit=2)] == ["ord_1", "ord_3"]


# -- the gates: integration.api and attribution.coverage ----------------------------------------------------


def refused(seq: int, status: int, *, path: str = "/v1/payment_intents", code: str | None = None,
            param: str | None = None, endpoint: str = "payment_intents.create", ref: str | None = None):
    return attempt(0.1 * seq, status, error_code=code, ref=ref, seq=seq).model_copy(
        update={"integration": True, "error_param": param, "path": path, "endpoint": endpoint})


def test_integration_names_each_refused_request_and_what_the_mock_serves() -> None:
    bad = [refused(1, 400, code="parameter_unknown", param="amount", ref="ord_1"),
           refused(2, 400, code="parameter_unknown", param="amount"),
           refused(3, 401, path="/v1/refunds"),
           refused(4, 404, path="/v1/charges", endpoint="unknown")]
    ev = Evidence(provider_requests=10, integration_errors=bad, routes={"cardpay": ["POST /v1/payment_intents"]})
    (v,) = run_checks(["integration.api"], ev, CTX)
    assert v.status == "error" and (v.judged, v.offenders) == (10, 4)
    assert v.reason == (
        "4 of 10 provider requests were refused as not understood, with no fault injected: "
        "2 x cardpay: POST /v1/payment_intents -> 400 parameter_unknown (parameter amount) (first at seq 1, order "
        "ord_1); 1 x cardpay: POST /v1/refunds -> 401 (first at seq 3, order unknown); 1 x cardpay: POST "
        "/v1/charges -> 404 not served by this provider (first at seq 4, order unknown). Either the service calls "
        "the provider wrongly or the mock does not serve this part of the API (cardpay serves POST "
        "/v1/payment_intents)")
    assert v.figures["refused"][0] == {"instance": "cardpay", "request": "POST /v1/payment_intents -> 400 "
                                       "parameter_unknown (parameter amount)", "count": 2}


def test_integration_lists_five_kinds_of_refusal_at_most() -> None:
    bad = [refused(i, 400, code=f"parameter_{i}") for i in range(1, 7)]
    (v,) = run_checks(["integration.api"], Evidence(provider_requests=6, integration_errors=bad), CTX)
    assert "parameter_5" in v.reason and "parameter_6" not in v.reason
    assert v.reason.endswith("does not serve this part of the API"), "no routes known: nothing to add"
    assert len(v.figures["refused"]) == 6


def test_integration_passes_understood_traffic() -> None:
    (v,) = run_checks(["integration.api"], Evidence(provider_requests=7), CTX)
    assert (v.status, v.measured, v.judged) == ("pass", "7 provider requests, none refused as not understood", 7)


def coverage(attribution: dict, ctx=CTX, **kw):
    (v,) = run_checks(["attribution.coverage"], Evidence(attribution=attribution, **kw), ctx)
    return v


def stats(requests: int = 0, unattributed: int = 0, ledger: int = 0, ledger_unattributed: int = 0, **kw) -> dict:
    return {"requests": requests, "unattributed": unattributed, "ledger": ledger,
            "ledger_unattributed": ledger_unattributed, **kw}


def test_coverage_at_the_limit_passes_and_counts_what_was_tied() -> None:
    v = coverage({"cardpay": stats(100, 2, 50, 1, inferred=2), "backup": stats(10)})
    assert v.status == "pass" and (v.judged, v.offenders) == (160, 3)
    assert v.measured == ("157 of 160 provider requests and ledger entries tied to orders (2 ledger entries only "
                          "by amount and time)")
    assert v.figures["cardpay"]["requests"] == 100
    v = coverage({"cardpay": stats(0, 0, 3, 0)})
    assert (v.status, v.measured) == ("pass", "3 of 3 provider requests and ledger entries tied to orders")
    v = coverage({"cardpay": stats(0)})
    assert (v.status, v.reason) == ("skipped", "no request reached a provider and no ledger moved")
    assert coverage({}).status == "skipped"


def test_coverage_over_the_limit_stops_the_run_with_examples_and_the_fix() -> None:
    examples = [attempt(0.1, 200, ref="R1", key="k" * 40, seq=1), attempt(0.2, 200, ref=None, key=None, seq=2),
                attempt(0.3, 200, seq=3), attempt(0.4, 200, seq=4)]
    v = coverage({"cardpay": stats(100, 3, 4, 2), "backup": stats(100, 3)}, unattributed_examples=examples)
    assert v.status == "error" and (v.judged, v.offenders) == (204, 8)
    assert v.reason.startswith(
        "could not be tied to any order: backup: 3 of 100 requests (3%, more than 2%), cardpay: 3 of 100 requests "
        "(3%, more than 2%), cardpay: 2 of 4 ledger entries (50%, more than 2%). For example: cardpay seq 1: POST "
        f"/v1/payment_intents (order ref R1, key {'k' * 32}); cardpay seq 2: POST /v1/payment_intents (order ref "
        "none, key none); cardpay seq 3: POST /v1/payment_intents (order ref ord_1, key k1). To judge this service, "
        "tie them to orders in the target file: providers.backup.order_ref")


def test_coverage_uses_the_target_files_limit_for_its_instances() -> None:
    lenient = dataclasses.replace(CTX, target=TARGET.spec.model_copy(update={"providers": {
        "cardpay": TARGET.spec.providers["cardpay"].model_copy(update={"unattributed_max": 0.5})}}))
    assert coverage({"cardpay": stats(100, 10)}, ctx=lenient).status == "pass"
    assert coverage({"cardpay": stats(100, 10)}).status == "error"
    assert coverage({"cardpay": stats(100, 51)}, ctx=lenient).status == "error"


# -- money ----------------------------------------------------------------------------------------------------


def test_no_double_charge_on_correct_histories() -> None:
    once = history([attempt(0.0, 200)], "succeeded", charges=1)
    refunded = history([attempt(0.0, 200, ref="ord_2")], "succeeded", o=order(2), ledger=[
        charge(1000, obj="pi_a", ref="ord_2"), charge(1000, obj="pi_b", ref="ord_2"),
        charge(1000, obj="pi_b", ref="ord_2", kind="refund")])
    v = verdict("money.no_double_charge", once, refunded)
    assert (v.status, v.measured, v.judged) == ("pass", "2 charged orders, each captured at most once", 2)
    v = verdict("money.no_double_charge", history([attempt(0.0, 503)], "failed"))
    assert (v.status, v.reason) == ("skipped", "no order was charged, so no double charge could be seen")


def test_a_double_charge_of_one_minor_unit_is_a_double_charge() -> None:
    h = history([attempt(0.0, 200)], "succeeded", ledger=[charge(1000, obj="pi_a"), charge(1, obj="pi_b")])
    v = verdict("money.no_double_charge", h)
    assert v.status == "fail" and v.money_at_risk == {"usd": 1}
    assert v.examples[0].why == "captured 10.01 USD for an order of 10.00 USD (2 captures: cardpay:pi_a, cardpay:pi_b)"
    assert v.measured == "1 of 1 charged orders were charged more than once; 0.01 USD over-captured"


def test_a_double_charge_partly_refunded_says_so() -> None:
    h = history([attempt(0.0, 200)], "succeeded", ledger=[
        charge(1000, obj="pi_a"), charge(1000, obj="pi_b"), charge(500, obj="pi_b", kind="refund")])
    v = verdict("money.no_double_charge", h)
    assert v.status == "fail" and v.money_at_risk == {"usd": 500}
    assert v.examples[0].why.endswith("(2 captures: cardpay:pi_a, cardpay:pi_b), refunded 5.00 USD")


def test_no_orphan_capture_on_correct_histories() -> None:
    paid = history([attempt(0.0, 200)], "succeeded", charges=1)
    failed = history([attempt(0.0, 503, ref="ord_2")], "failed", o=order(2))
    refunded = history([attempt(0.0, 200, ref="ord_3")], "failed", o=order(3), ledger=[
        charge(1000, obj="pi_r", ref="ord_3"), charge(1000, obj="pi_r", ref="ord_3", kind="refund")])
    v = verdict("money.no_orphan_capture", paid, failed, refunded)
    assert (v.status, v.judged) == ("pass", 1)
    assert v.measured == "all 1 captures belong to orders the target reports paid"
    v = verdict("money.no_orphan_capture", failed, refunded)
    assert (v.status, v.reason) == ("skipped", "no money was captured, so no orphan capture could be seen")


def test_an_orphan_of_one_minor_unit_is_an_orphan() -> None:
    h = history([attempt(0.0, 200)], "failed", o=order(1, amount=1), charges=1)
    v = verdict("money.no_orphan_capture", h)
    assert v.status == "fail" and v.money_at_risk == {"usd": 1}
    assert v.examples[0].why == "captured 0.01 USD but the target's final state is failed"
    unknown = verdict("money.no_orphan_capture", history([attempt(0.0, 200)], None, charges=1))
    assert unknown.examples[0].why == ("captured 10.00 USD but the target's final state is unknown (the target "
                                       "could not say)")


def test_charges_for_no_known_order_are_orphans_on_their_own() -> None:
    stray = [charge(500, obj="pi_x", ref=None)]
    v = verdict("money.no_orphan_capture", unattributed_ledger=stray)
    assert v.status == "fail" and (v.judged, v.offenders) == (1, 1)
    assert v.measured == "1 charges carry no known order (cardpay:pi_x); 5.00 USD at risk"
    assert v.money_at_risk == {"usd": 500} and v.examples == []
    orphan = history([attempt(0.0, 200)], "failed", charges=1)
    refund = [charge(300, obj="pi_y", ref=None, kind="refund")]  # a refund of nobody's is no capture
    v = verdict("money.no_orphan_capture", orphan, unattributed_ledger=stray + refund)
    assert (v.judged, v.offenders) == (2, 2) and v.money_at_risk == {"usd": 1500}
    assert v.measured == ("1 orders captured but not reported paid; 1 charges carry no known order (cardpay:pi_x); "
                          "15.00 USD at risk")


def test_many_stray_charges_are_summarised() -> None:
    stray = [charge(100, obj=f"pi_{i:02}", ref=None) for i in range(21)]
    v = verdict("money.no_orphan_capture", unattributed_ledger=stray)
    assert "21 charges carry no known order (cardpay:pi_00, cardpay:pi_01, cardpay:pi_02, cardpay:pi_03, " \
           "cardpay:pi_04); 21.00 USD at risk" == v.measured
    assert len(v.figures["unattributed_charges"]) == 20


def test_a_foreign_capture_names_what_the_order_was_to_charge() -> None:
    h = history([attempt(0.0, 200)], "succeeded", expected=1500, ledger=[
        charge(1500), charge(900, obj="pi_eur", currency="eur")])
    v = verdict("money.no_orphan_capture", h)
    assert v.examples[0].why == "captured 9.00 EUR for an order in USD (15.00 USD)"


def test_state_matches_ledger_on_correct_histories() -> None:
    exact = history([attempt(0.0, 200)], "succeeded", charges=1)
    unsaid = history([attempt(0.0, 200, ref="ord_2")], "succeeded", o=order(2), charges=1, expected=None)
    twice = history([attempt(0.0, 200, ref="ord_3")], "succeeded", o=order(3), charges=2)  # double charge's to say
    v = verdict("money.state_matches_ledger", exact, unsaid, twice)
    assert (v.status, v.measured, v.judged) == ("pass", "3 succeeded orders, each captured for its amount", 3)
    v = verdict("money.state_matches_ledger", history([attempt(0.0, 503)], "failed"))
    assert v.reason == "no order ended succeeded, so there was nothing to match against the ledgers"


def test_state_matches_ledger_fails_short_over_and_missing_captures() -> None:
    short = verdict("money.state_matches_ledger",
                    history([attempt(0.0, 200)], "succeeded", ledger=[charge(400)]))
    assert short.money_at_risk == {"usd": 600}
    assert short.examples[0].why == "the target reports succeeded but the ledgers hold 4.00 USD of 10.00 USD"
    assert short.measured == ("1 of 1 succeeded orders are not captured for the amount they were to charge; "
                              "6.00 USD at stake")
    over = verdict("money.state_matches_ledger", history([attempt(0.0, 200)], "succeeded", charges=1, expected=500))
    assert over.money_at_risk == {"usd": 500}
    something = history([attempt(0.0, 200)], "succeeded", expected=None, ledger=[charge(1)])
    assert verdict("money.state_matches_ledger", something).status == "pass", "any capture, when the amount is unsaid"
    nothing = verdict("money.state_matches_ledger", history([attempt(0.0, 200)], "succeeded", expected=None))
    assert nothing.status == "fail" and nothing.money_at_risk == {}, "what it was to charge is unknown"
    assert nothing.examples[0].why == "the target reports succeeded but the ledgers hold nothing for it"


def test_all_final_passes_final_orders_and_says_why_others_are_not() -> None:
    ok = [history([], s, o=order(i)) for i, s in enumerate(["succeeded", "declined", "failed"], 1)]
    v = verdict("money.all_final", *ok)
    assert (v.status, v.measured, v.judged) == ("pass", "all 3 orders final", 3)
    assert v.clause == "every submitted order reaches a final state (succeeded, declined, failed) by the end of the drain"
    assert verdict("money.all_final").reason == "no order was submitted"

    def why(h: OrderHistory) -> str:
        v = verdict("money.all_final", h)
        assert v.status == "fail"
        return v.examples[0].why

    assert why(OrderHistory(order=order())) == "no readable state in the target's answer"
    assert why(history([], None, pay_status=404, lookup_call=False)) == "the target does not know this order (404): lost"
    lost = history([], None)
    lost.calls[-1] = call("lookup", 20.0, 25.0, None, status=None, error="no complete answer within 5s")
    assert why(lost) == "no state: no complete answer within 5s"
    assert why(history([], None)) == "no readable state in the target's answer"
    assert why(history([], "pending")) == "still pending after the drain"


def test_all_final_puts_what_the_order_was_to_charge_at_risk() -> None:
    assert verdict("money.all_final", history([], "pending", expected=1500)).money_at_risk == {"usd": 1500}
    assert verdict("money.all_final", history([], "pending", expected=None)).money_at_risk == {"usd": 1000}


def test_all_final_reads_the_contracts_final_states() -> None:
    lenient = ctx_with(money=MoneyClause(final_states=["succeeded", "declined", "failed", "pending"]))
    v = verdict("money.all_final", history([], "pending"), ctx=lenient)
    assert v.status == "pass" and "(succeeded, declined, failed, pending)" in v.clause


# -- retry -----------------------------------------------------------------------------------------------------


def test_a_correct_history_with_every_kind_of_transient_failure_passes_every_clause() -> None:
    # a timeout (the caller gave up after 1 s), a 429 asking for 0.1 s, a 503, then success: 4 attempts
    mixed = [attempt(0.0, None, dur=1.0, delivery="client_gone"), attempt(1.2, 429, retry_after=0.1),
             attempt(1.8, 503), attempt(2.3, 200)]
    h = history(mixed, "succeeded", charges=1, pay_elapsed=2.4)
    ctx = retry_with(max_attempts=4)
    verdicts = {v.check: v for v in run_checks(resolve_checks(["retry", "idempotency", "degradation"])[0],
                                               evidence(h), ctx)}
    for cid in ("retry.max_attempts", "retry.transient", "retry.backoff", "retry.honour_retry_after",
                "idempotency.same_key_across_retries", "degradation.max_response_ms", "money.no_double_charge",
                "money.no_orphan_capture", "money.state_matches_ledger", "money.all_final"):
        assert verdicts[cid].status == "pass", verdicts[cid]
    assert verdicts["retry.never_retry"].status == "skipped"
    assert verdicts["retry.max_attempts"].figures == {"max_seen": 4, "allowed": 4}
    assert verdicts["retry.backoff"].measured == "3 retries, shortest wait 200 ms, all within the documented backoff"


def test_a_decline_after_transient_failures_ends_the_retries() -> None:
    h = history([attempt(0.0, 503), attempt(0.2, 402, **DECLINED)], "declined", pay_body=CLEAR)
    assert verdict("retry.never_retry", h).measured == "1 non-retryable failures, none retried"
    assert verdict("retry.transient", h).status == "pass", "it stopped on a decline, not on the 503"
    retried = history([attempt(0.0, 503), attempt(0.2, 402, **DECLINED), attempt(0.5, 402, **DECLINED)], "declined")
    v = verdict("retry.never_retry", retried)
    assert v.examples[0].why == ("attempt 2 got 402 insufficient_funds (decline: never retried) and the target tried "
                                 "1 more time(s)")


def test_never_retry_covers_auth_and_risk_blocks() -> None:
    risk = history([attempt(0.0, 402, decline="fraudulent")], "declined")
    assert verdict("retry.never_retry", risk).status == "pass"
    auth = history([attempt(0.0, 401, error_code="authentication_required"), attempt(0.3, 200)], "succeeded")
    v = verdict("retry.never_retry", auth)
    assert v.status == "fail" and "(auth: never retried)" in v.examples[0].why
    v = verdict("retry.never_retry", history([attempt(0.0, 503), attempt(0.2, 200)], "succeeded"))
    assert v.reason == "no payment met a failure that is never retried (decline, invalid_request, auth, risk_block)"


def test_max_attempts_skips_when_no_payment_attempt_reached_a_provider() -> None:
    v = verdict("retry.max_attempts", history([lookup(0.05, phase="in_call")], "failed"))
    assert v.reason == "no payment attempt (a request to a charge route) reached a provider"


def test_an_unknown_outcome_looked_up_as_it_ended_is_resolved() -> None:
    lost = attempt(0.0, None, dur=0.5, delivery="client_gone")
    assert verdict("retry.transient", history([lost, lookup(0.5, phase="in_call")], "declined")).status == "pass"
    by_customer = lookup(0.5, phase="customer")
    assert verdict("retry.transient", history([lost, by_customer], "declined")).status == "fail"
    unanswered = lookup(0.5, phase="in_call", status=503)
    assert verdict("retry.transient", history([lost, unanswered], "declined")).status == "fail"


def test_the_example_of_giving_up_is_the_payment_furthest_from_its_limit() -> None:
    def gave_up(i: int, n: int) -> OrderHistory:
        return history([attempt(0.3 * k, 503, ref=f"ord_{i}") for k in range(n)], "failed", o=order(i))

    v = verdict("retry.transient", gave_up(1, 2), gave_up(2, 1), gave_up(3, 2), gave_up(4, 2))
    assert v.offenders == 4 and [e.order_id for e in v.examples] == ["ord_1", "ord_2", "ord_4"]
    assert v.examples[1].why == ("attempt 1 got 503 (unavailable, transient) and the target gave up after 1 of 3 "
                                 "allowed attempts; final state failed")


def waits(*pairs: tuple[float, float], status: int = 503, **kw) -> list:
    """Attempts as (start, end) pairs, all failing but the last."""
    out = [attempt(s, status, dur=e - s, **kw) for s, e in pairs[:-1]]
    s, e = pairs[-1]
    return out + [attempt(s, 200, dur=e - s)]


NO_JITTER = backoff_with(jitter="none", initial_ms=250, multiplier=2, max_ms=2000, tolerance_ms=0)


def test_a_wait_exactly_the_documented_backoff_passes() -> None:
    v = verdict("retry.backoff", history(waits((0.5, 1.0), (1.25, 1.3)), "succeeded"), ctx=NO_JITTER)
    assert (v.status, v.measured) == ("pass", "1 retries, shortest wait 250 ms, all within the documented backoff")
    assert v.figures == {"retries": 1, "min_gap_ms": 250.0}
    v = verdict("retry.backoff", history(waits((0.0, 1.0), (2.0, 2.1)), "succeeded"))
    assert v.measured == "1 retries, shortest wait 1000 ms, all within the documented backoff"
    v = verdict("retry.backoff", history(waits((0.0, 1.0), (1.123456, 1.2)), "succeeded"))
    assert v.figures["min_gap_ms"] == 123.5


def test_the_backoff_example_is_the_retry_furthest_below_its_minimum() -> None:
    # retry 1: 0 ms of 250 (250 short); retry 2: 375 ms of 500 (125 short)
    h = history(waits((0.0, 1.0), (1.0, 2.0), (2.375, 2.4)), "succeeded")
    v = verdict("retry.backoff", h, ctx=NO_JITTER)
    assert v.examples[0].why == ("retry 1 came 0 ms after attempt 1 ended (503); the documented backoff allows no "
                                 "less than 250 ms")
    assert v.measured == "1 payments retried sooner than the backoff allows (shortest wait 0 ms)"
    # both 125 ms short: the first is the example
    tie = history(waits((0.0, 1.0), (1.125, 2.0), (2.375, 2.4)), "succeeded")
    assert verdict("retry.backoff", tie, ctx=NO_JITTER).examples[0].why.startswith("retry 1 came 125 ms")


def test_the_backoff_example_across_payments_is_the_one_furthest_below() -> None:
    def short(i: int, wait_ms: float) -> OrderHistory:
        return history(waits((0.0, 1.0), (1.0 + wait_ms / 1000, 1.1 + wait_ms / 1000), ref=f"ord_{i}"),
                       "succeeded", o=order(i))

    # the reference backoff's first retry may come no sooner than 100 ms (10 ms tolerance)
    v = verdict("retry.backoff", short(1, 50), short(2, 10), short(3, 80), short(4, 70))
    assert [e.order_id for e in v.examples] == ["ord_1", "ord_2", "ord_4"]


def test_backoff_skips_without_a_backoff_or_with_full_jitter() -> None:
    h = history(waits((0.0, 0.1), (0.11, 0.2)), "succeeded")
    assert verdict("retry.backoff", h, ctx=retry_with(backoff=None)).reason == \
        "the contract's retry section documents no backoff"
    assert verdict("retry.backoff", h, ctx=backoff_with(jitter="full")).reason == \
        "full jitter allows any wait from 0, so no single wait can break it"


def test_a_retry_exactly_retry_after_later_honours_it() -> None:
    exact = backoff_with(tolerance_ms=0)
    h = history([attempt(0.0, 429, dur=1.0, retry_after=1.0), attempt(2.0, 200)], "succeeded")
    v = verdict("retry.honour_retry_after", h, ctx=exact)
    assert (v.status, v.measured) == ("pass", "1 retries after Retry-After, all waited long enough")
    assert v.clause == "a retry after a response with Retry-After waits at least that long (0 ms tolerance)"
    early = history([attempt(0.0, 429, dur=1.0, retry_after=1.0), attempt(1.995, 200)], "succeeded")
    v = verdict("retry.honour_retry_after", early, ctx=exact)
    assert v.status == "fail" and v.examples[0].why == "attempt 1 got 429 with Retry-After 1s; the retry came 995 ms later"


def test_retry_after_without_a_backoff_has_ten_ms_of_tolerance() -> None:
    h = history([attempt(0.0, 429, dur=1.0, retry_after=1.0), attempt(1.991, 200)], "succeeded")
    v = verdict("retry.honour_retry_after", h, ctx=retry_with(backoff=None))
    assert v.status == "pass" and v.clause.endswith("(10 ms tolerance)")


def test_honour_retry_after_skips() -> None:
    h = history([attempt(0.0, 429, retry_after=1.0)], "failed")
    assert verdict("retry.honour_retry_after", h).reason == "no retry followed a response with Retry-After"
    assert verdict("retry.honour_retry_after", h, ctx=retry_with(honour_retry_after=False)).reason == \
        "the contract does not promise to honour Retry-After"


# -- idempotency -------------------------------------------------------------------------------------------


def test_one_retry_under_the_same_key_passes() -> None:
    v = verdict("idempotency.same_key_across_retries", history([attempt(0.0, 503), attempt(0.3, 200)], "succeeded"))
    assert (v.status, v.measured) == ("pass", "1 retried payments, each kept one key")
    v = verdict("idempotency.same_key_across_retries", history([attempt(0.0, 200)], "succeeded"))
    assert v.reason == "no payment was attempted twice, so key reuse could not be seen"


def test_new_keys_are_listed_and_a_missing_key_is_named() -> None:
    keys = ["x" * 50, "k2", "k3", "k4", "k5"]
    h = history([attempt(0.1 * i, 503, key=k) for i, k in enumerate(keys)], "failed")
    v = verdict("idempotency.same_key_across_retries", h)
    assert v.examples[0].why == f"5 attempts used 5 different keys: {'x' * 40}, k2, k3, k4"
    h = history([attempt(0.0, 503), attempt(0.3, 200, key=None)], "succeeded")
    assert verdict("idempotency.same_key_across_retries", h).examples[0].why == \
        "1 of 2 attempts carried no idempotency key"


# -- errors --------------------------------------------------------------------------------------------------


def test_every_error_answer_is_judged_and_counted() -> None:
    def failed_order(i: int) -> OrderHistory:
        h = history([attempt(0.0, 503, ref=f"ord_{i}")], "failed", o=order(i), pay_body=CLEAR, pay_status=402)
        h.calls[1].body = CLEAR
        return h

    v = verdict("errors.required", failed_order(1), failed_order(2))
    assert (v.status, v.measured, v.judged) == ("pass", "4 error answers, each with type, action, contact", 4)
    v = verdict("errors.required", history([attempt(0.0, 200)], "succeeded", charges=1))
    assert v.reason == "no payment was declined or failed, so no error answer was seen"


def test_errors_skip_when_the_target_file_does_not_say_where_they_live() -> None:
    h = history([attempt(0.0, 503)], "failed", pay_body=CLEAR)
    v = verdict("errors.required", h, ctx=target_with(contact=None))
    assert v.reason == "the target file does not say where contact live (response.error in the target file)"


# -- degradation ---------------------------------------------------------------------------------------------


def test_degradation_passes_at_the_limit_and_fails_past_it() -> None:
    quick = history([], "succeeded", pay_elapsed=0.0004567)
    v = verdict("degradation.max_response_ms", quick)
    assert (v.status, v.measured) == ("pass", "1 payment calls, slowest answered in 0 ms")
    assert v.figures == {"slowest_ms": 0.5, "limit_ms": 8000}
    at_limit = history([], "failed", o=order(2), pay_elapsed=8.0)
    assert verdict("degradation.max_response_ms", quick, at_limit).status == "pass"
    past = history([], "failed", o=order(3), pay_elapsed=8.001)
    v = verdict("degradation.max_response_ms", quick, at_limit, past)
    assert v.status == "fail" and v.examples[0].why == "answered HTTP 200 after 8001 ms > 8000 ms"


# -- reconcile -----------------------------------------------------------------------------------------------


REPLAY_OK = ctx_with(reconcile=CONTRACT.spec.reconcile.model_copy(update={"how": ["replay", "lookup"]}))


def test_the_reconcile_clause_says_what_the_contract_documents() -> None:
    h = history([attempt(0.0, None, delivery="client_gone"), late(attempt(3.0, 200))], "succeeded", charges=1)
    assert verdict("reconcile.replay", h, ctx=REPLAY_OK).clause == (
        "after answering, the service reconciles by replay or lookup; a replay carries the payment's own "
        "idempotency key")
    v = verdict("reconcile.replay", h)
    assert v.clause == "after answering, the service reconciles by lookup; it never charges again"
    assert v.examples[0].why == ("charged again 2.9 s after answering succeeded (1 payment attempts after the "
                                 "answer); the contract documents reconciling by lookup only")


def test_a_charge_after_an_answer_never_seen_is_timed_from_zero() -> None:
    h = OrderHistory(order=order(), calls=[call("lookup", 20.0, 20.01, "succeeded")],
                     attempts=[late(attempt(3.0, 200))], ledger=[charge()], final="succeeded")
    v = verdict("reconcile.replay", h)
    assert v.examples[0].why.startswith("charged again 3.0 s after answering ? (1 payment attempts")


def test_a_replay_under_another_key_names_both_keys() -> None:
    h = history([attempt(0.0, None, delivery="client_gone", key="K" * 50),
                 late(attempt(3.0, 200, key="L" * 50))], "succeeded", charges=1)
    v = verdict("reconcile.replay", h, ctx=REPLAY_OK)
    assert v.examples[0].why == (f"replayed 2.9 s after answering under key {'L' * 40}, but the payment's key is "
                                 f"{'K' * 40}: a new key is a new charge")


def test_replays_of_a_payment_that_sent_no_key_in_the_call_must_share_one() -> None:
    def replays(*keys: str | None) -> OrderHistory:
        return history([late(attempt(3.0 + i, 200, key=k)) for i, k in enumerate(keys)], "succeeded", charges=1)

    v = verdict("reconcile.replay", replays("x", "x"), ctx=REPLAY_OK)
    assert (v.status, v.measured) == ("pass", "1 payments replayed after the answer, each under its own key")
    v = verdict("reconcile.replay", replays("x", "y"), ctx=REPLAY_OK)
    assert v.status == "fail" and v.examples[0].why == (
        "replayed 3.9 s after answering under key y, but the payment's key is none in the call: a new key is a new "
        "charge")
    v = verdict("reconcile.replay", replays(None, None), ctx=REPLAY_OK)
    assert v.status == "fail" and "under key None" in v.examples[0].why


def test_reconcile_max_requests_names_the_span_of_the_requests() -> None:
    limit = CONTRACT.spec.reconcile.max_requests
    lookups = [lookup(1.0 + 0.25 * i) for i in range(limit + 1)]
    v = verdict("reconcile.max_requests", history([attempt(0.0, None, delivery="client_gone")] + lookups, "succeeded",
                                                  charges=1))
    assert v.examples[0].why == f"{limit + 1} provider requests (lookup) in 10.0 s after the answer > {limit} allowed"
    assert v.figures == {"max_seen": limit + 1, "allowed": limit}


# -- cardpay's answers as classes (ProviderProfile.classify) ------------------------------------------------


@pytest.mark.parametrize("status,delivery,codes,expected", [
    (200, "delivered", (), ("ok", None)),
    (299, "delivered", (), ("ok", None)),
    (400, "delivered", ("parameter_invalid_integer",), ("failed", "invalid_request")),
    (422, "delivered", (), ("failed", "invalid_request")),
    (499, "delivered", (), ("failed", "invalid_request")),
    (401, "delivered", (), ("failed", "auth")),
    (403, "delivered", (), ("failed", "auth")),
    (404, "delivered", ("resource_missing",), ("failed", "not_found")),
    (409, "delivered", ("idempotency_key_in_use",), ("failed", "conflict")),
    (429, "delivered", ("rate_limit",), ("failed", "rate_limited")),
    (402, "delivered", ("card_declined", "insufficient_funds"), ("failed", "decline")),
    (402, "delivered", (None, "insufficient_funds"), ("failed", "decline")),
    (402, "delivered", ("card_declined", "fraudulent"), ("failed", "risk_block")),
    (402, "delivered", ("card_declined", "merchant_blacklist"), ("failed", "risk_block")),
    (402, "delivered", ("fraudulent", None), ("failed", "risk_block")),
    (500, "delivered", (), ("unknown", "server_error")),
    (502, "delivered", (), ("failed", "unavailable")),
    (503, "delivered", (), ("failed", "unavailable")),
    (504, "delivered", (), ("unknown", "unavailable")),
    (599, "delivered", (), ("failed", "unavailable")),
    (None, "client_gone", (), ("unknown", "timeout")),
    (200, "client_gone", (), ("unknown", "timeout")),
    (None, "dropped", (), ("unknown", "dropped")),
    (200, "dropped", (), ("unknown", "dropped")),
    (None, "delivered", (), ("unknown", "dropped")),
])
def test_cardpay_answers_are_classed(status, delivery, codes, expected) -> None:
    assert CARDPAY.classify(status, delivery, *codes) == expected


def test_an_answer_no_rule_matches_is_ok_only_when_2xx() -> None:
    bare = ProviderProfile(type="bare", provider="x:Y", description="", routes={}, answers=(),
                           idempotency=IdempotencyCarrier(header="Idempotency-Key"))
    assert [bare.classify(s, "delivered") for s in (199, 200, 299, 300)] == [
        ("failed", "unavailable"), ("ok", None), ("ok", None), ("failed", "unavailable")]
    ranged = dataclasses.replace(bare, answers=(AnswerRule("failed", "decline", status=(402, 403)),))
    assert [ranged.classify(s, "delivered")[1] for s in (401, 402, 403, 404)] == \
        ["unavailable", "decline", "decline", "unavailable"]


def test_coverage_names_an_instance_that_is_over_its_limit_and_ledger_examples() -> None:
    from harness.evidence.model import LedgerEntry

    stray = LedgerEntry(provider="cardpay", seq=1, t=1.0, kind="charge", amount=1200, currency="usd", object_id="pi_x")
    v = coverage({"alpha": stats(100, 0), "cardpay": stats(0, 0, 4, 2)}, unattributed_ledger=[stray])
    assert v.status == "error", v
    assert "For example: cardpay:pi_x (charge of 1200 usd)" in v.reason, v.reason
    assert "providers.cardpay.order_ref" in v.reason and "providers.alpha" not in v.reason, v.reason
