"""Checks are pure functions of evidence: each passes a correct history, fails
a wrong one naming its clause and the offending order, and skips (never
passes) when nothing reached its clause."""

from __future__ import annotations

import dataclasses

import pytest

from harness.checks import REGISTRY, CheckContext, run_checks
from harness.checks import base as checks_base
from mock_providers.cardpay.profile import PROFILE as CARDPAY
from harness.evidence.model import Attempt, Evidence, LedgerEntry, OrderHistory, TargetCall
from harness.workload.orders import Order
from tests.harness.builders import CONTRACT, CTX, REPO, SCENARIO, TARGET, VISA, WHO, order  # noqa: F401


def attempt(t: float, status: int | None, *, dur: float = 0.01, key: str = "k1", delivery: str = "delivered",
            decline: str | None = None, retry_after: float | None = None, ref: str = "ord_1") -> Attempt:
    klass, failure = CARDPAY.classify(status, delivery, "card_declined" if decline else None, decline)
    return Attempt(provider="cardpay", type="cardpay", role="charge", seq=int(t * 1000), t_start=t, t_end=t + dur, method="POST",
                   path="/v1/payment_intents", endpoint="payment_intents.create", order_ref=ref, idempotency_key=key,
                   status=status, decline_code=decline, retry_after_s=retry_after, delivery=delivery, klass=klass,
                   failure=failure)


def history(attempts: list[Attempt], final: str, *, charges: int = 0, o: Order | None = None,
            pay_body: dict | None = None, pay_status: int = 200, pay_elapsed: float = 0.1) -> OrderHistory:
    o = o or order()
    ledger = [LedgerEntry(provider="cardpay", seq=i, t=10.0 + i, kind="charge", amount=o.amount, currency="usd",
                          object_id=f"pi_{i}", order_ref=o.id) for i in range(charges)]
    pay = TargetCall(order_id=o.id, kind="pay", t_start=0.0, t_end=pay_elapsed, status=pay_status,
                     body=pay_body or {"status": final}, outcome=final)
    look = TargetCall(order_id=o.id, kind="lookup", t_start=20.0, t_end=20.01, status=200, body={"status": final},
                      outcome=final)
    return OrderHistory(order=o, calls=[pay, look], attempts=attempts, ledger=ledger, final=final,
                        final_source="lookup")


def verdict(cid: str, *histories: OrderHistory):
    ev = Evidence(orders={h.order.id: h for h in histories}, submitted=len(histories))
    (v,) = run_checks([cid], ev, CTX)
    assert v.check == cid and v.where.startswith(str(CONTRACT.doc.file))
    return v


GOOD_RETRY = [attempt(0.0, 503), attempt(0.2, 503, key="k1"), attempt(0.7, 200)]
DECLINE = dict(decline="insufficient_funds")

# Each clause: a wrong history, a fragment of its measured figure, and a right history of the same
# kind that the clause JUDGES and passes (never one it merely skips: a skip proves nothing).
RETRY_FAMILY = {
    "retry.max_attempts": (
        [attempt(i * 0.5, 503) for i in range(4)] + [attempt(2.5, 200)], "max attempts seen 5 > 3",
        (GOOD_RETRY, "succeeded"), "max attempts seen 3 <= 3 over 1 payments"),
    "retry.transient": (
        [attempt(0.0, 503)], "were not retried",
        (GOOD_RETRY, "succeeded"), "1 payments met transient failures; each was retried or resolved"),
    "retry.never_retry": (
        [attempt(0.0, 402, **DECLINE), attempt(0.3, 402, **DECLINE)], "retried after a non-retryable failure",
        ([attempt(0.0, 402, **DECLINE)], "declined"), "1 non-retryable failures, none retried"),
    "retry.backoff": (
        [attempt(0.0, 503), attempt(0.011, 200)], "sooner than the backoff allows",
        (GOOD_RETRY, "succeeded"), "2 retries, shortest wait 190 ms, all within the documented backoff"),
    "retry.honour_retry_after": (
        [attempt(0.0, 429, retry_after=1.0), attempt(0.3, 200)], "before Retry-After elapsed",
        ([attempt(0.0, 429, retry_after=1.0), attempt(1.05, 200)], "succeeded"),  # waited 1040 ms >= 1 s
        "1 retries after Retry-After, all waited long enough"),
    "idempotency.same_key_across_retries": (
        [attempt(0.0, 503), attempt(0.3, 200, key="k2")], "did not keep one idempotency key",
        (GOOD_RETRY, "succeeded"), "1 retried payments, each kept one key"),
}


