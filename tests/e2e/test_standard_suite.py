"""The correct reference target passes the standard suite, every time (no
flakes): each scenario under several seeds."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import STANDARD

pytestmark = [pytest.mark.integration]

SCENARIOS = ["card-timeouts", "card-declines", "rate-limited", "lost-reply", "network-flaky", "slow-provider"]

MONEY = {"money.no_double_charge", "money.no_orphan_capture", "money.state_matches_ledger", "money.all_final"}
RETRIED = {"retry.max_attempts", "retry.transient", "retry.backoff", "idempotency.same_key_across_retries"}

# The checks each scenario's story puts to the test: for the correct reference target each must be
# JUDGED and pass (a skip proves nothing). Every other check may skip with its reason, never fail.
# Chosen from runs of every scenario on seeds 1, 11, 22, 33, 44 and 55 (the seeds below): only checks
# judged on all of them, and backed by the scenario's faults (a check judged on a side effect, e.g.
# never_retry on the few declined cards of rate-limited, judged 0-2 times, is left out).
# Never judged for a correct target: reconcile.replay (it never charges after answering) and
# retry.honour_retry_after outside rate-limited (no other scenario sends Retry-After).
MUST_PASS: dict[str, set[str]] = {
    # every decline kind, never retried, each answered with type/action/contact; occasional 503s retried
    "card-declines": MONEY | RETRIED | {"retry.never_retry", "errors.required"},
    # 503 bursts and slow commits retried with backoff; failures past the budget answered clearly, in time
    "card-timeouts": MONEY | RETRIED | {"errors.required", "degradation.max_response_ms"},
    # lost replies retried under one key and resolved by lookup, never guessed; payments that never ran
    # left pending and reconciled
    "lost-reply": MONEY | RETRIED | {"errors.required", "reconcile.max_requests", "money.unknown_resolved"},
    # a second of resets retried; latency and slicing never push an answer past the limit
    "network-flaky": MONEY | RETRIED | {"degradation.max_response_ms"},
    # 429s retried no sooner than Retry-After
    "rate-limited": MONEY | RETRIED | {"retry.honour_retry_after"},
    # a silent provider: answered in time (pending, not guessed), retried with backoff, then reconciled
    "slow-provider": MONEY | RETRIED | {"degradation.max_response_ms", "reconcile.max_requests",
                                        "money.unknown_resolved"},
}


def _assert_all_pass(run) -> None:
    """Exit 0, no check failed or errored, and in every scenario its MUST_PASS checks were judged and passed."""
    scenarios = run.journal["scenarios"]
    assert scenarios, (run.stdout[-4000:], run.stderr[-2000:])
    problems: dict[str, dict[str, str]] = {}
    for s in scenarios:
        verdicts = {v["check"]: v for v in s["verdicts"]}
        bad = {c: f"{v['status']}: {v['measured'] or v['reason']}" for c, v in verdicts.items()
               if v["status"] in ("fail", "error")}
        assert s["name"] in MUST_PASS, f"{s['name']}: a standard scenario needs its MUST_PASS entry"
        for c in sorted(MUST_PASS[s["name"]]):
            v = verdicts.get(c)
            if v is None:
                bad[c] = "missing: the scenario no longer verifies it"
            elif v["status"] != "pass" or not v.get("judged"):
                bad[c] = f"{v['status']} (judged {v.get('judged')}), must pass: {v['measured'] or v['reason']}"
        if bad:
            problems[s["name"]] = bad
    assert run.code == 0 and not problems, (run.code, problems, run.stdout[-4000:], run.stderr[-2000:])


def test_every_standard_scenario_has_its_must_pass_checks() -> None:
    assert set(MUST_PASS) == set(SCENARIOS) == {p.stem for p in STANDARD.glob("*.yaml")}


def test_the_whole_standard_suite_passes_and_writes_every_report(run_paychaos) -> None:
    run = run_paychaos(str(STANDARD), "--seed", "1")
    _assert_all_pass(run)
    j = run.journal
    assert {s["name"] for s in j["scenarios"]} >= set(SCENARIOS)
    assert j["seed"] == 1 and "--seed 1" in j["replay"]
    for s in j["scenarios"]:
        assert s["status"] == "passed"
        assert s["faults"] and all(f["t_on"] is not None for f in s["faults"]), "faults were applied, with timestamps"
        # the gates first (the evidence can be trusted), then money, on every run
        checks = [v["check"] for v in s["verdicts"]]
        assert checks[:3] == ["integration.api", "attribution.coverage", "money.no_double_charge"], checks
        assert {v["status"] for v in s["verdicts"][:2]} == {"pass"}
        hits = s["summary"]["faults_fired"] + s["summary"]["network_affected"]
        assert hits > 0, f"{s['name']}: the faults hit nothing"
    assert (run.report_dir / "junit.xml").read_text().count("<testcase") >= 20
    assert "# paychaos run: PASS" in (run.report_dir / "summary.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 22, 33, 44, 55])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_correct_target_passes_every_seed(run_paychaos, scenario: str, seed: int) -> None:
    _assert_all_pass(run_paychaos(str(STANDARD / f"{scenario}.yaml"), "--seed", str(seed)))
