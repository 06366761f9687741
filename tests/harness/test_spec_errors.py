"""Bad input gets a clear error: file:line, the field path, what was wrong and
how to fix it; nothing starts. A table of bad inputs, one per row."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.spec import load_contract, load_inputs, load_scenario, load_target

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "scenarios/targets/reference.yaml"
CONTRACT = REPO / "scenarios/contracts/reference.yaml"

GOOD_SCENARIO = """\
name: ok
providers: [cardpay]
workload:
  orders: 10
  concurrency: 2
  max_duration_s: 5
  cards: {visa: 1.0}
faults:
  - kind: status
    status: 503
    rate: 0.5
    at: 1s
    for: 2s
verify: [retry]
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def scenario_issue(tmp_path: Path, text: str) -> str:
    target = load_target(TARGET).spec
    with pytest.raises(SpecError) as info:
        load_scenario(write(tmp_path, text), target)
    return "\n".join(str(i) for i in info.value.issues)


def test_the_good_scenario_loads(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, GOOD_SCENARIO), load_target(TARGET).spec)
    assert s.faults[0].rule["rate"] == 0.5
    assert s.faults[0].at == 1.0 and s.faults[0].duration == 2.0
    assert s.checks[:6] == ("integration.api", "attribution.coverage", "money.no_double_charge",
                            "money.no_orphan_capture", "money.state_matches_ledger", "money.all_final")
    assert "retry.max_attempts" in s.checks


BAD_SCENARIOS = [
    # (what is wrong, the replacement, expected line, expected text)
    ("rate above 1", ("rate: 0.5", "rate: 1.5"), 11, "faults[0].rate: must be between 0 and 1 (got 1.5)"),
    ("negative duration", ("for: 2s", "for: -2s"), 13, "faults[0].for: must be a duration"),
    ("bad duration unit", ("at: 1s", "at: 1 fortnight"), 12, "faults[0].at: must be a duration such as 2s"),
    ("unknown fault kind", ("kind: status", "kind: statuss"), 9, "faults[0].kind: unknown fault kind 'statuss' (did you mean 'status'?)"),
    ("status out of range", ("status: 503", "status: 700"), 10, "faults[0].status: status=700 is invalid"),
    ("unknown workload field", ("concurrency: 2", "concurency: 2"), 5, "workload.concurency: unknown field (did you mean 'concurrency'?)"),
    ("missing orders", ("  orders: 10\n", ""), 3, "workload.orders: is required but missing"),
    ("orders not a number", ("orders: 10", "orders: ten"), 4, "workload.orders: must be a whole number (got 'ten')"),
    ("unknown card", ("cards: {visa: 1.0}", "cards: {vissa: 1.0}"), 7, "workload.cards.vissa: unknown test card (did you mean 'visa'?)"),
    ("card weight above 1", ("cards: {visa: 1.0}", "cards: {visa: 2}"), 7, "workload.cards.visa: must be between 0 and 1"),
    ("unknown check", ("verify: [retry]", "verify: [retyr]"), 14, "verify[0]: unknown check 'retyr' (did you mean 'retry'?)"),
    ("unknown provider", ("providers: [cardpay]", "providers: [cardpai]"), 2, "providers[0]: unknown provider 'cardpai' (did you mean 'cardpay'?)"),
    ("network envelope on http", ("rate: 0.5", "toxicity: 0.5"), 11, "faults[0].toxicity: is for network faults; HTTP faults take rate, first_n, window_s and match"),
    ("fault after the workload", ("at: 1s", "at: 9s"), 12, "faults[0].at: 9s is not before the workload ends"),
    ("both loops", ("concurrency: 2", "concurrency: 2\n  rate: 3"), 3, "workload: give either concurrency (closed loop) or rate (open loop), not both"),
    ("bad scenario name", ("name: ok", "name: 'has spaces'"), 1, "name: must match"),
    ("fault is a list", ("  - kind: status\n", "  - [kind, status]\n  - kind: status\n"), 9, "faults[0]: must be a mapping"),
    ("first_n zero", ("rate: 0.5", "first_n: 0"), 11, "faults[0].first_n: must be >= 1 (got 0)"),
]


