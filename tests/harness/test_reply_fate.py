"""What reached the service, from journals, proxy delivery records and fault
windows (``build_evidence``), and the clause built on it: an unknown outcome is
resolved before the order is reported final (``money.unknown_resolved``)."""

from __future__ import annotations

from harness.checks import run_checks
from harness.evidence.collect import build_evidence
from harness.evidence.model import FaultEvent, TargetCall

from tests.harness.test_checks import CTX, order


def entry(seq: int, t: float, *, status: int | None = 200, klass: str = "ok", failure: str | None = None,
          decline: str | None = None, port: int | None = 5000, reply_end: int | None = None, role: str = "charge",
          key: str = "k1", delivery: str = "delivered", ref: str = "ord_1", method: str = "POST") -> dict:
    """A journal entry as cardpay writes it (only the fields the join reads)."""
    sent = status is not None
    return {
        "seq": seq, "provider": "cardpay", "type": "cardpay", "role": role, "class": klass, "failure": failure,
        "t_start": t, "t_end": t + 0.01, "method": method, "path": "/v1/payment_intents",
        "endpoint": "payment_intents.create" if role == "charge" else "payment_intents.search",
        "order_ref": ref, "idempotency_key": key if method == "POST" else None,
        "response": {"status": status, "decline_code": decline, "error_code": "card_declined" if decline else None,
                     "object_id": "pi_1"} if sent else None,
        "delivery": delivery, "committed": False,
        "conn": {"port": port, "reply_end": reply_end or 1000 * seq} if sent and port else None,
    }


def call(kind: str, t0: float, t1: float, outcome: str, body: dict | None = None) -> TargetCall:
    return TargetCall(order_id="ord_1", kind=kind, t_start=t0, t_end=t1, status=200, outcome=outcome,
                      body=body if body is not None else {"status": outcome})


def evidence(entries, calls, *, deliveries=None, faults=()):
    return build_evidence([order()], calls, {"cardpay": entries}, {"cardpay": {"entries": [], "objects": []}},
                          list(faults), deliveries=deliveries)


def attempts(ev):
    return ev.orders["ord_1"].attempts


RESETS = FaultEvent(name="resets", kind="reset_peer", layer="network", provider="cardpay", t_on=0.0, t_off=5.0,
                    rule={"stream": "downstream"})


# -- what reached the service ----------------------------------------------------


def test_a_reply_the_proxy_passed_on_keeps_the_providers_class_even_under_a_lossy_fault() -> None:
    e = entry(1, 1.0, status=402, klass="failed", failure="decline", decline="insufficient_funds", reply_end=900)
    ev = evidence([e], [call("pay", 0.9, 1.2, "declined")], faults=[RESETS],
                  deliveries={"cardpay": [{"port": 5000, "t_open": 0.5, "t_close": 2.0, "delivered": 900}]})
    (a,) = attempts(ev)
    assert (a.reply, a.klass, a.failure, a.network_fault) == ("reached", "failed", "decline", "resets")


def test_a_reply_the_proxy_cut_is_unknown_and_its_hint_is_dropped() -> None:
    e = entry(1, 1.0, status=503, klass="failed", failure="unavailable", reply_end=900)
    e["retry_hint"] = True
    ev = evidence([e], [call("pay", 0.9, 1.2, "failed")], faults=[RESETS],
                  deliveries={"cardpay": [{"port": 5000, "t_open": 0.5, "t_close": 2.0, "delivered": 899}]})
    (a,) = attempts(ev)
    assert (a.reply, a.klass, a.failure, a.retry_hint) == ("cut", "unknown", "dropped", None)


def test_a_reply_cut_without_a_lossy_fault_is_a_timeout_of_the_caller() -> None:
    # A latency toxic held the reply and the service hung up: the provider wrote it, the service never read it.
    ev = evidence([entry(1, 1.0, reply_end=500)], [call("pay", 0.9, 2.5, "pending")],
                  deliveries={"cardpay": [{"port": 5000, "t_open": 0.5, "t_close": 2.0, "delivered": 0}]})
    (a,) = attempts(ev)
    assert (a.reply, a.klass, a.failure) == ("cut", "unknown", "timeout")
    assert a.network_fault