@pytest.mark.parametrize("cid", list(RETRY_FAMILY))
def test_retry_family_fails_the_wrong_history_and_passes_the_right_one(cid: str) -> None:
    bad, measured, (good_attempts, good_final), good_measured = RETRY_FAMILY[cid]
    final_bad = "failed" if cid == "retry.transient" else "succeeded"
    v = verdict(cid, history(bad, final_bad, charges=int(final_bad == "succeeded")))
    assert v.status == "fail", v
    assert measured in v.measured
    assert v.examples and v.examples[0].order_id == "ord_1"
    assert v.examples[0].history["events"], "the example carries the order's history"
    good = verdict(cid, history(good_attempts, good_final, charges=int(good_final == "succeeded")))
    assert (good.status, good.measured) == ("pass", good_measured), good
    assert good.judged >= 1 and good.offenders == 0 and not good.examples


@pytest.mark.parametrize("cid", ["retry.transient", "retry.never_retry", "retry.backoff", "retry.honour_retry_after",
                                 "idempotency.same_key_across_retries"])
def test_nothing_to_judge_is_skipped_with_a_reason(cid: str) -> None:
    v = verdict(cid, history([attempt(0.0, 200)], "succeeded", charges=1))
    assert v.status == "skipped" and v.reason


def test_backoff_uses_the_documented_minimum_per_retry() -> None:
    # equal jitter, 200 ms initial: retry 1 >= 100 ms, retry 2 >= 200 ms (10 ms tolerance)
    ok = [attempt(0.0, 503), attempt(0.101, 503), attempt(0.302, 200)]
    assert verdict("retry.backoff", history(ok, "succeeded", charges=1)).status == "pass"
    short = [attempt(0.0, 503), attempt(0.101, 503), attempt(0.25, 200)]  # 139 ms before retry 2
    v = verdict("retry.backoff", history(short, "succeeded", charges=1))
    assert v.status == "fail" and "retry 2 came 139 ms" in v.examples[0].why


def test_transient_failure_at_the_attempt_limit_is_not_a_violation() -> None:
    v = verdict("retry.transient", history([attempt(0, 503), attempt(0.2, 503), attempt(0.7, 503)], "failed"))
    assert v.status == "pass"


def test_double_charge_names_the_intents_and_money_at_risk() -> None:
    v = verdict("money.no_double_charge", history(GOOD_RETRY, "succeeded", charges=2))
    assert v.status == "fail" and v.money_at_risk == {"usd": 1000}
    assert "(2 captures: cardpay:pi_0, cardpay:pi_1)" in v.examples[0].why


def test_orphan_capture_and_phantom_success() -> None:
    orphan = verdict("money.no_orphan_capture", history(GOOD_RETRY, "failed", charges=1))
    assert orphan.status == "fail" and "final state is failed" in orphan.examples[0].why
    phantom = verdict("money.state_matches_ledger", history(GOOD_RETRY, "succeeded", charges=0))
    assert phantom.status == "fail" and phantom.money_at_risk == {"usd": 1000}


def test_unattributed_charge_is_an_orphan() -> None:
    h = history([attempt(0.0, 200)], "succeeded", charges=1)
    ev = Evidence(orders={h.order.id: h}, submitted=1, unattributed_ledger=[
        LedgerEntry(provider="cardpay", seq=9, t=1.0, kind="charge", amount=500, currency="usd", object_id="pi_x")])
    (v,) = run_checks(["money.no_orphan_capture"], ev, CTX)
    assert v.status == "fail" and "carry no known order (cardpay:pi_x)" in v.measured


def test_pending_after_drain_is_not_final() -> None:
    v = verdict("money.all_final", history([attempt(0.0, None, delivery="client_gone")], "pending"))
    assert v.status == "fail" and "still pending after the drain" in v.examples[0].why


def test_errors_require_type_action_contact() -> None:
    vague = {"status": "failed", "error": {"message": "Payment failed, please try again"}}
    v = verdict("errors.required", history([attempt(0, 503)] * 3, "failed", pay_body=vague, pay_status=502))
    assert v.status == "fail"
    assert "lacks type (error.type), action (error.action), contact (error.contact)" in v.examples[0].why
    assert "matches the forbidden" in v.examples[0].why
    clear = {"status": "failed", "error": {"type": "provider_unavailable", "message": "The card network is down.",
                                           "action": "Try again in a few minutes", "contact": "support@x"}}
    good = history([attempt(0, 503)] * 3, "failed", pay_body=clear, pay_status=502)
    good.calls[1].body = clear
    assert verdict("errors.required", good).status == "pass"


