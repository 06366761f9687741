"""A target file for a service that keeps its own provider credentials and needs
a set-up step, run end to end: the step runs before the service, the provider
instance accepts exactly the service's key, and a key the provider does not
know is an integration error (exit 3), not a pile of failed checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import STANDARD, TARGET

pytestmark = pytest.mark.integration

SCENARIO = (STANDARD / "rate-limited.yaml").read_text().replace("orders: 30", "orders: 8")


def target_file(tmp_path: Path, service_key: str) -> Path:
    text = TARGET.read_text()
    text = text.replace("    api_key_env: CARDPAY_API_KEY",
                        "    credentials: {api_key: {value: sk_test_kept_in_their_db}}")
    text = text.replace('    REFTARGET_DB: "{run_dir}/reference.sqlite3"',
                        f'    REFTARGET_DB: "{{run_dir}}/reference.sqlite3"\n    CARDPAY_API_KEY: {service_key}\n'
                        '  before:\n    - ["{python}", "-c", "open(\'{run_dir}/seeded\', \'w\').write(\'3 products\')"]')
    path = tmp_path / "target.yaml"
    path.write_text(text)
    return path


def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    return path


def test_credentials_the_service_keeps_and_a_set_up_step(run_paychaos, tmp_path: Path) -> None:
    run = run_paychaos(str(scenario(tmp_path)), "--seed", "3", target=target_file(tmp_path, "sk_test_kept_in_their_db"))
    assert run.code == 0, (run.stdout[-2000:], run.stderr[-2000:])
    assert (run.report_dir / "runs/rate-limited/seeded").read_text() == "3 products"
    assert run.verdicts()["integration.api"]["status"] == "pass"
    journal = (run.report_dir / "runs/rate-limited/evidence/journal-cardpay.jsonl").read_text()
    first = json.loads(journal.splitlines()[0])
    assert first["headers"]["authorization"] == "Bearer sk_test_****", "the key is redacted in every journal"
    assert "kept_in_their_db" not in journal


def test_a_key_the_provider_does_not_know_is_an_integration_error(run_paychaos, tmp_path: Path) -> None:
    run = run_paychaos(str(scenario(tmp_path)), "--seed", "3", target=target_file(tmp_path, "sk_test_stale_key"))
    assert run.code == 3, (run.stdout[-2000:], run.stderr[-2000:])
    gate = run.verdicts()["integration.api"]
    assert gate["status"] == "error" and "-> 401" in gate["reason"]
