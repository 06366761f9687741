"""card-timeouts aims its slow answers at the contract's client timeout, not at
the reference target's 1 s: the real CLI against the reference target
configured with a 2.5 s provider timeout (REFTARGET_TIMEOUT_S) and a contract
that says so. The `slower-than-client-timeout` answers are held 3 s (2.5 s +
500 ms), the target gives up on each at 2.5 s (the provider journal says
`client_gone`) and the charge commits 3 s after the request arrived. With the
reference contract's 1 s instead, the same target is never made to time out:
the story this feature exists for. A contract without the number skips the
scenario, visibly, and starts nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import CONTRACT, STANDARD, Run

pytestmark = [pytest.mark.integration]

SCENARIO = STANDARD / "card-timeouts.yaml"
FAULT = "slower-than-client-timeout"
TIMEOUT_LINE = "  cardpay: {client_ms: 1000}"


def contract(tmp_path: Path, client_ms: int | None, max_response_ms: int = 8000) -> Path:
    """The reference contract with another client timeout (None: no timeouts section) and answer time."""
    text = CONTRACT.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith(TIMEOUT_LINE))
    assert "timeouts:" in text and "max_response_ms: 8000" in text
    if client_ms is None:
        text = text.replace(line, "").replace("timeouts:", "")
    else:
        text = text.replace(line, f"  cardpay: {{client_ms: {client_ms}}}")
    text = text.replace("max_response_ms: 8000", f"max_response_ms: {max_response_ms}")
    path = tmp_path / f"contract-{client_ms}.yaml"
    path.write_text(text)
    return path


def delayed_attempts(run: Run) -> list[dict]:
    path = run.report_dir / "runs" / "card-timeouts" / "evidence" / "journal-cardpay.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in entries if (e.get("fault") or {}).get("rule") == FAULT]


def commit_delays_ms(run: Run, attempts: list[dict]) -> list[float]:
    """For each delayed attempt, how long after it arrived its charge was written to the ledger."""
    ledger = json.loads((run.report_dir / "runs" / "card-timeouts" / "evidence" / "ledger-cardpay.json").read_text())
    charged = {e["idempotency_key"]: e["t"] for e in ledger["entries"] if e["kind"] == "charge"}
    return [(charged[a["idempotency_key"]] - a["t_start"]) * 1000 for a in attempts if a["idempotency_key"] in charged]


def test_a_25_s_client_timeout_gets_answers_slower_than_it(run_paychaos, tmp_path: Path) -> None:
    # The reference target's worst answer with 2.5 s attempts: 3 x 2.5 s + 2 x 2 s + a 2.5 s lookup = 14 s.
    run = run_paychaos(str(SCENARIO), "--seed", "7", contract=contract(tmp_path, 2500, max_response_ms=14000),
                       env={"REFTARGET_TIMEOUT_S": "2.5"})
    bad = {c: v["measured"] or v["reason"] for c, v in run.verdicts().items() if v["status"] in ("fail", "error")}
    assert run.code == 0 and not bad, (bad, run.stdout[-3000:], run.stderr[-2000:])
    journal = run.journal
    (applied,) = [f for f in journal["scenarios"][0]["faults"] if f["name"] == FAULT]
    assert applied["rule"]["delay_ms"] == 3000 and applied["t_on"] and applied["t_off"]
    (recorded,) = [f for f in journal["inputs"]["scenarios"][0]["faults"] if f["name"] == FAULT]
    derived = recorded["derived"]["delay_ms"]
    assert derived["text"] == "3000 ms (timeouts.cardpay.client_ms 2500 + 500 ms)"
    assert derived["ref_where"].startswith(str(tmp_path / "contract-2500.yaml:"))
    assert ("slower-than-client-timeout delay_ms 3000 ms (timeouts.cardpay.client_ms 2500 + 500 ms)"
            in (run.report_dir / "summary.md").read_text())

    attempts = delayed_attempts(run)
    assert attempts, "the fault held some charges"
    # The target gave up on every held charge at its 2.5 s timeout, before the answer came ...
    assert {a["delivery"] for a in attempts} == {"client_gone"}, attempts
    assert all(2400 <= (a["t_end"] - a["t_start"]) * 1000 < 3000 for a in attempts), attempts
    # ... and the provider went on: each charge committed 3 s after it arrived.
    delays = commit_delays_ms(run, attempts)
    assert len(delays) == len(attempts) and all(2990 <= d < 3300 for d in delays), delays
    # The story's checks judged those timeouts: retried under one key, each payment resolved.
    verdicts = run.verdicts()
    assert verdicts["idempotency.same_key_across_retries"]["status"] == "pass"
    assert verdicts["money.no_double_charge"]["status"] == "pass"


def test_the_old_literal_number_would_never_time_it_out(run_paychaos, tmp_path: Path) -> None:
    """The same target with a contract that still says 1 s: 1500 ms answers, all delivered."""
    run = run_paychaos(str(SCENARIO), "--seed", "7", contract=contract(tmp_path, 1000, max_response_ms=14000),
                       env={"REFTARGET_TIMEOUT_S": "2.5"})
    attempts = delayed_attempts(run)
    assert attempts and {a["delivery"] for a in attempts} == {"delivered"}, attempts


def test_a_contract_without_the_timeout_skips_the_scenario_and_says_why(run_paychaos, tmp_path: Path) -> None:
    path = contract(tmp_path, None)
    run = run_paychaos(str(SCENARIO), "--seed", "7", contract=path, timeout=60)
    assert run.code == 3, "nothing was judged: not a pass" + run.stdout + run.stderr
    (s,) = run.journal["scenarios"]
    reason = f"needs timeouts.cardpay.client_ms (for faults[1].delay_ms at {SCENARIO}:"
    assert s["status"] == "skipped" and s["summary"]["skipped"].startswith(reason), s
    assert s["summary"]["skipped"].endswith(f"which {path} does not state; add `timeouts: {{cardpay: {{client_ms: ...}}}}` "
                                            "to it to run this scenario")
    assert not (run.report_dir / "runs" / "card-timeouts").exists(), "nothing was started"
    assert "NOTHING JUDGED: 1 scenarios (1 skipped): 0 checks passed" in run.stdout  # --quiet: the final table only
    assert 'skipped="1"' in (run.report_dir / "junit.xml").read_text()
    assert "**Skipped, not run:** needs timeouts.cardpay.client_ms" in (run.report_dir / "summary.md").read_text()