def test_degradation_counts_no_answer_as_a_violation() -> None:
    h = history([], "failed", pay_elapsed=20.0)
    h.calls[0] = TargetCall(order_id="ord_1", kind="pay", t_start=0, t_end=20.0, error="no complete answer within 20s")
    v = verdict("degradation.max_response_ms", h)
    assert v.status == "fail" and "no answer after 20000 ms" in v.examples[0].why


def test_degradation_passes_answers_within_the_limit_and_fails_a_slow_one() -> None:
    limit_s = CONTRACT.spec.degradation.max_response_ms / 1000  # 8 s in the reference contract
    quick = history([attempt(0.0, 200)], "succeeded", charges=1, pay_elapsed=0.25)
    at_limit = history([attempt(0.0, 503)] * 3, "failed", o=order(2), pay_status=502, pay_elapsed=limit_s)
    v = verdict("degradation.max_response_ms", quick, at_limit)
    assert v.status == "pass", v
    assert v.judged == 2 and v.measured == "2 payment calls, slowest answered in 8000 ms"
    slow = history([attempt(0.0, 200)], "succeeded", charges=1, o=order(3), pay_elapsed=limit_s + 0.5)
    v = verdict("degradation.max_response_ms", quick, slow)
    assert v.status == "fail" and v.offenders == 1 and v.examples[0].order_id == "ord_3"
    assert v.examples[0].why == "answered HTTP 200 after 8500 ms > 8000 ms"
    assert "1 of 2 payment calls were not answered within 8000 ms (slowest 8500 ms)" == v.measured


def test_degradation_without_a_pay_call_is_skipped() -> None:
    h = history([], "failed")
    h.calls = [c for c in h.calls if c.kind != "pay"]  # only the lookup: nothing to time
    v = verdict("degradation.max_response_ms", h)
    assert v.status == "skipped" and v.reason == "no payment call was made"


# A section left out of the contract: every check of it is skipped, saying so, even on evidence that
# would fail it (so the skip is the section's doing, not an accident of the evidence).
SECTION_CHECKS = {
    "retry": ["retry.max_attempts", "retry.transient", "retry.never_retry", "retry.backoff",
              "retry.honour_retry_after"],
    "errors": ["errors.required"],
    "degradation": ["degradation.max_response_ms"],
    "reconcile": ["reconcile.replay", "reconcile.max_requests"],
}


def _violates_everything() -> list[OrderHistory]:
    """Histories each of which fails some clause of every section under the reference contract."""
    retried_decline = history([attempt(0.0, 402, **DECLINE), attempt(0.001, 402, **DECLINE),
                               attempt(0.002, 402, **DECLINE), attempt(0.003, 402, **DECLINE)], "declined")
    vague = {"status": "failed", "error": {"message": "Payment failed, please try again"}}
    gave_up = history([attempt(0.0, 503, ref="ord_2", key="a"), attempt(0.001, 503, ref="ord_2", key="b")], "failed",
                      o=order(2), pay_body=vague, pay_status=502, pay_elapsed=30.0)
    rate_limited = history([attempt(0.0, 429, retry_after=2.0, ref="ord_3"), attempt(0.1, 200, ref="ord_3")],
                           "succeeded", charges=1, o=order(3))
    lookups = [lookup_after(1.0 + i * 0.01).model_copy(update={"order_ref": "ord_4"}) for i in range(60)]
    hammered = history([attempt(0.0, None, delivery="client_gone", ref="ord_4"),
                        late(attempt(0.5, 200, ref="ord_4", key="new"))] + lookups, "succeeded", charges=1,
                       o=order(4))
    return [retried_decline, gave_up, rate_limited, hammered]


def test_the_evidence_of_the_section_tests_does_fail_every_clause() -> None:
    ev = Evidence(orders={h.order.id: h for h in _violates_everything()}, submitted=4)
    checks = [c for ids in SECTION_CHECKS.values() for c in ids] + ["idempotency.same_key_across_retries"]
    statuses = {v.check: v.status for v in run_checks(checks, ev, CTX)}
    assert statuses == dict.fromkeys(checks, "fail")