def test_a_reused_port_is_told_apart_by_time() -> None:
    early = {"port": 5000, "t_open": 0.0, "t_close": 1.0, "delivered": 0}
    late = {"port": 5000, "t_open": 2.0, "t_close": None, "delivered": 4000}
    ev = evidence([entry(1, 0.5, reply_end=300), entry(2, 2.5, reply_end=300, key="k1")],
                  [call("pay", 0.0, 3.0, "succeeded")], deliveries={"cardpay": [early, late]})
    assert [a.reply for a in attempts(ev)] == ["cut", "reached"]


def test_a_reply_not_through_the_proxy_keeps_the_providers_view() -> None:
    ev = evidence([entry(1, 1.0, port=6000)], [call("pay", 0.9, 1.2, "succeeded")], faults=[RESETS],
                  deliveries={"cardpay": [{"port": 5000, "t_open": 0.5, "t_close": 2.0, "delivered": 0}]})
    (a,) = attempts(ev)
    assert (a.reply, a.klass) == (None, "ok")


def test_without_delivery_records_a_lossy_window_makes_the_fate_unknown() -> None:
    ev = evidence([entry(1, 1.0), entry(2, 6.0)], [call("pay", 0.9, 6.2, "succeeded")], faults=[RESETS])
    inside, after = attempts(ev)
    assert (inside.reply, inside.klass, inside.network_fault) == ("unknown", "unknown", "resets")
    assert (after.reply, after.klass, after.network_fault) == (None, "ok", None)


def test_the_services_answer_proves_a_decline_reached_it() -> None:
    e = entry(1, 1.0, status=402, klass="failed", failure="decline", decline="insufficient_funds")
    said = call("pay", 0.9, 1.2, "declined", {"status": "declined", "error": {"code": "insufficient_funds"}})
    (a,) = attempts(evidence([e], [said], faults=[RESETS]))
    assert (a.reply, a.klass, a.failure) == ("reached", "failed", "decline")
    silent = call("pay", 0.9, 1.2, "declined", {"status": "declined", "error": {"code": "card_refused"}})
    (b,) = attempts(evidence([e], [silent], faults=[RESETS]))
    assert (b.reply, b.klass) == ("unknown", "unknown")


def test_of_a_decline_and_its_replay_only_the_last_one_is_proven() -> None:
    # The first 402's reply may have been cut (the service retried under the same key); the replay reached it.
    first = entry(1, 1.0, status=402, klass="failed", failure="decline", decline="insufficient_funds")
    replay = entry(2, 1.5, status=402, klass="failed", failure="decline", decline="insufficient_funds")
    said = call("pay", 0.9, 1.7, "declined", {"status": "declined", "code": "insufficient_funds"})
    ev = evidence([first, replay], [said], faults=[RESETS])
    assert [(a.reply, a.klass) for a in attempts(ev)] == [("unknown", "unknown"), ("reached", "failed")]
    (v,) = run_checks(["retry.never_retry"], ev, CTX)
    assert v.status != "fail", "a retry after a reply that may never have arrived is not a retried decline"


def test_a_reply_the_provider_never_wrote_keeps_its_class_under_a_lossy_fault() -> None:
    (a,) = attempts(evidence([lost(1, 1.0)], [call("pay", 0.9, 3.2, "pending")], faults=[RESETS]))
    assert (a.reply, a.klass, a.failure, a.network_fault) == (None, "unknown", "timeout", "resets")


def test_a_reply_written_just_before_the_window_may_be_held_into_it_by_latency() -> None:
    latency = FaultEvent(name="jittery", kind="latency", layer="network", provider="cardpay", t_on=0.0, t_off=9.0,
                         rule={"stream": "downstream", "attributes": {"latency": 80, "jitter": 40}})
    resets = RESETS.model_copy(update={"t_on": 3.0, "t_off": 4.0})
    held = entry(1, 2.8, status=402, klass="failed", failure="decline", decline="insufficient_funds")
    early = entry(2, 2.0, key="k2", ref="ord_1")
    calls = [call("pay", 1.9, 3.5, "pending")]
    ev = evidence([held, early], calls, faults=[latency, resets])
    by_seq = {a.seq: a for a in attempts(ev)}
    assert (by_seq[1].reply, by_seq[1].klass) == ("unknown", "unknown"), "2.8 s + up to 0.22 s held reaches 3.0 s"
    assert (by_seq[2].reply, by_seq[2].klass) == (None, "ok"), "written 1 s before: delivered before the resets"
    # Without the latency toxic the same reply was delivered before the window opened.
    (a, _) = sorted(attempts(evidence([held, early], calls, faults=[resets])), key=lambda a: a.seq)
    assert (a.reply, a.klass) == (None, "failed")


