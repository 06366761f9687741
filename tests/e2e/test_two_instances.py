"""Two instances of one provider type in one scenario: splitshop
(tests/fixtures/splitshop.py) splits its orders between two cardpay instances,
``primary`` and ``backup``, through the official stripe SDK. Each instance has
its own journal, faults and ledger, and the money checks sum both ledgers per
order: the correct service passes, and a service that charges an order on both
instances fails money.no_double_charge alone.

The real CLI in a subprocess; everything is read back from the report dir.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from tests.fixtures.splitshop import acquirer_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "tests" / "fixtures" / "split_suite"
SCENARIO = "two-acquirers"
INSTANCES = ("primary", "backup")
FAULT_RULES = {"primary-503", "primary-lost-reply"}  # the scenario's faults, all on primary


@dataclass
class SplitRun:
    code: int
    stdout: str
    stderr: str
    report_dir: Path

    def __str__(self) -> str:  # shown by failed asserts
        return f"exit {self.code}\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}"

    @property
    def run_dir(self) -> Path:
        return self.report_dir / "runs" / SCENARIO

    @cached_property
    def scenario(self) -> dict:
        journal = json.loads((self.report_dir / "journal.json").read_text())
        (scenario,) = [s for s in journal["scenarios"] if s["name"] == SCENARIO]
        return scenario

    @cached_property
    def verdicts(self) -> dict[str, dict]:
        return {v["check"]: v for v in self.scenario["verdicts"]}

    def failing(self) -> set[str]:
        return {c for c, v in self.verdicts.items() if v["status"] in ("fail", "error")}

    def journal(self, instance: str) -> list[dict]:
        """The instance's journal as the harness collected it (evidence/journal-<instance>.jsonl)."""
        return _jsonl(self.run_dir / "evidence" / f"journal-{instance}.jsonl")

    def spill(self, instance: str) -> list[dict]:
        """The instance's own spill file, written by the provider host (providers/<instance>.journal.jsonl)."""
        return _jsonl(self.run_dir / "providers" / f"{instance}.journal.jsonl")

    def ledger(self, instance: str) -> dict:
        return json.loads((self.run_dir / "evidence" / f"ledger-{instance}.json").read_text())

    def charges(self, instance: str) -> list[dict]:
        return [e for e in self.ledger(instance)["entries"] if e["kind"] == "charge"]

    @cached_property
    def orders(self) -> dict[str, dict]:
        return {o["id"]: o for o in _jsonl(self.run_dir / "evidence" / "orders.jsonl")}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_split(report_dir: Path, seed: int, bug: str | None = None) -> SplitRun:
    env = dict(os.environ)
    env.pop("SPLITSHOP_BUG", None)
    if bug is not None:
        env["SPLITSHOP_BUG"] = bug  # the target inherits paychaos's environment
    cmd = [sys.executable, "-m", "harness.cli", "run", str(SUITE / f"{SCENARIO}.yaml"),
           "--target", str(SUITE / "target.yaml"), "--contract", str(SUITE / "contract.yaml"),
           "--seed", str(seed), "--report-dir", str(report_dir), "--quiet"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    return SplitRun(proc.returncode, proc.stdout, proc.stderr, report_dir)


@pytest.fixture(scope="module", params=[11, 29], ids=lambda s: f"seed{s}")
def correct(request, tmp_path_factory) -> SplitRun:
    return run_split(tmp_path_factory.mktemp(f"split-ok-{request.param}"), request.param)


@pytest.fixture(scope="module")
def charge_both(tmp_path_factory) -> SplitRun:
    return run_split(tmp_path_factory.mktemp("split-charge-both"), 11, bug="charge-both")


def _charged_orders(run: SplitRun, instance: str) -> Counter:
    """order_ref -> charge entries in that instance's ledger."""
    return Counter(e["order_ref"] for e in run.charges(instance))


# -- the correct service -----------------------------------------------------------------------------------


def test_correct_splitshop_passes(correct: SplitRun) -> None:
    assert correct.code == 0, correct
    assert correct.scenario["status"] == "passed", correct
    assert correct.scenario["instances"] == {"primary": "cardpay", "backup": "cardpay"}
    urls = correct.scenario["providers"]
    assert set(urls) == set(INSTANCES) and urls["primary"] != urls["backup"]
    v = correct.verdicts
    assert not correct.failing(), correct.failing()
    for clause in ("retry.max_attempts", "retry.transient", "retry.never_retry", "retry.backoff",
                   "idempotency.same_key_across_retries"):
        assert v[clause]["status"] == "pass" and v[clause]["judged"] > 0, v[clause]
    # The SDK never waits less than 0.5 s; the clause allows 250 ms for the first retry.
    assert v["retry.backoff"]["figures"]["min_gap_ms"] >= 450, v["retry.backoff"]
    assert v["retry.max_attempts"]["figures"]["max_seen"] == 2  # first_n 1: one failure, then through


def test_money_checks_sum_both_ledgers(correct: SplitRun) -> None:
    by_instance = {i: _charged_orders(correct, i) for i in INSTANCES}
    assert all(by_instance.values()), f"both instances should have charged orders: {by_instance}"
    # Each instance charged each of its orders once, and only orders routed to it.
    for instance, charged in by_instance.items():
        assert set(charged.values()) == {1}, (instance, charged)
        assert {acquirer_for(ref) for ref in charged} == {instance}, (instance, sorted(charged))
    assert not set(by_instance["primary"]) & set(by_instance["backup"])
    total = len(by_instance["primary"]) + len(by_instance["backup"])

    v = correct.verdicts["money.no_double_charge"]
    assert v["status"] == "pass", v
    assert v["judged"] == total, (v, {i: len(c) for i, c in by_instance.items()})
    # Every succeeded order is captured in full in one of the two ledgers.
    finals = correct.scenario["summary"]["final_states"]
    assert correct.verdicts["money.state_matches_ledger"]["judged"] == finals["succeeded"] == total
    captured = sum(e["amount"] for i in INSTANCES for e in correct.charges(i))
    assert correct.scenario["summary"]["captured"] == {"usd": captured}


def test_faults_fire_only_on_primary(correct: SplitRun) -> None:
    faulted = {i: [e for e in correct.journal(i) if e["fault"] is not None] for i in INSTANCES}
    assert faulted["primary"], "the primary's faults never fired"
    assert faulted["backup"] == [], faulted["backup"][:3]
    fired = Counter(e["fault"]["rule"] for e in faulted["primary"])
    assert set(fired) == FAULT_RULES, fired  # both kinds fired
    assert all(e["role"] == "charge" for e in faulted["primary"])  # match: {role: charge}
    assert correct.scenario["summary"]["faults_fired"] == len(faulted["primary"])
    applied = {f["name"]: f for f in correct.scenario["faults"]}
    assert set(applied) == FAULT_RULES
    assert all(f["provider"] == "primary" and f["t_on"] is not None and f["error"] is None for f in applied.values())
    # The lost replies committed; the SDK's retry under the same key got the saved answer, not a second charge.
    dropped = [e for e in faulted["primary"] if e["fault"]["rule"] == "primary-lost-reply"]
    assert all(e["delivery"] == "dropped" and e["committed"] for e in dropped)
    replays = [e for e in correct.journal("primary") if (e["response"] or {}).get("replayed")]
    assert {e["order_ref"] for e in replays} >= {e["order_ref"] for e in dropped}


def test_each_instance_has_its_own_journal(correct: SplitRun) -> None:
    for instance in INSTANCES:
        spill_path = correct.run_dir / "providers" / f"{instance}.journal.jsonl"
        assert spill_path.is_file(), spill_path
        collected, spilled = correct.journal(instance), correct.spill(instance)
        assert collected, f"{instance} journaled nothing"
        for entries in (collected, spilled):
            assert {e["provider"] for e in entries} == {instance}
            assert {e["type"] for e in entries} == {"cardpay"}
        # The spill file holds the whole journal at exit: the same requests the harness collected.
        assert [e["seq"] for e in spilled] == [e["seq"] for e in collected]
        # No request of an order routed elsewhere ever reached this instance.
        refs = {e["order_ref"] for e in collected}
        assert None not in refs and {acquirer_for(ref) for ref in refs} == {instance}
    by_instance = correct.scenario["summary"]["provider_requests_by_instance"]
    assert by_instance == {i: len(correct.journal(i)) for i in INSTANCES}


# -- seeded bug: every order charged on both instances ------------------------------------------------


def test_charge_on_both_instances_is_a_double_charge(charge_both: SplitRun) -> None:
    run = charge_both
    assert run.code == 1, run
    assert run.failing() == {"money.no_double_charge"}, {c: run.verdicts[c]["measured"] for c in run.failing()}
    assert not {c for c in run.failing() if c.startswith("retry.")}

    # Each ledger alone looks right: one charge per order. Only their sum shows the double charge.
    by_instance = {i: _charged_orders(run, i) for i in INSTANCES}
    for instance, charged in by_instance.items():
        assert charged and set(charged.values()) == {1}, (instance, charged)
    both = set(by_instance["primary"]) & set(by_instance["backup"])
    assert both

    v = run.verdicts["money.no_double_charge"]
    assert v["status"] == "fail", v
    assert v["judged"] == len(set(by_instance["primary"]) | set(by_instance["backup"]))
    assert v["offenders"] == len(both)
    excess = 0
    for ref in both:
        charged = sum(e["amount"] for i in INSTANCES for e in run.charges(i) if e["order_ref"] == ref)
        excess += charged - run.orders[ref]["amount"]
    assert v["money_at_risk"] == {"usd": excess} and excess > 0, v["money_at_risk"]

    assert v["examples"]
    for example in v["examples"]:
        assert example["order_id"] in both
        why = example["why"]
        assert re.search(r"\bprimary:pi_\w+", why) and re.search(r"\bbackup:pi_\w+", why), why
        assert "(2 captures: " in why, why
        ledgers = {e["who"] for e in example["history"]["events"] if e["who"].endswith(" ledger")}
        assert ledgers == {"primary ledger", "backup ledger"}, example["history"]["events"]