@pytest.mark.parametrize("section", list(SECTION_CHECKS))
def test_a_section_left_out_skips_its_checks_with_that_reason(section: str) -> None:
    ev = Evidence(orders={h.order.id: h for h in _violates_everything()}, submitted=4)
    verdicts = run_checks(SECTION_CHECKS[section], ev, ctx_with(**{section: None}))
    assert [(v.check, v.status, v.reason) for v in verdicts] == [
        (cid, "skipped", f"the contract has no {section} section") for cid in SECTION_CHECKS[section]]
    # ...and only that section's: the others still judge (and fail) the same evidence.
    others = [c for s, ids in SECTION_CHECKS.items() if s != section for c in ids]
    assert {v.status for v in run_checks(others, ev, ctx_with(**{section: None}))} == {"fail"}


def test_a_contract_without_an_idempotency_section_skips_its_clause() -> None:
    ev = Evidence(orders={h.order.id: h for h in _violates_everything()}, submitted=4)
    (v,) = run_checks(["idempotency.same_key_across_retries"], ev, ctx_with(idempotency=None))
    assert (v.status, v.reason) == ("skipped", "the contract has no idempotency section")
    section = CONTRACT.spec.idempotency.model_copy(update={"same_key_across_retries": False})
    (off,) = run_checks(["idempotency.same_key_across_retries"], ev, ctx_with(idempotency=section))
    assert (off.status, off.reason) == ("skipped", "the contract does not promise one idempotency key per payment")


JOURNAL_CHECKS = ["retry.max_attempts", "retry.transient", "retry.never_retry", "retry.backoff",
                  "retry.honour_retry_after", "reconcile.replay", "reconcile.max_requests"]


@pytest.mark.parametrize("cid", JOURNAL_CHECKS + ["idempotency.same_key_across_retries"])
def test_dropped_journal_entries_skip_what_the_journal_decides(cid: str) -> None:
    histories = {h.order.id: h for h in _violates_everything()}
    (whole,) = run_checks([cid], Evidence(orders=histories, submitted=4), CTX)
    assert whole.status == "fail", "the same evidence, complete, fails the clause"
    (v,) = run_checks([cid], Evidence(orders=histories, submitted=4, journal_dropped=17), CTX)
    assert v.status == "skipped" and v.reason.startswith(
        "17 provider journal entries were dropped; the attempt history is incomplete"), v
    if cid in JOURNAL_CHECKS:  # through base.incomplete_journal, which says what to do
        assert v.reason.endswith("(raise the journal capacity)")


@pytest.mark.parametrize("cid", ["money.no_double_charge", "degradation.max_response_ms", "errors.required"])
def test_dropped_journal_entries_do_not_stop_what_the_ledger_and_calls_decide(cid: str) -> None:
    h = _violates_everything()[1]  # failed after 30 s with a vague error, never charged...
    h = h.model_copy(update={"ledger": history(GOOD_RETRY, "failed", charges=2, o=order(2)).ledger})  # ...charged twice
    (v,) = run_checks([cid], Evidence(orders={h.order.id: h}, submitted=1, journal_dropped=17), CTX)
    assert v.status == "fail", v


def test_a_check_that_raises_is_an_error_verdict_not_a_crash(monkeypatch) -> None:
    def boom(ev, ctx):
        raise RuntimeError("bug in a check")

    check = REGISTRY["money.all_final"]
    monkeypatch.setitem(checks_base._registry, "money.all_final", dataclasses.replace(check, fn=boom))
    (v,) = run_checks(["money.all_final"], Evidence(), CTX)
    assert v.status == "error" and "RuntimeError: bug in a check" in v.reason


def ctx_with(**changes) -> CheckContext:
    """The reference contract with some sections replaced (e.g. retry=..., reconcile=...)."""
    spec = CONTRACT.spec.model_copy(update=changes)
    return dataclasses.replace(CTX, contract=dataclasses.replace(CONTRACT, spec=spec))


def verdict_in(ctx: CheckContext, cid: str, *histories: OrderHistory):
    ev = Evidence(orders={h.order.id: h for h in histories}, submitted=len(histories))
    (v,) = run_checks([cid], ev, ctx)
    return v


HINTS = ctx_with(retry=CONTRACT.spec.retry.model_copy(update={"transient": "provider_hint"}))


def hinted(t: float, status: int, hint: bool | None, **kw) -> Attempt:
    return attempt(t, status, **kw).model_copy(update={"retry_hint": hint})


