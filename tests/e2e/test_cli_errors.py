"""Bad input is exit 2 with file:line and no traceback, nothing started; a
target that crashes, hangs or answers garbage is exit 3 or failing verdicts,
within bounded time, with its output in the report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import CONTRACT, REPO, STANDARD, TARGET

pytestmark = [pytest.mark.integration]

SMALL = """\
name: small
providers: [cardpay]
workload: {orders: 6, concurrency: 2, max_duration_s: 5, cards: {visa: 1.0}}
faults:
  - {kind: status, status: 503, rate: 0.3, at: 0s}
verify: [retry]
drain: {timeout_s: 3}
"""


def target_file(tmp_path: Path, command: str, ready_timeout: str = "20") -> Path:
    text = TARGET.read_text()
    start = text.index("  command:")
    end = text.index("\n", start)
    text = text[:start] + f"  command: {command}" + text[end:]
    text = text.replace("  timeout_s: 20\n\nproviders", f"  timeout_s: {ready_timeout}\n\nproviders")
    p = tmp_path / "target.yaml"
    p.write_text(text)
    return p


def test_bad_scenario_is_exit_2_with_location_and_nothing_started(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("rate: 0.3", "rate: 1.5"))
    reports = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(bad), "--report-dir", str(reports)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{bad}:5 faults[0].rate: must be between 0 and 1 (got 1.5)" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not reports.exists(), "nothing may start (or be written) on bad input"


def test_validate_and_list_on_the_shipped_suite() -> None:
    ok = subprocess.run([sys.executable, "-m", "harness.cli", "validate"], cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0 and "6 scenario(s)" in ok.stdout.replace("\n", " ")
    ls = subprocess.run([sys.executable, "-m", "harness.cli", "list", str(STANDARD)], cwd=REPO, capture_output=True,
                        text=True, env={**os.environ, "COLUMNS": "200"})
    assert ls.returncode == 0 and "card-timeouts" in ls.stdout and "retry.max_attempts" in ls.stdout


def test_unknown_option_is_exit_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--sed", "3"], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "unrecognized arguments: --sed" in proc.stderr


def test_non_loopback_target_needs_an_allow_list(tmp_path: Path, run_paychaos) -> None:
    text = TARGET.read_text().replace('base_url: "http://127.0.0.1:{port}"', 'base_url: "http://10.1.2.3:{port}"')
    t = tmp_path / "t.yaml"
    t.write_text(text)
    s = tmp_path / "s.yaml"
    s.write_text(SMALL)
    run = run_paychaos(str(s), target=t)
    assert run.code == 2
    assert "10.1.2.3:0 is not on loopback" in run.stderr and "--allow-host 10.1.2.3" in run.stderr
    assert not run.report_dir.exists()


def test_target_that_crashes_on_start_is_exit_3_with_its_output(tmp_path: Path, run_paychaos) -> None:
    t = target_file(tmp_path, '["{python}", "-c", "import sys; print(\'boom: bad config\'); sys.exit(7)"]')
    s = tmp_path / "s.yaml"
    s.write_text(SMALL)
    started = time.monotonic()
    run = run_paychaos(str(s), target=t)
    assert run.code == 3, run.stdout
    assert time.monotonic() - started < 60
    scenario = run.journal["scenarios"][0]
    assert scenario["status"] == "error" and "exited with status 7 before it was ready" in scenario["error"]
    assert "boom: bad config" in scenario["target"]["log_tail"]
    assert "boom: bad config" in (run.report_dir / "junit.xml").read_text()


def test_target_that_never_gets_ready_is_exit_3_in_bounded_time(tmp_path: Path, run_paychaos) -> None:
    t = target_file(tmp_path, '["{python}", "-c", "import time; print(\'starting...\', flush=True); time.sleep(600)"]',
                    ready_timeout="2")
    s = tmp_path / "s.yaml"
    s.write_text(SMALL)
    started = time.monotonic()
    run = run_paychaos(str(s), target=t)
    assert run.code == 3
    assert time.monotonic() - started < 30
    scenario = run.journal["scenarios"][0]
    assert "not ready within 2s" in scenario["error"] and "starting..." in scenario["target"]["log_tail"]


def test_target_answering_garbage_gets_failing_verdicts_not_a_crash(tmp_path: Path, run_paychaos) -> None:
    script = Path(__file__).parent / "fixtures" / "garbage_target.py"
    t = target_file(tmp_path, f'["{{python}}", "{script}", "{{port}}"]')
    s = tmp_path / "s.yaml"
    s.write_text(SMALL)
    run = run_paychaos(str(s), target=t)
    assert run.code == 1
    v = run.verdicts()["money.all_final"]
    assert v["status"] == "fail" and "no readable state" in v["examples"][0]["why"]
    assert v["examples"][0]["history"]["events"][0]["text"].startswith("<html>")


def test_interrupt_still_writes_reports_and_tears_down(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(STANDARD / "card-timeouts.yaml"),
                             "--target", str(TARGET), "--contract", str(CONTRACT), "--report-dir", str(reports)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # wait (with a deadline) until the target is up and the workload runs
    log = reports / "runs" / "card-timeouts" / "target.log"
    deadline = time.monotonic() + 60
    while not (log.exists() and log.stat().st_size > 0):
        assert time.monotonic() < deadline, "the target never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    journal = (reports / "journal.json").read_text()
    assert '"status": "interrupted"' in journal
    assert (reports / "junit.xml").exists() and (reports / "summary.md").exists()
    import json

    pid = json.loads(journal)["scenarios"][0]["target"]["pid"]
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the target is gone
