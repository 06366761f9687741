"""Authorisations (money held on a card for a later capture) in the money checks.

A hold that is captured is a charge; a hold that is released is nothing; a hold
neither captured nor released when the run ends is money the payer cannot use,
and counts as money at risk wherever a capture would."""

from __future__ import annotations

from harness.evidence.model import Evidence, open_holds

from tests.harness.builders import charge, history, order, verdict

MONEY = ("money.no_double_charge", "money.no_orphan_capture", "money.state_matches_ledger")


def _hold(amount=1000, *, obj="pi_0", seq=0, ref="ord_1", t=10.0):
    return charge(amount, kind="authorize", obj=obj, seq=seq, ref=ref, t=t)


def _statuses(h) -> dict[str, str]:
    return {cid: verdict(cid, h).status for cid in MONEY}


def test_a_hold_captured_in_full_is_one_charge_and_passes_every_money_clause() -> None:
    h = history([], "succeeded", ledger=[_hold(1000), charge(1000, seq=1)])
    assert h.held == 0 and h.net_captured == 1000
    assert _statuses(h) == {cid: "pass" for cid in MONEY}


def test_a_partial_capture_spends_the_hold_with_its_release() -> None:
    ledger = [_hold(1000), charge(600, seq=1), charge(400, kind="release", seq=2)]
    assert open_holds([e.model_copy(update={"provider": "cardpay"}) for e in ledger]) == []


def test_a_hold_left_open_for_a_failed_order_is_an_orphan_with_money_at_risk() -> None:
    o = order()
    v = verdict("money.no_orphan_capture", history([], "failed", ledger=[_hold(o.amount, ref=o.id)], o=o))
    assert v.status == "fail"
    assert "held 10.00 USD on the card, never captured nor released" in v.examples[0].why
    assert v.money_at_risk == {"usd": o.amount}


def test_a_released_hold_for_a_failed_order_is_no_orphan() -> None:
    h = history([], "failed", ledger=[_hold(1000), charge(1000, kind="release", seq=1)])
    assert h.held == 0
    assert verdict("money.no_orphan_capture", h).status == "skipped"


def test_a_second_hold_left_open_beside_a_capture_is_a_double_charge() -> None:
    ledger = [_hold(1000, obj="pi_0"), charge(1000, obj="pi_0", seq=1), _hold(1000, obj="pi_1", seq=2)]
    v = verdict("money.no_double_charge", history([], "succeeded", ledger=ledger))
    assert v.status == "fail"
    assert "held 10.00 USD never captured nor released" in v.examples[0].why
    assert "(2 captures and holds: cardpay:pi_0, cardpay:pi_1 (held))" in v.examples[0].why
    assert verdict("money.state_matches_ledger", history([], "succeeded", ledger=ledger)).status == "pass"


def test_an_open_hold_for_no_known_order_is_stray_money() -> None:
    stray = _hold(700, obj="pi_x", ref=None)
    (h,) = [history([], "succeeded", charges=1)]
    v = verdict("money.no_orphan_capture", h, unattributed_ledger=[stray])
    assert v.status == "fail" and "open holds carry no known order (cardpay:pi_x)" in v.measured
    released = [stray, charge(700, kind="release", obj="pi_x", ref=None, seq=1)]
    assert verdict("money.no_orphan_capture", h, unattributed_ledger=released).status == "pass"


def test_holds_in_another_instance_are_kept_apart() -> None:
    a = charge(1000, kind="authorize", obj="pi_0", provider="primary")
    b = charge(1000, kind="charge", obj="pi_0", provider="backup", seq=1)  # same id, another provider's object
    assert [auth.provider for auth, _ in open_holds([a, b])] == ["primary"]
    assert Evidence().unattributed_ledger == []
