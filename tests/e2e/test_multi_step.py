"""A checkout that takes three calls to the service with a session cookie and a
CSRF token, plus the customer's browser confirming with the provider: driven
step by step and judged correctly. The browser's confirmations are the
customer's attempts, never counted as the service's retries."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import REPO

pytestmark = pytest.mark.integration

SUITE = REPO / "tests" / "fixtures" / "session_suite"


def run(run_paychaos, env: dict | None = None):
    return run_paychaos(str(SUITE / "checkout.yaml"), "--seed", "5", target=SUITE / "target.yaml",
                        contract=SUITE / "contract.yaml", env=env or {})


def test_a_three_call_checkout_with_cookie_csrf_and_a_browser_confirmation(run_paychaos) -> None:
    r = run(run_paychaos)
    assert r.code == 0, (r.stdout[-3000:], r.stderr[-3000:])
    v = r.verdicts()
    assert {c: v[c]["status"] for c in ("money.no_double_charge", "money.state_matches_ledger", "money.all_final",
                                        "retry.max_attempts", "attribution.coverage")} == dict.fromkeys(
        ("money.no_double_charge", "money.state_matches_ledger", "money.all_final", "retry.max_attempts",
         "attribution.coverage"), "pass")
    assert v["retry.max_attempts"]["figures"]["max_seen"] == 1, "the browser's confirm is not the shop's retry"
    evidence = json.loads((r.report_dir / "runs/session-checkout/evidence.json").read_text())
    orders = list(evidence["orders"].values())
    pays = [c for h in orders for c in h["calls"] if c["kind"] == "pay"]
    assert pays and all(c["status"] == 200 for c in pays), "the session cookie and the CSRF token were accepted"
    assert [s["name"] for s in pays[0]["steps"]] == ["page", "intent", "confirm", "complete"]
    assert pays[0]["steps"][2]["to"] == "provider:cardpay"
    phases = {(a["role"], a["phase"]) for h in orders for a in h["attempts"]}
    assert ("charge", "customer") in phases and ("charge", "in_call") in phases
    declined = [h for h in orders if h["order"]["card"]["name"] == "insufficient_funds"]
    assert declined and all(h["final"] == "declined" for h in declined)


def test_a_shop_that_trusts_the_browser_is_caught(run_paychaos) -> None:
    r = run(run_paychaos, {"SESSION_BUG": "trust-the-browser"})
    assert r.code == 1, (r.stdout[-3000:], r.stderr[-3000:])
    v = r.verdicts()
    failing = {c for c, x in v.items() if x["status"] in ("fail", "error")}
    assert failing == {"money.state_matches_ledger"}, failing
    assert "the target reports succeeded but the ledgers hold 0.00 USD" in \
        v["money.state_matches_ledger"]["examples"][0]["why"]
