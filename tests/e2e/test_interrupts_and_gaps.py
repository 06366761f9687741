"""Paths a run takes rarely, end to end: a signal in the middle of a scenario
(SIGTERM as a CI runner or `docker stop` sends it, SIGINT as Ctrl-C), a bug in
the harness itself (the run is `aborted`, exit 3), and a contract that leaves
sections out (their checks skip, saying so).

Each run really starts the provider host and the target, so each test also
proves that whatever was started is gone when paychaos has exited.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.conftest import CONTRACT, REPO, STANDARD, TARGET
from tests.procscan import Proc, alive, descendants, kill_all, kind_of, referencing, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")]

START_TIMEOUT_S = 60  # cold imports of three Python processes on a busy 2-core machine
EXIT_TIMEOUT_S = 60  # teardown: the target's stop_timeout_s is 5 s, the provider host's a few
GONE_TIMEOUT_S = 10  # after paychaos exited: the watchdog's grace is 2 s

SMALL = """\
name: small
providers: [cardpay]
workload: {orders: 8, concurrency: 2, max_duration_s: 5, cards: {visa: 0.75, insufficient_funds: 0.25}}
faults:
  - {kind: status, status: 503, rate: 0.3, at: 0s}
verify: [retry, idempotency, errors, degradation, reconcile]
drain: {timeout_s: 3}
"""


def _paychaos(args: list[str], out: Path, *, code: str | None = None) -> subprocess.Popen:
    """The real CLI in its own session (a signal for it never reaches pytest); ``code``
    runs instead of ``-m harness.cli`` (it must call harness.cli.main itself)."""
    env = {k: v for k, v in os.environ.items() if k not in ("REFTARGET_BUG", "TOXIPROXY_URL")}
    head = [sys.executable, "-c", code] if code else [sys.executable, "-m", "harness.cli"]
    with out.open("wb") as sink:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([*head, "run", *args, "--target", str(TARGET), "--quiet"], cwd=REPO, env=env,
                                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)




def _assert_nothing_left(seen: dict[tuple[int, str], Proc], report_dir: Path) -> None:
    def survivors() -> list[Proc]:
        return alive(seen.values()) + referencing(str(report_dir))

    if not wait_until(lambda: not survivors(), GONE_TIMEOUT_S):
        pytest.fail(f"still running {GONE_TIMEOUT_S}s after paychaos exited:\n"
                    + "\n".join(f"  {p.pid} {kind_of(p)} ({p.state}): {p.cmdline}" for p in survivors()))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_scenario_tears_down_writes_the_reports_and_exits_130(tmp_path: Path, signum) -> None:
    """README, exit codes: "130 interrupted (Ctrl-C / SIGTERM): the current scenario is torn down and the
    reports are still written"; the scenarios after it are not started."""
    report_dir = tmp_path / "report"
    out = tmp_path / "paychaos.out"
    first, second = STANDARD / "card-timeouts.yaml", STANDARD / "card-declines.yaml"
    proc = _paychaos([str(first), str(second), "--contract", str(CONTRACT), "--seed", "3",
                      "--report-dir", str(report_dir)], out)
    seen: dict[tuple[int, str], Proc] = {}
    try:
        calls = report_dir / "runs" / "card-timeouts" / "evidence" / "calls.jsonl"

        def mid_workload() -> bool:
            seen.update((p.key, p) for p in descendants(proc.pid))
            # The sink opens calls.jsonl at the first answered pay call: the workload is running.
            return proc.poll() is not None or calls.exists()

        wait_until(mid_workload, START_TIMEOUT_S)
        assert proc.poll() is None, f"paychaos exited on its own ({proc.returncode}):\n{out.read_text()[-3000:]}"
        assert calls.exists(), f"the workload did not start within {START_TIMEOUT_S}s"
        kinds = {kind_of(p) for p in seen.values()}
        assert {"watchdog", "provider host", "target"} <= kinds, kinds

        proc.send_signal(signum)
        code = proc.wait(EXIT_TIMEOUT_S)
        text = out.read_text()
        assert code == 130, text[-3000:]

        journal = json.loads((report_dir / "journal.json").read_text())
        assert journal["status"] == "interrupted" and journal["exit_code"] == 130
        (scenario,) = journal["scenarios"]  # the second scenario was never started
        assert scenario["name"] == "card-timeouts" and scenario["status"] == "interrupted"
        assert scenario["error"] == "interrupted before the scenario finished (Ctrl-C or SIGTERM); teardown done"
        assert not (report_dir / "runs" / "card-declines").exists()
        # Teardown done: the target the journal names, and everything paychaos started, are gone.
        pid = scenario["target"]["pid"]
        assert pid is not None and pid in {p.pid for p in seen.values() if kind_of(p) == "target"}
        _assert_nothing_left(seen, report_dir)
        # The reports say so.
        suites = {s.get("name"): s for s in ET.parse(report_dir / "junit.xml").getroot().iter("testsuite")}
        assert set(suites) == {"card-timeouts"}
        run_case = [c for c in suites["card-timeouts"].iter("testcase") if c.get("name") == "run"]
        assert len(run_case) == 1 and run_case[0].find("error").get("type") == "interrupted"
        summary = (report_dir / "summary.md").read_text()
        assert "## card-timeouts: interrupted" in summary
        assert "**The scenario did not complete:** interrupted before the scenario finished" in summary
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        kill_all(list(seen.values()) + referencing(str(report_dir)))


