"""Shared by the e2e tests that run the whole standard suite against a service
paychaos did not write (node_shop, the Stripe sample): one run of the real CLI,
its journal and evidence read back, and what each check must say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STANDARD = REPO / "scenarios" / "standard"
SCENARIOS = ("card-declines", "card-timeouts", "lost-reply", "network-flaky", "rate-limited", "slow-provider")

# What a check must say: "pass" (and judged something), or "skipped: <a fragment of the true reason>";
# a tuple where either is right (the tests say why where they use one).
PASS = "pass"
NO_RETRY_AFTER_PROMISE = "skipped: the contract does not promise to honour Retry-After"
NO_NEVER_RETRY_FAILURE = "skipped: no payment met a failure that is never retried"
NO_ERROR_ANSWER = "skipped: no payment was declined or failed"
NO_LATE_CHARGE = "skipped: no payment attempt was sent after the service answered"
NO_LATE_REQUEST = "skipped: no provider request was sent after the service answered"

Expected = dict[str, str | tuple[str, ...]]


@dataclass
class SuiteRun:
    seed: int
    code: int
    stdout: str
    stderr: str
    report_dir: Path

    def __str__(self) -> str:  # shown by failed asserts
        return (f"seed {self.seed}: exit {self.code}\n--- stdout\n{self.stdout[-6000:]}\n"
                f"--- stderr\n{self.stderr[-3000:]}")

    @cached_property
    def journal(self) -> dict:
        return json.loads((self.report_dir / "journal.json").read_text())

    @cached_property
    def scenarios(self) -> dict[str, dict]:
        return {s["name"]: s for s in self.journal["scenarios"]}

    def verdicts(self, scenario: str) -> dict[str, dict]:
        return {v["check"]: v for v in self.scenarios[scenario]["verdicts"]}

    def failing(self, scenario: str) -> dict[str, str]:
        return {c: v.get("measured") or v.get("reason") for c, v in self.verdicts(scenario).items()
                if v["status"] in ("fail", "error")}

    def statuses(self, scenario: str) -> dict[str, str]:
        return {c: f"{v['status']}: {v.get('measured') or v.get('reason') or ''}"
                for c, v in self.verdicts(scenario).items()}

    def run_dir(self, scenario: str) -> Path:
        return self.report_dir / "runs" / scenario

    def evidence(self, scenario: str) -> dict:
        return json.loads((self.run_dir(scenario) / "evidence.json").read_text())

    def provider_journal(self, scenario: str, instance: str = "cardpay") -> list[dict]:
        return jsonl(self.run_dir(scenario) / "evidence" / f"journal-{instance}.jsonl")

    def ledger(self, scenario: str, instance: str = "cardpay") -> dict:
        return json.loads((self.run_dir(scenario) / "evidence" / f"ledger-{instance}.json").read_text())

    def calls(self, scenario: str) -> list[dict]:
        return jsonl(self.run_dir(scenario) / "evidence" / "calls.jsonl")

    def orders(self, scenario: str) -> list[dict]:
        return jsonl(self.run_dir(scenario) / "evidence" / "orders.jsonl")

    def wrong_verdicts(self, scenario: str, expected: Expected) -> dict[str, tuple]:
        """Checks that did not say what ``expected`` allows, and any other check that failed."""
        verdicts = self.verdicts(scenario)
        wrong: dict[str, tuple] = {}
        for check, want in expected.items():
            v = verdicts.get(check)
            if v is None:
                wrong[check] = ("missing", want)
                continue
            allowed = want if isinstance(want, tuple) else (want,)
            if not any(matches(v, w) for w in allowed):
                wrong[check] = (f"{v['status']}: {v.get('measured') or v.get('reason')}", want)
        for check, v in verdicts.items():  # checks newer than the table must at least not fail
            if check not in expected and v["status"] in ("fail", "error"):
                wrong[check] = (f"{v['status']}: {v.get('measured') or v.get('reason')}", "not a failure")
        return wrong


def matches(verdict: dict, want: str) -> bool:
    status, _, reason = want.partition(": ")
    if verdict["status"] != status:
        return False
    if status == "pass":
        return (verdict.get("judged") or 0) > 0 or verdict["check"].startswith("money.")
    return reason in (verdict.get("reason") or "")


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_suite(report_dir: Path, seed: int, target: Path, contract: Path, *scenarios: Path,
              env: dict[str, str | None] | None = None, timeout: float = 280) -> SuiteRun:
    """The real CLI in a subprocess (``None`` in ``env`` removes a variable)."""
    full_env = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    cmd = [sys.executable, "-m", "harness.cli", "run", *(str(s) for s in scenarios or (STANDARD,)),
           "--target", str(target), "--contract", str(contract), "--seed", str(seed),
           "--report-dir", str(report_dir), "--quiet"]
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)
    return SuiteRun(seed, proc.returncode, proc.stdout, proc.stderr, report_dir)
