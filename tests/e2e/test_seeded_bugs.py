"""Every seeded bug in the reference target is caught by the check that names
its clause, with an offending order in the verdict; the correct target passes
the same scenario."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import STANDARD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# bug -> (scenario, the clause whose verdict must fail)
CATALOGUE = {
    "no-retry": ("card-timeouts", "retry.transient"),
    "retry-declines": ("card-declines", "retry.never_retry"),
    "unbounded-retry": ("card-timeouts", "retry.max_attempts"),
    "no-backoff": ("card-timeouts", "retry.backoff"),
    "new-key-per-attempt": ("card-timeouts", "idempotency.same_key_across_retries"),
    "ignore-retry-after": ("rate-limited", "retry.honour_retry_after"),
    "double-charge-on-timeout": ("lost-reply", "money.no_double_charge"),
    "vague-errors": ("card-declines", "errors.required"),
    "no-client-timeout": ("slow-provider", "degradation.max_response_ms"),
    "fail-on-ambiguous": ("slow-provider", "money.no_orphan_capture"),
    "succeed-on-ambiguous": ("lost-reply", "money.state_matches_ledger"),
    "forget-unpaid": ("card-declines", "money.all_final"),
    "reconcile-new-key": ("lost-reply", "reconcile.replay"),
    "reconcile-hammer": ("lost-reply", "reconcile.max_requests"),
    "legacy-charges-api": ("card-declines", "integration.api"),
}

# Bugs that make the evidence untrustworthy: an error (exit 3), not a failed check.
GATES = {"legacy-charges-api"}


# Charging again under a new key is, seen from the provider, both a key change
# and (where the first attempt committed) a second charge: these two bugs
# necessarily show under both clauses. Every other bug fails its clause alone.
ALSO_FAILS = {
    "double-charge-on-timeout": {"idempotency.same_key_across_retries"},
    "new-key-per-attempt": {"money.no_double_charge"},
}


def test_the_catalogue_covers_every_seeded_bug() -> None:
    from examples.reference_target.bugs import SEEDED_BUGS

    assert set(CATALOGUE) == set(SEEDED_BUGS)
    for bug, (_, clause) in CATALOGUE.items():
        assert SEEDED_BUGS[bug].breaks == clause, bug


@pytest.mark.parametrize("bug", sorted(set(CATALOGUE) - GATES))
def test_seeded_bug_is_caught_by_its_clause(run_paychaos, bug: str) -> None:
    scenario, clause = CATALOGUE[bug]
    run = run_paychaos(str(STANDARD / f"{scenario}.yaml"), "--seed", "7", env={"REFTARGET_BUG": bug})
    assert run.code == 1, (run.stdout[-3000:], run.stderr[-3000:])
    verdicts = run.verdicts()
    verdict = verdicts[clause]
    assert verdict["status"] == "fail", verdict
    # each bug breaks one documented expectation: no other clause fails
    others = {c for c, v in verdicts.items() if v["status"] in ("fail", "error")} - {clause}
    assert others <= ALSO_FAILS.get(bug, set()), others
    assert "contracts/reference.yaml:" in verdict["where"]
    assert verdict["examples"], "the verdict shows an offending order"
    example = verdict["examples"][0]
    assert example["order_id"].startswith("ord_") and example["history"]["events"]
    # the reports say it too
    junit = (run.report_dir / "junit.xml").read_text()
    assert f'name="{clause}"' in junit and "<failure" in junit
    assert clause in (run.report_dir / "summary.md").read_text()


def test_an_integration_mismatch_is_an_error_naming_the_endpoint_and_nothing_else_is_judged(run_paychaos) -> None:
    scenario, clause = CATALOGUE["legacy-charges-api"]
    run = run_paychaos(str(STANDARD / f"{scenario}.yaml"), "--seed", "7", env={"REFTARGET_BUG": "legacy-charges-api"})
    assert run.code == 3, (run.stdout[-3000:], run.stderr[-3000:])
    verdicts = run.verdicts()
    gate = verdicts[clause]
    assert gate["status"] == "error" and "POST /v1/charges -> 404 not served by this provider" in gate["reason"], gate
    assert "cardpay serves POST /v1/payment_intents" in gate["reason"]
    others = {c: v["status"] for c, v in verdicts.items() if c != clause}
    assert others and set(others.values()) == {"skipped"}, others
    assert all(v["reason"].startswith("not judged: integration.api") for c, v in verdicts.items() if c != clause)
    junit = (run.report_dir / "junit.xml").read_text()
    assert f'name="{clause}"' in junit and "<error" in junit
