"""The correct reference target passes the standard suite, every time (no
flakes): each scenario under several seeds."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import STANDARD

pytestmark = [pytest.mark.integration]

SCENARIOS = ["card-timeouts", "card-declines", "rate-limited", "lost-reply", "network-flaky", "slow-provider"]


def _assert_all_pass(run) -> None:
    bad = {c: (v["status"], v["measured"] or v["reason"]) for c, v in run.verdicts().items() if v["status"] in ("fail", "error")}
    assert run.code == 0 and not bad, (bad, run.stdout[-4000:], run.stderr[-2000:])


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
