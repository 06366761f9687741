"""Target files for services paychaos did not write: ${VAR} expansion from
paychaos's environment, set-up steps before the service starts, and
credentials the service keeps itself."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.errors import SpecError, TargetStartError
from harness.run.process import run_step
from harness.spec import load_target

REPO = Path(__file__).resolve().parents[2]
TARGET = (REPO / "scenarios/targets/reference.yaml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return p


def test_variables_expand_with_defaults_and_literals(tmp_path: Path) -> None:
    text = TARGET.replace('command: ["{python}"', 'command: ["${SHOP_PYTHON:-{python}}"').replace(
        'REFTARGET_DB: "{run_dir}/reference.sqlite3"',
        'REFTARGET_DB: "${SHOP_DB}"\n    LITERAL: "$${{NOT_EXPANDED}}"')
    t = load_target(write(tmp_path, text), {"SHOP_DB": "/tmp/shop.db"}).spec
    assert t.start.command[0] == "{python}" and t.start.env["REFTARGET_DB"] == "/tmp/shop.db"
    assert t.start.env["LITERAL"] == "${{NOT_EXPANDED}}", "rendered as ${NOT_EXPANDED} when the run starts it"
    t = load_target(write(tmp_path, text), {"SHOP_DB": "x", "SHOP_PYTHON": "/opt/py/bin/python"}).spec
    assert t.start.command[0] == "/opt/py/bin/python"


def test_a_missing_variable_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = TARGET.replace('base_url: "http://127.0.0.1:{port}"', 'base_url: "http://127.0.0.1:${SHOP_PORT}"')
    with pytest.raises(SpecError) as info:
        load_target(write(tmp_path, text), {})
    (issue,) = info.value.issues
    line = TARGET[: TARGET.index("base_url:")].count("\n") + 1
    assert issue.line == line and issue.path == "base_url"
    assert "${SHOP_PORT} is not set in paychaos's environment; export it, or give a default" in issue.message


def test_credentials_as_values_and_unknown_names(tmp_path: Path) -> None:
    text = TARGET.replace("api_key_env: CARDPAY_API_KEY", "credentials: {api_key: {value: sk_test_in_their_db}}")
    binding = load_target(write(tmp_path, text)).spec.providers["cardpay"]
    assert binding.credential_values() == {"api_key": "sk_test_in_their_db"} and binding.credential_envs() == {}
    with pytest.raises(SpecError, match="cardpay has no credential 'token'"):
        load_target(write(tmp_path, text.replace("{api_key: {value", "{token: {value")))


async def test_before_steps_run_in_order_and_a_failure_stops_the_start(tmp_path: Path) -> None:
    log = tmp_path / "target.log"
    await run_step([sys.executable, "-c", "print('seeded 3 products')"], tmp_path, {}, log, 10)
    assert "seeded 3 products" in log.read_text() and log.read_text().startswith("$ ")
    with pytest.raises(TargetStartError, match="exited with status 4") as info:
        await run_step([sys.executable, "-c", "import sys; print('no db'); sys.exit(4)"], tmp_path, {}, log, 10)
    assert "no db" in info.value.output
    with pytest.raises(TargetStartError, match="did not finish within 0.3s"):
        await run_step([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, {}, log, 0.3)


SESSION = (REPO / "tests/fixtures/session_suite/target.yaml").read_text()


@pytest.mark.parametrize("old,new,text", [
    ('path: "/v1/payment_intents/{intent}/confirm"', 'path: "/v1/payment_intents/{intnet}/confirm"',
     "requests.pay.steps[2].path: unknown placeholder {intnet}; no earlier step captures it; captured so far: csrf, "
     "intent, secret"),
    ("to: provider:cardpay", "to: provider:stripe", "requests.pay.steps[2].to: 'stripe' is not a provider instance"),
    ("{credentials.cardpay.publishable_key}", "{credentials.cardpay.pk}",
     "unknown placeholder {credentials.cardpay.pk}; cardpay has no credential 'pk'"),
    ("        expect_status: [200, 402]", "        pays: true",
     "steps [2, 3] all say pays: true; one step pays"),
    ("csrf: {form_field: csrf_token}", "csrf: {form_field: csrf_token, json: token}",
     "give exactly one of json, header, form_field, cookie"),
    ("{field: status, equals: paid, outcome: succeeded}", "{field: status, match: '(paid', outcome: succeeded}",
     "'(paid' is not a valid regular expression"),
])
def test_bad_multi_step_targets(tmp_path: Path, old: str, new: str, text: str) -> None:
    assert old in SESSION
    with pytest.raises(SpecError) as info:
        load_target(write(tmp_path, SESSION.replace(old, new, 1)))
    message = "\n".join(str(i) for i in info.value.issues)
    assert text in message, message
    assert all(i.line for i in info.value.issues), message


def test_lookup_may_use_what_the_pay_steps_captured(tmp_path: Path) -> None:
    text = SESSION.replace('path: "/orders/{order.id}"', 'path: "/orders/{intent}"')
    assert load_target(write(tmp_path, text)).spec.requests.lookup.path == "/orders/{intent}"


@pytest.mark.parametrize("entry,text", [
    ("CARDPAY_API_KEY", "looks like a secret"),
    ("'9LIVES'", "is not an environment variable name"),
    ("'REF*X'", "is not an environment variable name"),
])
def test_replay_env_refuses_secrets_and_bad_names_at_its_line(tmp_path: Path, entry: str, text: str) -> None:
    bad = TARGET.replace('replay_env: [REFTARGET_BUG, "REFTARGET_*"]', f"replay_env: [REFTARGET_BUG, {entry}]")
    assert bad != TARGET
    with pytest.raises(SpecError) as info:
        load_target(write(tmp_path, bad))
    (issue,) = info.value.issues
    assert issue.line == TARGET[: TARGET.index("replay_env:")].count("\n") + 1, issue
    assert text in issue.message and "item 1" in issue.message, issue.message


def test_replay_env_values_as_run(monkeypatch) -> None:
    from harness.cli import _target_env

    monkeypatch.setenv("REFTARGET_BUG", "no-retry")
    monkeypatch.setenv("REFTARGET_TIMEOUT_S", "2.5")
    monkeypatch.delenv("SHOP_FLAG", raising=False)
    env = _target_env(["SHOP_FLAG", "REFTARGET_*"])
    assert env["SHOP_FLAG"] is None
    assert env["REFTARGET_BUG"] == "no-retry" and env["REFTARGET_TIMEOUT_S"] == "2.5"