@pytest.mark.parametrize("why,change,line,text", BAD_SCENARIOS, ids=[row[0] for row in BAD_SCENARIOS])
def test_bad_scenario_is_located_and_explained(tmp_path: Path, why: str, change: tuple[str, str], line: int,
                                                text: str) -> None:
    old, new = change
    assert old in GOOD_SCENARIO
    message = scenario_issue(tmp_path, GOOD_SCENARIO.replace(old, new, 1))
    assert f"s.yaml:{line} " in message, message
    assert text in message, message


def test_network_fault_rejects_rate_with_the_reason(tmp_path: Path) -> None:
    text = GOOD_SCENARIO.replace("kind: status\n    status: 503\n    rate: 0.5", "kind: latency\n    latency: 100\n    rate: 0.5")
    message = scenario_issue(tmp_path, text)
    assert "faults[0].rate: is for HTTP faults" in message
    assert "draws toxicity once per connection" in message


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    message = scenario_issue(tmp_path, "name: x\nworkload: {orders: 3\nfaults: []\n")
    assert message.startswith(str(tmp_path / "s.yaml") + ":3 ") and "YAML syntax error" in message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    message = scenario_issue(tmp_path, GOOD_SCENARIO + "name: again\n")
    assert "s.yaml:15 " in message and "duplicate" in message


LAUGHS = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 7))