# A bug in the harness (here: building the evidence raises) after the providers and the target are up.
HARNESS_BUG = """\
import sys
import harness.run.scenario_run as scenario_run

def broken(*args, **kwargs):
    raise RuntimeError("a bug in the harness, planted by the test")

scenario_run.build_evidence = broken
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_harness_bug_aborts_the_run_with_exit_3_after_teardown_and_still_writes_the_reports(tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(SMALL)
    report_dir = tmp_path / "report"
    out = tmp_path / "paychaos.out"
    proc = _paychaos([str(scenario), "--contract", str(CONTRACT), "--seed", "1", "--report-dir", str(report_dir)],
                     out, code=HARNESS_BUG)
    seen: dict[tuple[int, str], Proc] = {}
    try:
        def exited() -> bool:
            seen.update((p.key, p) for p in descendants(proc.pid))
            return proc.poll() is not None

        assert wait_until(exited, START_TIMEOUT_S + EXIT_TIMEOUT_S), "paychaos did not exit"
        text = out.read_text()
        assert proc.returncode == 3, text[-3000:]
        assert {"provider host", "target"} <= {kind_of(p) for p in seen.values()}, "it got as far as starting both"
        _assert_nothing_left(seen, report_dir)

        journal = json.loads((report_dir / "journal.json").read_text())
        assert journal["status"] == "aborted" and journal["exit_code"] == 3
        message = journal["message"]
        assert message.startswith("RuntimeError: a bug in the harness, planted by the test\n"), message
        assert "Traceback (most recent call last)" in message, "the journal keeps where it broke"
        assert "RuntimeError: a bug in the harness, planted by the test" in text, "the terminal says why"
        assert journal["scenarios"] == [], "no verdict is reported for a scenario the harness could not finish"
        assert (report_dir / "runs" / "small" / "target.log").stat().st_size > 0, "the target had been running"
        ET.parse(report_dir / "junit.xml")  # written, and well-formed
        assert (report_dir / "summary.md").is_file()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        kill_all(list(seen.values()) + referencing(str(report_dir)))


def test_a_contract_without_its_optional_sections_skips_their_checks_and_says_why(tmp_path: Path) -> None:
    """README: "A section left out means its checks are *skipped* with that reason." Skips never fail a
    run (exit 0) and never count as passed."""
    contract = tmp_path / "money-only.yaml"
    contract.write_text("name: money only\nmoney: {final_states: [succeeded, declined, failed]}\n")
    scenario = tmp_path / "small.yaml"
    scenario.write_text(SMALL)
    report_dir = tmp_path / "report"
    out = tmp_path / "paychaos.out"
    proc = _paychaos([str(scenario), "--contract", str(contract), "--seed", "2", "--report-dir", str(report_dir)],
                     out)
    try:
        code = proc.wait(START_TIMEOUT_S + EXIT_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert code == 0, out.read_text()[-3000:]
    (s,) = json.loads((report_dir / "journal.json").read_text())["scenarios"]
    verdicts = {v["check"]: v for v in s["verdicts"]}
    reasons = {c: (v["status"], v["reason"]) for c, v in verdicts.items() if not c.startswith(("money.", "integration.",
                                                                                                "attribution."))}
    no = "the contract has no {} section"
    assert reasons == {
        "retry.max_attempts": ("skipped", no.format("retry")),
        "retry.transient": ("skipped", no.format("retry")),
        "retry.never_retry": ("skipped", no.format("retry")),
        "retry.backoff": ("skipped", no.format("retry")),
        "retry.honour_retry_after": ("skipped", no.format("retry")),
        "idempotency.same_key_across_retries": ("skipped", no.format("idempotency")),
        "errors.required": ("skipped", no.format("errors")),
        "degradation.max_response_ms": ("skipped", no.format("degradation")),
        "reconcile.replay": ("skipped", no.format("reconcile")),
        "reconcile.max_requests": ("skipped", no.format("reconcile")),
    }
    # The money clauses, always on, still judge the same run.
    assert verdicts["money.all_final"]["status"] == "pass"
    assert verdicts["money.all_final"]["judged"] == s["summary"]["orders"] > 0
    cases = {c.get("name"): c for c in ET.parse(report_dir / "junit.xml").getroot().iter("testcase")}
    for check, (_, reason) in reasons.items():
        skipped = cases[check].find("skipped")
        assert skipped is not None and skipped.get("message") == reason, check