def test_provider_hints_decide_what_is_retried() -> None:
    # A 500 the provider says not to retry (Stripe saves it under the key): retrying it is futile.
    futile = history([hinted(0.0, 500, False), hinted(0.6, 500, False)], "failed")
    v = verdict_in(HINTS, "retry.never_retry", futile)
    assert v.status == "fail" and "(the provider said do not retry)" in v.examples[0].why
    assert verdict_in(HINTS, "retry.never_retry", history([hinted(0.0, 500, False)], "failed")).status == "pass"
    # A 429 the provider asks to retry must be retried; an unhinted 429 need not be (the SDKs do not).
    asked = history([hinted(0.0, 429, True)], "failed")
    v = verdict_in(HINTS, "retry.transient", asked)
    assert v.status == "fail" and "(the provider said retry)" in v.examples[0].why
    unhinted = history([hinted(0.0, 429, None), hinted(0.5, 503, None), hinted(1.5, 200, None)], "succeeded",
                       charges=1)
    assert verdict_in(HINTS, "retry.transient", unhinted).status == "pass"
    assert verdict_in(HINTS, "retry.transient", history([hinted(0.0, 429, None)], "failed")).status == "skipped"
    # Without hints the contract's lists decide: the same futile 500 retry is fine.
    assert verdict("retry.never_retry", futile).status == "skipped"


def late(a: Attempt) -> Attempt:
    return a.model_copy(update={"phase": "after_answer"})


def lookup_after(t: float) -> Attempt:
    return late(attempt(t, 200)).model_copy(update={"role": "lookup", "endpoint": "payment_intents.search"})


REPLAY_OK = ctx_with(reconcile=CONTRACT.spec.reconcile.model_copy(update={"how": ["replay", "lookup"]}))


def test_retry_clauses_judge_only_attempts_inside_the_call() -> None:
    # 3 attempts in the call and 3 replays by a reconciler afterwards: not 6 attempts of one retry loop.
    h = history([attempt(0.0, 503), attempt(0.2, 503), attempt(0.7, 503)]
                + [late(attempt(5.0 + i, 503)) for i in range(3)], "pending")
    assert verdict("retry.max_attempts", h).status == "pass"
    assert verdict("idempotency.same_key_across_retries", h).status == "pass"


def test_reconcile_replay_under_the_payments_key_passes_and_under_another_fails() -> None:
    in_call = [attempt(0.0, None, delivery="client_gone")]
    good = history(in_call + [late(attempt(3.0, 200))], "succeeded", charges=1)
    assert verdict_in(REPLAY_OK, "reconcile.replay", good).status == "pass"
    bad = history(in_call + [late(attempt(3.0, 200, key="k1-again"))], "succeeded", charges=1)
    v = verdict_in(REPLAY_OK, "reconcile.replay", bad)
    assert v.status == "fail" and "under key k1-again, but the payment's key is k1: a new key is a new charge" \
        in v.examples[0].why
    # The reference contract reconciles by lookup only: any charge after the answer is a violation.
    v = verdict("reconcile.replay", good)
    assert v.status == "fail" and "the contract documents reconciling by lookup only" in v.examples[0].why
    only_lookups = history(in_call + [lookup_after(3.0)], "succeeded", charges=1)
    v = verdict("reconcile.replay", only_lookups)
    assert v.status == "skipped" and "1 other provider requests after answers" in v.reason


def test_reconcile_requests_after_the_answer_are_bounded() -> None:
    limit = CONTRACT.spec.reconcile.max_requests
    calm = history([attempt(0.0, None, delivery="client_gone")] + [lookup_after(1.0 + i) for i in range(limit)],
                   "succeeded", charges=1)
    assert verdict("reconcile.max_requests", calm).status == "pass"
    hammer = history([attempt(0.0, None, delivery="client_gone")]
                     + [lookup_after(1.0 + i * 0.02) for i in range(limit + 1)], "succeeded", charges=1)
    v = verdict("reconcile.max_requests", hammer)
    assert v.status == "fail" and f"{limit + 1} provider requests (lookup)" in v.examples[0].why
    assert verdict("reconcile.max_requests", history([attempt(0.0, 200)], "succeeded", charges=1)).status == "skipped"
    assert verdict_in(ctx_with(reconcile=None), "reconcile.max_requests", hammer).reason == \
        "the contract has no reconcile section"


def test_a_foreign_currency_capture_is_an_orphan() -> None:
    h = history([attempt(0.0, 200)], "succeeded", charges=1)
    h.ledger.append(LedgerEntry(provider="cardpay", seq=5, t=11.0, kind="charge", amount=900, currency="eur",
                                object_id="pi_eur", order_ref=h.order.id))
    v = verdict("money.no_orphan_capture", h)
    assert v.status == "fail" and "captured 9.00 EUR for an order in USD" in v.examples[0].why
    assert v.money_at_risk == {"eur": 900}


