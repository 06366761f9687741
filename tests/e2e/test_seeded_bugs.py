"""Every seeded bug in the reference target is caught by the check that names
its clause, with an offending order in the verdict; the correct target passes
the same scenario."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.conftest import STANDARD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# bug -> (scenario, the clause whose verdict must fail, a fragment of what the verdict says about the
# offending order: its example's `why`, or for a gate its `reason`). The fragments are the wording of
# the checks in harness/checks/*.py; a new bug adds one line here.
CATALOGUE = {
    "no-retry": ("card-timeouts", "retry.transient", "and the target gave up after 1 of 3 allowed attempts"),
    "retry-declines": ("card-declines", "retry.never_retry",
                       "never retried (the provider said do not retry)) and the target tried"),
    "unbounded-retry": ("card-timeouts", "retry.max_attempts", " attempts > 3 allowed"),
    "no-backoff": ("card-timeouts", "retry.backoff", "the documented backoff allows no less than"),
    "new-key-per-attempt": ("card-timeouts", "idempotency.same_key_across_retries", " different keys: "),
    "ignore-retry-after": ("rate-limited", "retry.honour_retry_after", "with Retry-After 1s; the retry came"),
    "double-charge-on-timeout": ("lost-reply", "money.no_double_charge", " captures: cardpay:pi_"),
    "vague-errors": ("card-declines", "errors.required",
                     "lacks type (error.type), action (error.action), contact (error.contact)"),
    # answered only when the provider's hold lifts: "answered HTTP 200 after 10068 ms > 8000 ms"
    "no-client-timeout": ("slow-provider", "degradation.max_response_ms", " ms > 8000 ms"),
    "fail-on-ambiguous": ("slow-provider", "money.no_orphan_capture", "but the target's final state is failed"),
    "succeed-on-ambiguous": ("lost-reply", "money.state_matches_ledger",
                             "the target reports succeeded but the ledgers hold"),
    "guess-on-unknown": ("lost-reply", "money.unknown_resolved", "never looked up"),
    "forget-unpaid": ("card-declines", "money.all_final", "the target does not know this order (404): lost"),
    "reconcile-new-key": ("lost-reply", "reconcile.replay", "the contract documents reconciling by lookup only"),
    "reconcile-hammer": ("lost-reply", "reconcile.max_requests", "provider requests (lookup) in "),
    "legacy-charges-api": ("card-declines", "integration.api",
                           "POST /v1/charges -> 400 parameter_unknown (parameter payment_method)"),
    # A scenario outside the standard suite (its own folder under scenarios/), against the target in
    # the mode that sends what it faults (BUG_ENV).
    "hold-left-open": ("capture/capture-outage", "money.no_orphan_capture",
                       "never captured nor released but the target's final state is failed"),
}

# The reference target's settings a bug's scenario needs (besides REFTARGET_BUG).
BUG_ENV = {"hold-left-open": {"REFTARGET_CAPTURE": "manual"}}

# Bugs that make the evidence untrustworthy: an error (exit 3), not a failed check.
GATES = {"legacy-charges-api"}


# Charging again under a new key is, seen from the provider, both a key change
# and (where the first attempt committed) a second charge: these two bugs
# necessarily show under both clauses. Answering an ambiguous payment failed or
# succeeded without looking it up is a guess, which money.unknown_resolved sees
# whether or not the guess moved money; a wrong guess that a charge went
# through is also an orphan capture. Every other bug fails its clause alone.
ALSO_FAILS = {
    "double-charge-on-timeout": {"idempotency.same_key_across_retries"},
    "new-key-per-attempt": {"money.no_double_charge"},
    "fail-on-ambiguous": {"money.unknown_resolved"},
    "succeed-on-ambiguous": {"money.unknown_resolved"},
    "guess-on-unknown": {"money.no_orphan_capture"},
}


def test_the_catalogue_covers_every_seeded_bug() -> None:
    from examples.reference_target.bugs import SEEDED_BUGS

    assert SEEDED_BUGS and set(CATALOGUE) == set(SEEDED_BUGS)
    for bug, (scenario, clause, why) in CATALOGUE.items():
        assert SEEDED_BUGS[bug].breaks == clause, bug
        assert scenario_file(scenario).is_file(), bug
        assert why.strip(), f"{bug}: say what the verdict must say about the offending order"


def scenario_file(scenario: str) -> Path:
    """``card-timeouts`` in the standard suite; ``capture/capture-outage`` under scenarios/."""
    return STANDARD.parent / f"{scenario}.yaml" if "/" in scenario else STANDARD / f"{scenario}.yaml"


def summary_section(summary: str, scenario: str, clause: str) -> str:
    """The clause's own failure section of summary.md, inside its scenario's part."""
    part = summary.split(f"\n## {scenario}: ", 1)
    assert len(part) == 2, f"no section for scenario {scenario} in summary.md"
    part = part[1].split("\n## ", 1)[0]
    head = f"\n### {clause} failed\n"
    assert head in part, f"summary.md has no '### {clause} failed' section under {scenario}"
    return part.split(head, 1)[1].split("\n### ", 1)[0]


def junit_cases(report_dir: Path, scenario: str) -> dict[str, ET.Element]:
    """The scenario's testcases in junit.xml, by check."""
    suites = [s for s in ET.parse(report_dir / "junit.xml").getroot().iter("testsuite") if s.get("name") == scenario]
    assert len(suites) == 1, f"junit.xml has {len(suites)} testsuites named {scenario}"
    return {case.get("name"): case for case in suites[0].iter("testcase")}