@pytest.mark.parametrize("text,expected", [
    ("", "must be a mapping of fields at the top level (the file is empty)"),
    ("- a\n- b\n", "must be a mapping of fields at the top level (the file is a list)"),
    ("just text", "must be a mapping of fields at the top level (the file is a str)"),
    ("a: &x [*x]\n", "a: unknown field"),
    (LAUGHS, "expands to more than"),
])
def test_degenerate_documents(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in scenario_issue(tmp_path, text)


def test_missing_file() -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_contract("nope/contract.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(SpecError, match="is not UTF-8"):
        load_contract(p)


BAD_CONTRACTS = [
    ("max_attempts: 3", "max_attempts: 0", "retry.max_attempts: must be >= 1 (got 0)"),
    ("jitter: equal", "jitter: sometimes", "retry.backoff.jitter: must be one of 'none', 'equal' or 'full' (got 'sometimes')"),
    ("max_ms: 2000", "max_ms: 100", "retry.backoff.max_ms: must be >= initial_ms (200) (got 100)"),
    ("never_retry: [decline,", "never_retry: [timeout, decline,", "retry.never_retry: timeout cannot be both transient and never_retry"),
    ("required: [type, action, contact]", "required: [type, acton]", "errors.required[1]: must be one of"),
    ("- \"^payment failed", "- \"(unclosed", "errors.forbidden_messages: item 0 is not a valid regular expression"),
    ("cardpay: {client_ms: 1000}", "cardpay: {client_ms: 0}", "timeouts.cardpay.client_ms: must be >= 1 (got 0)"),
]


@pytest.mark.parametrize("old,new,text", BAD_CONTRACTS, ids=[row[2].split(":")[0] for row in BAD_CONTRACTS])
def test_bad_contract(tmp_path: Path, old: str, new: str, text: str) -> None:
    src = CONTRACT.read_text()
    assert old in src
    bad = write(tmp_path, src.replace(old, new, 1), "c.yaml")
    with pytest.raises(SpecError) as info:
        load_contract(bad)
    message = "\n".join(map(str, info.value.issues))
    assert text in message, message
    line = src[: src.index(old)].count("\n") + 1
    assert any(i.line is not None and abs(i.line - line) <= 2 for i in info.value.issues), message


BAD_TARGETS = [
    ('path: "/payments/{order.id}"', 'path: "/payments/{order.idd}"', "requests.lookup.path: unknown placeholder {order.idd}"),
    ("url_env: CARDPAY_BASE_URL", "url_envv: CARDPAY_BASE_URL", "providers.cardpay.url_envv: unknown field"),
    ("method: POST", "method: FETCH", "requests.pay.method: must be one of"),
    ('base_url: "http://127.0.0.1:{port}"', 'base_url: "127.0.0.1:{port}"', "base_url: must start with http://"),
    ("timeout_s: 20\n  lookup", "timeout_s: soon\n  lookup", "requests.pay.timeout_s: must be a duration"),
    ("cardpay:", "paypal:", "providers.paypal: unknown provider type 'paypal'"),
    ("url_env: CARDPAY_BASE_URL", "type: cardpey\n    url_env: CARDPAY_BASE_URL",
     "providers.cardpay.type: unknown provider type 'cardpey' (did you mean 'cardpay'?)"),
    ("api_key_env: CARDPAY_API_KEY", "credentials: {secret: CARDPAY_API_KEY}",
     "providers.cardpay.credentials.secret: cardpay has no credential 'secret'; it takes api_key"),
    ('payment_method: "{order.card.payment_method}"', 'payment_method: "{order.card.pin}"',
     "requests.pay.json: unknown placeholder {order.card.pin}; the providers' test cards have"),
]


@pytest.mark.parametrize("old,new,text", BAD_TARGETS, ids=[row[2].split(":")[0] for row in BAD_TARGETS])
def test_bad_target(tmp_path: Path, old: str, new: str, text: str) -> None:
    src = TARGET.read_text()
    assert old in src
    bad = write(tmp_path, src.replace(old, new, 1), "t.yaml")
    with pytest.raises(SpecError) as info:
        load_target(bad)
    message = "\n".join(map(str, info.value.issues))
    assert text in message, message
    assert all(i.line for i in info.value.issues), message


def test_all_problems_across_files_are_reported_together(tmp_path: Path) -> None:
    a = write(tmp_path, GOOD_SCENARIO.replace("rate: 0.5", "rate: 2"), "a.yaml")
    b = write(tmp_path, GOOD_SCENARIO.replace("name: ok", "name: ok2").replace("orders: 10", "orders: -1"), "b.yaml")
    with pytest.raises(SpecError) as info:
        load_inputs([a, b], TARGET, CONTRACT)
    text = str(info.value)
    assert "a.yaml:11 faults[0].rate" in text and "b.yaml:4 workload.orders" in text


def test_duplicate_scenario_names(tmp_path: Path) -> None:
    write(tmp_path, GOOD_SCENARIO, "a.yaml")
    write(tmp_path, GOOD_SCENARIO, "b.yaml")
    with pytest.raises(SpecError, match="scenario names must be unique"):
        load_inputs([tmp_path], TARGET, CONTRACT)


def test_the_shipped_inputs_are_valid() -> None:
    inputs = load_inputs([REPO / "scenarios/standard"], TARGET, CONTRACT)
    assert {s.spec.name for s in inputs.scenarios} >= {"card-timeouts", "card-declines", "rate-limited", "lost-reply"}


NET = GOOD_SCENARIO.replace("kind: status\n    status: 503\n    rate: 0.5", "kind: latency\n    latency: 100\n    jitter: 10")


@pytest.mark.parametrize("old,new,line,text", [
    ("latency: 100", "latency: -5", 10, "faults[0].latency: latency=-5 is invalid for toxic 'latency': must be >= 0 ms"),
    ("jitter: 10", "jitterr: 10", 11, "faults[0].jitterr: unknown attribute 'jitterr' for toxic 'latency'; did you mean 'jitter'?"),
    ("jitter: 10", "jitter: 10\n    stream: sideways", 12, "faults[0].stream: must be one of 'upstream' or 'downstream'"),
    ("jitter: 10", "jitter: 10\n    toxicity: 2", 12, "faults[0].toxicity: must be between 0 and 1 (got 2)"),
    ("kind: latency\n    latency: 100\n    jitter: 10", "kind: down\n    toxicity: 0.5", 10,
     "faults[0].toxicity: toxicity=0.5 is invalid for 'down': it takes the whole proxy down"),
    ("kind: latency\n    latency: 100\n    jitter: 10", "kind: slicer\n    average_size: 0", 10,
     "faults[0].average_size: average_size=0 is invalid"),
])
def test_bad_network_fault(tmp_path: Path, old: str, new: str, line: int, text: str) -> None:
    assert old in NET
    message = scenario_issue(tmp_path, NET.replace(old, new, 1))
    assert f"s.yaml:{line} " in message, message
    assert text in message, message


def test_good_network_fault_carries_toxiproxy_attributes(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, NET), load_target(TARGET).spec)
    (f,) = s.faults
    assert f.layer == "network" and f.rule == {"stream": "downstream", "toxicity": 1.0,
                                               "attributes": {"latency": 100, "jitter": 10}}


PROCESS = GOOD_SCENARIO.replace("kind: status\n    status: 503\n    rate: 0.5", "kind: pause")


@pytest.mark.parametrize("old,new,line,text", [
    ("kind: pause", "kind: pause\n    provider: cardpay", 10, "faults[0].provider: pause acts on the target, not on a "
     "provider; remove provider:"),
    ("kind: pause", "kind: kill", 11, "faults[0].for: kill is an instant: it happens at `at` and has no duration"),
    ("kind: pause\n    at: 1s\n    for: 2s", "kind: kill\n    signal: SIGSTOP\n    at: 1s", 10,
     "faults[0].signal: must be one of"),
    ("kind: pause", "kind: pause\n    rate: 0.5", 10, "faults[0].rate: is for HTTP faults; process faults take no "
     "envelope keys"),
])
def test_bad_process_fault(tmp_path: Path, old: str, new: str, line: int, text: str) -> None:
    message = scenario_issue(tmp_path, PROCESS.replace(old, new, 1))
    assert f"s.yaml:{line} " in message, message
    assert text in message, message


def test_process_faults_need_a_target_paychaos_starts(tmp_path: Path) -> None:
    src = TARGET.read_text()
    start = src.index("start:")
    no_start = src[:start] + src[src.index("base_url:"):].replace("{port}", "8999")
    target = load_target(write(tmp_path, no_start, "t.yaml")).spec
    with pytest.raises(SpecError) as info:
        load_scenario(write(tmp_path, PROCESS), target)
    assert "s.yaml:9 faults[0].kind: pause acts on the target process, but the target file has no start section" \
        in str(info.value)


def test_instances_of_one_type_and_their_faults(tmp_path: Path) -> None:
    src = TARGET.read_text()
    two = src.replace("providers:\n  cardpay:\n    url_env: CARDPAY_BASE_URL\n    api_key_env: CARDPAY_API_KEY",
                      "providers:\n  primary:\n    type: cardpay\n    url_env: PRIMARY_URL\n"
                      "    api_key_env: PRIMARY_KEY\n  backup:\n    type: cardpay\n    url_env: BACKUP_URL")
    assert two != src
    target = load_target(write(tmp_path, two, "t.yaml")).spec
    text = GOOD_SCENARIO.replace("providers: [cardpay]", "providers: {primary: {type: cardpay}, backup: {}}")
    s = load_scenario(write(tmp_path, text.replace("rate: 0.5", "rate: 0.5\n    provider: backup")), target)
    assert s.instances == {"primary": "cardpay", "backup": "cardpay"}
    assert s.faults[0].provider == "backup"
    message = "\n".join(str(i) for i in pytest.raises(SpecError, load_scenario, write(tmp_path, text), target)
                         .value.issues)
    assert "s.yaml:9 faults[0]: provider: is required when the scenario has several providers (primary, backup)" \
        in message, message
    wrong = text.replace("backup: {}", "backup: {type: tests.nowhere.minipay}").replace("rate: 0.5", "rate: 0.5\n    provider: backup")
    message = "\n".join(str(i) for i in pytest.raises(SpecError, load_scenario, write(tmp_path, wrong), target)
                         .value.issues)
    assert ("providers.backup.type: provider type 'tests.nowhere.minipay': cannot import tests.nowhere.minipay "
            "(No module named 'tests.nowhere')") in message, message
    other = wrong.replace("tests.nowhere.minipay", "mock_providers.cardpay.profile")
    message = "\n".join(str(i) for i in pytest.raises(SpecError, load_scenario, write(tmp_path, other), target)
                         .value.issues)
    assert ("providers.backup.type: 'backup' is of type cardpay in the target file, not "
            "mock_providers.cardpay.profile; make them agree") in message, message


def test_unknown_workload_engine(tmp_path: Path) -> None:
    message = scenario_issue(tmp_path, GOOD_SCENARIO.replace("orders: 10", "engine: locustt\n  orders: 10"))
    assert "s.yaml:4 workload.engine: unknown workload engine 'locustt'" in message, message