def test_upstream_toxics_lose_no_reply() -> None:
    up = RESETS.model_copy(update={"rule": {"stream": "upstream"}})
    (a,) = attempts(evidence([entry(1, 1.0)], [call("pay", 0.9, 1.2, "succeeded")], faults=[up]))
    assert (a.reply, a.klass, a.network_fault) == (None, "ok", None)


# -- money.unknown_resolved -------------------------------------------------------


def lost(seq: int, t: float, **kw) -> dict:
    return entry(seq, t, status=None, klass="unknown", failure="timeout", delivery="client_gone", **kw)


def lookup(seq: int, t: float, *, status: int = 200, klass: str = "ok", failure: str | None = None) -> dict:
    return entry(seq, t, role="lookup", method="GET", status=status, klass=klass, failure=failure)


def judge(entries, calls, **kw):
    (v,) = run_checks(["money.unknown_resolved"], evidence(entries, calls, **kw), CTX)
    return v


def test_a_guess_after_an_unknown_outcome_fails_with_the_timeline() -> None:
    v = judge([lost(1, 1.0), lost(2, 2.1)], [call("pay", 0.9, 3.2, "failed")])
    assert v.status == "fail", v
    why = v.examples[0].why
    assert "reported failed at 3.2 s (its answer)" in why
    assert "unknown since 2.1 s (attempt 2: timeout) and never looked up" in why


def test_a_lookup_that_answered_before_the_final_report_resolves_it() -> None:
    v = judge([lost(1, 1.0), lookup(2, 2.0)], [call("pay", 0.9, 3.2, "succeeded")])
    assert v.status == "pass" and v.judged == 1, v


def test_a_lookup_that_got_no_answer_resolves_nothing() -> None:
    v = judge([lost(1, 1.0), lookup(2, 2.0, status=503, klass="failed", failure="unavailable")],
              [call("pay", 0.9, 3.2, "failed")])
    assert v.status == "fail" and "lookup(s) got no answer (503" in v.examples[0].why, v


def test_a_lookup_after_the_final_report_is_too_late() -> None:
    v = judge([lost(1, 1.0), lookup(2, 4.0)], [call("pay", 0.9, 3.2, "failed")])
    assert v.status == "fail", v


def test_pending_then_resolved_by_a_reconciler_before_the_lookup_says_final() -> None:
    calls = [call("pay", 0.9, 1.5, "pending"), call("lookup", 9.0, 9.1, "succeeded")]
    v = judge([lost(1, 1.0), lookup(2, 5.0)], calls)
    assert v.status == "pass", v
    unresolved = judge([lost(1, 1.0)], calls)
    assert unresolved.status == "fail" and "reported succeeded at 9.1 s (a lookup of the order)" in \
        unresolved.examples[0].why


def test_a_same_key_replay_that_got_the_answer_resolves_it_and_another_key_does_not() -> None:
    calls = [call("pay", 0.9, 1.5, "pending"), call("lookup", 9.0, 9.1, "succeeded")]
    replay = entry(2, 5.0, key="k1")
    assert judge([lost(1, 1.0), replay], calls).status == "pass"
    other = entry(2, 5.0, key="k2")
    assert judge([lost(1, 1.0), other], calls).status == "fail"


def test_a_known_last_answer_is_not_judged() -> None:
    v = judge([lost(1, 1.0), entry(2, 2.0)], [call("pay", 0.9, 3.2, "succeeded")])
    assert v.status == "skipped" and "no order reported final" in v.reason, v


def test_an_order_still_pending_is_left_to_all_final() -> None:
    v = judge([lost(1, 1.0)], [call("pay", 0.9, 1.5, "pending")])
    assert v.status == "skipped", v


def test_a_last_attempt_of_unknown_fate_is_not_judged_and_says_so() -> None:
    v = judge([entry(1, 1.0)], [call("pay", 0.9, 3.2, "failed")], faults=[RESETS])
    assert v.status == "skipped" and "1 whose last reply a network fault may have cut were not judged" in v.reason, v


def test_a_cut_reply_is_known_lost_and_judged() -> None:
    v = judge([entry(1, 1.0, reply_end=700)], [call("pay", 0.9, 3.2, "failed")], faults=[RESETS],
              deliveries={"cardpay": [{"port": 5000, "t_open": 0.5, "t_close": 2.0, "delivered": 10}]})
    assert v.status == "fail" and "attempt 1: 200, reply cut" in v.examples[0].why, v