@pytest.mark.parametrize("bug", sorted(set(CATALOGUE) - GATES))
def test_seeded_bug_is_caught_by_its_clause(run_paychaos, bug: str) -> None:
    path, clause, why = CATALOGUE[bug]
    scenario = path.rsplit("/", 1)[-1]
    run = run_paychaos(str(scenario_file(path)), "--seed", "7", env={"REFTARGET_BUG": bug, **BUG_ENV.get(bug, {})})
    assert run.code == 1, (run.stdout[-3000:], run.stderr[-3000:])
    verdicts = run.verdicts()
    verdict = verdicts[clause]
    assert verdict["status"] == "fail", verdict
    # each bug breaks one documented expectation: no other clause fails
    failing = {c for c, v in verdicts.items() if v["status"] in ("fail", "error")}
    assert failing - {clause} <= ALSO_FAILS.get(bug, set()), failing
    assert "contracts/reference.yaml:" in verdict["where"]
    # the verdict shows offending orders, each with its history and said for the right reason
    assert verdict["examples"] and verdict["offenders"] >= len(verdict["examples"]), verdict
    for example in verdict["examples"]:
        assert example["order_id"].startswith("ord_") and example["history"]["events"], example
        assert why in example["why"], (why, example["why"])
    first = verdict["examples"][0]
    # the reports say it too: the clause's own junit testcase fails with the offending order in its text...
    cases = junit_cases(run.report_dir, scenario)
    failure = cases[clause].find("failure")
    assert failure is not None, f"junit testcase {clause} has no <failure>"
    assert failure.get("type") == clause and first["order_id"] in failure.text and why in failure.text
    failed_cases = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed_cases == failing, "a <failure> for each failing clause, and for no other"
    # ...and summary.md has the clause's own failure section, with the offending order and why.
    section = summary_section((run.report_dir / "summary.md").read_text(), scenario, clause)
    assert first["order_id"] in section and why in section, section[:2000]


def test_an_integration_mismatch_is_an_error_naming_the_endpoint_and_nothing_else_is_judged(run_paychaos) -> None:
    scenario, clause, reason = CATALOGUE["legacy-charges-api"]
    run = run_paychaos(str(STANDARD / f"{scenario}.yaml"), "--seed", "7", env={"REFTARGET_BUG": "legacy-charges-api"})
    assert run.code == 3, (run.stdout[-3000:], run.stderr[-3000:])
    verdicts = run.verdicts()
    gate = verdicts[clause]
    assert gate["status"] == "error" and reason in gate["reason"], gate
    assert "cardpay serves POST /v1/payment_intents" in gate["reason"]
    others = {c: v["status"] for c, v in verdicts.items() if c != clause}
    assert others and set(others.values()) == {"skipped"}, others
    assert all(v["reason"].startswith("not judged: integration.api") for c, v in verdicts.items() if c != clause)
    cases = junit_cases(run.report_dir, scenario)
    error = cases[clause].find("error")
    assert error is not None and reason in error.text, "the gate's own testcase is an <error> naming the endpoint"
    assert all(case.find("skipped") is not None for name, case in cases.items() if name not in (clause, "run"))
    assert cases["run"].find("error") is not None, "the scenario itself is an error"
    assert reason in summary_section((run.report_dir / "summary.md").read_text(), scenario, clause)


def test_the_correct_target_passes_the_scenarios_outside_the_standard_suite(run_paychaos) -> None:
    """A catalogue scenario outside scenarios/standard is not run by test_standard_suite: the
    correct target (in the mode the bug's scenario needs) passes it here, and the faults took effect."""
    for bug, (path, _, _) in CATALOGUE.items():
        if "/" not in path:
            continue
        run = run_paychaos(str(scenario_file(path)), "--seed", "7", env=BUG_ENV.get(bug, {}))
        assert run.code == 0, (bug, run.stdout[-3000:], run.stderr[-3000:])
        verdicts = run.verdicts()
        assert {v["status"] for v in verdicts.values()} <= {"pass", "skipped"}, verdicts
        assert verdicts[CATALOGUE[bug][1]]["status"] == "pass", verdicts[CATALOGUE[bug][1]]
        (scenario,) = run.journal["scenarios"]
        assert scenario["summary"]["faults_fired"] > 0, f"{path}: the faults hit nothing"