def test_an_integration_error_stops_every_other_verdict() -> None:
    refused = attempt(0.0, 404).model_copy(update={"integration": True, "endpoint": "unknown", "path": "/v1/charges"})
    h = history([refused], "failed")
    ev = Evidence(orders={h.order.id: h}, submitted=1, provider_requests=1, integration_errors=[refused],
                  routes={"cardpay": ["POST /v1/payment_intents"]})
    verdicts = run_checks(list(SCENARIO.checks), ev, CTX)
    gate = verdicts[0]
    assert gate.check == "integration.api" and gate.status == "error"
    assert "POST /v1/charges -> 404 not served by this provider" in gate.reason
    assert "cardpay serves POST /v1/payment_intents" in gate.reason
    assert {v.status for v in verdicts[1:]} == {"skipped"} and len(verdicts) == len(SCENARIO.checks)
    clean = Evidence(orders={h.order.id: h}, submitted=1, provider_requests=1)
    (ok,) = run_checks(["integration.api"], clean, CTX)
    assert ok.status == "pass"
    (none,) = run_checks(["integration.api"], Evidence(), CTX)
    assert none.status == "skipped" and none.reason == "no request reached a provider"


def test_amounts_the_service_decides() -> None:
    """A service that prices the order itself: judged against what it was to charge."""
    two = history(GOOD_RETRY, "succeeded", charges=2)  # 2 x 10.00 for an order of 10.00
    priced = two.model_copy(update={"expected_amount": 2000})
    assert verdict("money.no_double_charge", priced).status == "pass", "two captures that add up to its price"
    wrong = history(GOOD_RETRY, "succeeded", charges=1).model_copy(update={"expected_amount": 500})
    v = verdict("money.state_matches_ledger", wrong)
    assert v.status == "fail" and v.examples[0].why == "captured 10.00 USD, expected 5.00 USD (1 capture)"
    assert verdict("money.no_double_charge", wrong).status == "pass", "one capture is never a double charge"
    unknown = two.model_copy(update={"expected_amount": None})
    v = verdict("money.no_double_charge", unknown)
    assert v.status == "fail" and "where one charge was 10.00 USD (2 captures:" in v.examples[0].why
    assert verdict("money.state_matches_ledger", history(GOOD_RETRY, "succeeded", charges=1)
                   .model_copy(update={"expected_amount": None})).status == "pass"


def test_an_unknown_outcome_resolved_by_a_lookup_is_not_giving_up() -> None:
    lost = attempt(0.0, None, delivery="dropped")  # the reply never came: was it charged?
    looked = attempt(0.5, 200).model_copy(update={"role": "lookup", "endpoint": "payment_intents.search"})
    assert verdict("retry.transient", history([lost, looked], "declined")).status == "pass"
    v = verdict("retry.transient", history([lost], "declined"))
    assert v.status == "fail" and "gave up after 1 of 3" in v.examples[0].why
    certain = attempt(0.0, 503)  # a 503 is certain: nothing ran, so a lookup resolves nothing
    assert verdict("retry.transient", history([certain, looked], "failed")).status == "fail"


def _cut(a: Attempt) -> Attempt:
    """A reply a lossy network fault may have cut, and the backend cannot say whether it reached the service."""
    return a.model_copy(update={"klass": "unknown", "failure": "dropped", "network_fault": "resets",
                                "reply": "unknown"})


def test_giving_up_is_not_concluded_from_a_reply_a_network_fault_may_have_cut() -> None:
    cut = history([_cut(attempt(0.0, 402, decline="insufficient_funds"))], "declined")
    retried = history([attempt(0.0, 503, ref="ord_2"), attempt(0.3, 200, ref="ord_2")], "succeeded", charges=1,
                      o=order(2))
    v = verdict("retry.transient", cut, retried)
    assert v.status == "pass" and "1 whose last reply a network fault may have cut were not judged" in v.measured
    plain = attempt(0.0, None, delivery="dropped")
    assert verdict("retry.transient", history([plain], "declined")).status == "fail", "a drop the provider saw"


def test_nothing_but_cut_replies_is_skipped_not_passed() -> None:
    v = verdict("retry.transient", history([_cut(attempt(0.0, 402, decline="insufficient_funds"))], "declined"))
    assert v.status == "skipped" and "network fault" in v.reason, v