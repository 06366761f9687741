"""Network-fault scenarios run the same on the embedded proxy and the real
Toxiproxy server: the correct target passes both; a target without a client
timeout fails slow-provider on the degradation clause, on both backends."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.e2e.conftest import STANDARD
from tests.toxiproxy_gate import need_toxiproxy

pytestmark = [pytest.mark.integration]

BACKENDS = ["embedded", pytest.param("toxiproxy", marks=pytest.mark.toxiproxy)]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "toxiproxy":
        need_toxiproxy()
    return request.param


# 61634: network-flaky once cried wolf there (a decline answered under a reset window was classed as lost).
@pytest.mark.parametrize("seed", [3, 11, 22, 33, 61634])
@pytest.mark.parametrize("scenario", ["network-flaky", "slow-provider"])
def test_correct_target_passes_network_scenarios(run_paychaos, backend: str, scenario: str, seed: int) -> None:
    run = run_paychaos(str(STANDARD / f"{scenario}.yaml"), "--seed", str(seed), "--faults", backend)
    bad = {c: v["measured"] or v["reason"] for c, v in run.verdicts().items() if v["status"] in ("fail", "error")}
    assert run.code == 0 and not bad, (bad, run.stdout[-3000:], run.stderr[-2000:])
    s = run.journal["scenarios"][0]
    assert s["fault_backend"]["name"] == backend, "the journal records which backend ran"
    assert all(f["layer"] == "network" and f["t_on"] and f["t_off"] for f in s["faults"])
    # the faults reached payments: some attempt ran while a lossy fault was on, and was judged
    verdicts = run.verdicts()
    assert verdicts["idempotency.same_key_across_retries"]["status"] == "pass"
    assert verdicts["retry.max_attempts"]["figures"]["max_seen"] >= 2
    # What reached the service: the embedded proxy knows which replies it cut; Toxiproxy cannot say.
    evidence = json.loads((run.report_dir / "runs" / scenario / "evidence.json").read_text())
    fates = Counter(a.get("reply") for h in evidence["orders"].values() for a in h["attempts"])
    if backend == "embedded":
        assert fates["cut"] > 0 and fates["reached"] > 0 and fates["unknown"] == 0, fates
    else:
        assert fates["unknown"] > 0 and fates["cut"] == 0, fates


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_retry_bug_is_not_hidden_by_the_network_marks(run_paychaos, backend_name: str) -> None:
    """Replies cut (or, on Toxiproxy, maybe cut) by the resets are still failures the service must back off
    after: a service that retries at once fails retry.backoff under network-flaky, on both backends."""
    if backend_name == "toxiproxy":
        need_toxiproxy()
    run = run_paychaos(str(STANDARD / "network-flaky.yaml"), "--seed", "3", "--faults", backend_name,
                       env={"REFTARGET_BUG": "no-backoff"})
    assert run.code == 1, run.stdout[-3000:]
    bad = {c for c, v in run.verdicts().items() if v["status"] in ("fail", "error")}
    assert bad == {"retry.backoff"}, bad
    why = run.verdicts()["retry.backoff"]["examples"][0]["why"]
    assert "the documented backoff allows no less than" in why, why


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_no_client_timeout_fails_slow_provider_on_the_degradation_clause(run_paychaos, backend_name: str) -> None:
    if backend_name == "toxiproxy":
        need_toxiproxy()
    run = run_paychaos(str(STANDARD / "slow-provider.yaml"), "--seed", "3", "--faults", backend_name,
                       env={"REFTARGET_BUG": "no-client-timeout"})
    assert run.code == 1, run.stdout[-3000:]
    v = run.verdicts()["degradation.max_response_ms"]
    assert v["status"] == "fail" and "not answered within 8000 ms" in v["measured"]
    assert "contracts/reference.yaml:" in v["where"]
    assert v["examples"] and "> 8000 ms" in v["examples"][0]["why"]
    events = v["examples"][0]["history"]["events"]
    assert any(ev.get("network_fault") == "silent-provider" for ev in events), events
