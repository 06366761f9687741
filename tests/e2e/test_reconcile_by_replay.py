"""A service that answers "processing" when it cannot know and reconciles by
replaying the payment under its own key afterwards does what it documents:
its replays are not judged as retries beyond max_attempts. Replays under a new
key fail the reconcile clause."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import REPO

pytestmark = pytest.mark.integration

SUITE = REPO / "tests" / "fixtures" / "minipay_suite"


def run(run_paychaos, bug: str = ""):
    return run_paychaos(str(SUITE / "reconcile"), "--seed", "4", target=SUITE / "target.yaml",
                        contract=SUITE / "contract-replay.yaml",
                        env={"MINISHOP_RECONCILE": "replay", "MINISHOP_BUG": bug})


def test_a_replay_reconciler_passes(run_paychaos) -> None:
    r = run(run_paychaos)
    assert r.code == 0, (r.stdout[-3000:], r.stderr[-3000:])
    v = r.verdicts()
    assert v["reconcile.replay"]["status"] == "pass" and v["reconcile.replay"]["judged"] > 0
    assert v["retry.max_attempts"]["status"] == "pass" and v["retry.max_attempts"]["figures"]["max_seen"] == 3
    assert v["reconcile.max_requests"]["status"] == "pass"


def test_replays_under_a_new_key_fail_the_reconcile_clause(run_paychaos) -> None:
    r = run(run_paychaos, "reconcile-new-key")
    assert r.code == 1, (r.stdout[-3000:], r.stderr[-3000:])
    v = r.verdicts()
    failing = {c for c, x in v.items() if x["status"] in ("fail", "error")}
    # A charge under a new key answers for itself, not for the payment whose outcome was unknown: that
    # order is then reported final without its own outcome ever being resolved, necessarily.
    assert failing == {"reconcile.replay", "money.unknown_resolved"}, failing
    why = v["reconcile.replay"]["examples"][0]["why"]
    assert "-r1, but the payment's key is" in why and "a new key is a new charge" in why
