"""Scenario numbers relative to the contract (harness/spec/relative.py): the
arithmetic and its units, the standard scenarios resolving to the reference
target's numbers, clear errors naming both files, and the skip (never an
error) when the contract does not state a number a story needs, down to the
reports."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from harness.errors import SpecError
from harness.evidence.journal import new_journal
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.terminal import TerminalObserver, print_report
from harness.run.runner import run_all
from harness.run.scenario_run import RunOptions
from harness.spec import load_contract, load_inputs, load_scenario, load_target
from harness.spec.relative import referable

REPO = Path(__file__).resolve().parents[2]
STANDARD = REPO / "scenarios/standard"
TARGET = REPO / "scenarios/targets/reference.yaml"
CONTRACT = REPO / "scenarios/contracts/reference.yaml"
CONTRACT_TEXT = CONTRACT.read_text()

SCENARIO = """\
name: rel
providers: [cardpay]
workload:
  orders: 10
  concurrency: 2
  max_duration_s: 20
  cards: {visa: 1.0}
faults:
  - name: slow
    kind: delay
    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}
    rate: 0.5
    at: 1s
    for: 2s
verify: [retry]
"""
FAULT_LINE = 11  # delay_ms in SCENARIO


def write(tmp_path: Path, text: str, name: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def contract_with(tmp_path: Path, timeouts: str | None = "cardpay: {client_ms: 1000}", **subs: str) -> Path:
    """The reference contract with its cardpay timeout replaced (None: no timeouts section)."""
    text = CONTRACT_TEXT
    line = next(ln for ln in text.splitlines() if ln.lstrip().startswith("cardpay: {client_ms:"))
    text = text.replace(line, f"  {timeouts}" if timeouts else "")
    if timeouts is None:
        text = text.replace("timeouts:", "")
    for old, new in subs.items():
        assert old in text
        text = text.replace(old, new)
    return write(tmp_path, text, "c.yaml")


def load(tmp_path: Path, scenario: str, contract: Path | None = None):
    s = write(tmp_path, scenario, "s.yaml")
    return load_inputs([s], TARGET, contract or CONTRACT).scenarios[0]


def issues(tmp_path: Path, scenario: str, contract: Path | None = None) -> str:
    with pytest.raises(SpecError) as info:
        load(tmp_path, scenario, contract)
    return "\n".join(map(str, info.value.issues))


# -- the arithmetic ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field,value,expected", [
    ("delay_ms", "{over: timeouts.cardpay.client_ms, by: 500}", 1500),
    ("delay_ms", "{under: timeouts.cardpay.client_ms, by: 250}", 750),
    ("delay_ms", "{times: 2.5, of: timeouts.cardpay.client_ms}", 2500),
    ("delay_ms", "{times: 0.3333, of: timeouts.cardpay.client_ms}", 333),  # a whole number of ms, rounded
    ("delay_ms", "{over: degradation.max_response_ms, by: 0}", 8000),
    ("delay_ms", "{over: retry.backoff.max_ms, by: 1}", 2001),
])
def test_http_attributes_resolve_in_the_fields_unit(tmp_path: Path, field: str, value: str, expected: int) -> None:
    s = load(tmp_path, SCENARIO.replace("{over: timeouts.cardpay.client_ms, by: 500}", value))
    (fault,) = s.faults
    assert fault.rule[field] == expected and isinstance(fault.rule[field], int)
    assert fault.derived[field].value == expected


def test_seconds_fields_take_durations_and_convert_the_contracts_milliseconds(tmp_path: Path) -> None:
    text = SCENARIO.replace("at: 1s", "at: {under: timeouts.cardpay.client_ms, by: 250ms}") \
                   .replace("for: 2s", "for: {over: degradation.max_response_ms, by: 2s}")
    (fault,) = load(tmp_path, text).faults
    assert fault.at == 0.75 and fault.duration == 10.0
    assert fault.derived["at"].text == "0.75s (timeouts.cardpay.client_ms 1000 - 0.25s)"
    assert fault.derived["for"].text == "10s (degradation.max_response_ms 8000 + 2s)"


def test_retry_after_in_seconds_and_counts(tmp_path: Path) -> None:
    text = SCENARIO.replace("kind: delay\n    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}",
                            "kind: rate_limit\n    retry_after_s: {times: 1.5, of: timeouts.cardpay.client_ms}\n"
                            "    first_n: {over: retry.max_attempts, by: 1}")
    (fault,) = load(tmp_path, text).faults
    assert fault.rule["retry_after_s"] == 1.5 and fault.rule["first_n"] == 4
    assert fault.derived["first_n"].text == "4 (retry.max_attempts 3 + 1)"
    assert fault.derived["retry_after_s"].text == "1.5s (1.5 x timeouts.cardpay.client_ms 1000)"


def test_toxic_attributes_convert_to_their_units(tmp_path: Path) -> None:
    text = SCENARIO.replace("kind: delay\n    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}\n    rate: 0.5",
                            "kind: slicer\n    average_size: 64\n"
                            "    delay: {times: 0.002, of: timeouts.cardpay.client_ms}")  # microseconds
    (fault,) = load(tmp_path, text).faults
    assert fault.rule["attributes"] == {"average_size": 64, "size_variation": 0, "delay": 2000}
    text = SCENARIO.replace("kind: delay\n    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}\n    rate: 0.5",
                            "kind: timeout\n    timeout: {over: timeouts.cardpay.client_ms, by: 100}")
    (fault,) = load(tmp_path, text).faults
    assert fault.rule["attributes"] == {"timeout": 1100}
    assert fault.derived["timeout"].text == "1100 ms (timeouts.cardpay.client_ms 1000 + 100 ms)"


def test_the_number_follows_the_contract(tmp_path: Path) -> None:
    (fault,) = load(tmp_path, SCENARIO, contract_with(tmp_path, "cardpay: {client_ms: 2500}")).faults
    assert fault.rule["delay_ms"] == 3000
    d = fault.derived["delay_ms"]
    assert (d.ref, d.ref_value, d.op, d.operand) == ("timeouts.cardpay.client_ms", 2500, "over", 500)
    assert re.fullmatch(r".*c\.yaml:\d+", d.ref_where)
    assert d.text == "3000 ms (timeouts.cardpay.client_ms 2500 + 500 ms)"


def test_each_instance_has_its_own_timeout(tmp_path: Path) -> None:
    src = TARGET.read_text()
    two = src.replace("providers:\n  cardpay:\n    url_env: CARDPAY_BASE_URL\n    api_key_env: CARDPAY_API_KEY",
                      "providers:\n  primary:\n    type: cardpay\n    url_env: PRIMARY_URL\n"
                      "    api_key_env: PRIMARY_KEY\n  backup:\n    type: cardpay\n    url_env: BACKUP_URL")
    assert two != src
    target = write(tmp_path, two, "t.yaml")
    contract = contract_with(tmp_path, "primary: {client_ms: 1000}\n  backup: {client_ms: 4000}")
    text = SCENARIO.replace("providers: [cardpay]", "providers: [primary, backup]") \
                   .replace("timeouts.cardpay", "timeouts.backup").replace("rate: 0.5", "rate: 0.5\n    provider: backup")
    (s,) = load_inputs([write(tmp_path, text, "s.yaml")], target, contract).scenarios
    assert s.faults[0].rule["delay_ms"] == 4500 and s.skip is None


# -- the standard scenarios keep the reference target's numbers ------------------------------------------


def test_the_standard_scenarios_resolve_to_the_reference_targets_numbers() -> None:
    inputs = load_inputs([STANDARD], TARGET, CONTRACT)
    faults = {(s.spec.name, f.name): f for s in inputs.scenarios for f in s.faults}
    assert all(s.skip is None for s in inputs.scenarios)
    assert faults["card-timeouts", "slower-than-client-timeout"].rule["delay_ms"] == 1500
    assert faults["card-timeouts", "outlasts-retry-budget"].rule["first_n"] == 4
    assert faults["lost-reply", "dropped-before-running"].rule["first_n"] == 3
    assert faults["slow-provider", "silent-provider"].duration == 10.0
    derived = faults["card-timeouts", "slower-than-client-timeout"].derived["delay_ms"]
    assert derived.text == "1500 ms (timeouts.cardpay.client_ms 1000 + 500 ms)"
    assert derived.ref_where.startswith(str(CONTRACT)) and derived.ref_where.split(":")[-1].isdigit()
    # the journal records the inputs as run: FaultSpec.model_dump carries the derivation
    dumped = faults["card-timeouts", "slower-than-client-timeout"].model_dump(mode="json")
    assert dumped["rule"]["delay_ms"] == 1500 and dumped["derived"]["delay_ms"]["ref_value"] == 1000


@pytest.mark.parametrize("contract", ["scenarios/contracts/node_shop.yaml", "tests/fixtures/sample_suite/contract.yaml"])
def test_every_contract_used_with_the_standard_scenarios_states_their_numbers(contract: str) -> None:
    target = "tests/fixtures/sample_suite/target.yaml" if "sample" in contract else "scenarios/targets/node_shop.yaml"
    inputs = load_inputs([STANDARD], REPO / target, REPO / contract)
    assert {s.spec.name: s.skip for s in inputs.scenarios if s.skip} == {}


# -- errors: malformed references are bad input, located in the scenario, naming the contract ------------


BAD = [
    # (why, the replacement for the delay_ms value, expected text)
    ("a typo in the section", "{over: timeout.cardpay.client_ms, by: 500}",
     "faults[0].delay_ms.over: timeout.cardpay.client_ms: no contract can state it: there is no section 'timeout' "
     "(did you mean 'timeouts'?); the numbers a scenario can refer to are "),
    ("a typo in the leaf", "{over: timeouts.cardpay.client, by: 500}",
     "timeouts.<instance> has no 'client' (did you mean 'client_ms'?)"),
    ("not an instance of the scenario", "{over: timeouts.cardpya.client_ms, by: 500}",
     "faults[0].delay_ms.over: timeouts.cardpya.client_ms: 'cardpya' is not a provider instance of this scenario "
     "(cardpay) (did you mean 'cardpay'?)"),
    ("a section", "{over: timeouts.cardpay, by: 500}",
     "timeouts.cardpay: is a section, not a number; refer to one of its numbers: timeouts.cardpay.client_ms"),
    ("a count for a time", "{over: retry.max_attempts, by: 500}",
     "retry.max_attempts is a count, but faults[0].delay_ms is a time in ms; refer to a time such as "
     "timeouts.<instance>.client_ms"),
    ("not a number", "{over: retry.transient, by: 500}", "retry.transient: is not a number"),
    ("no unit", "{over: retry.backoff.multiplier, by: 1}", "is a number with no unit"),
    ("no by", "{over: timeouts.cardpay.client_ms}",
     "faults[0].delay_ms: over: needs by:, e.g. {over: timeouts.cardpay.client_ms, by: 500}"),
    ("unknown key", "{ovr: timeouts.cardpay.client_ms, by: 500}",
     "faults[0].delay_ms.ovr: unknown key (did you mean 'over'?); a number relative to the contract is written "
     "{over: REF, by: N}, {under: REF, by: N} or {times: F, of: REF}"),
    ("two directions", "{over: timeouts.cardpay.client_ms, under: timeouts.cardpay.client_ms, by: 1}",
     "faults[0].delay_ms: gives over and under; write one of"),
    ("of with over", "{over: timeouts.cardpay.client_ms, of: 2}", "faults[0].delay_ms.of: does not go with over:"),
    ("a negative by", "{over: timeouts.cardpay.client_ms, by: -5}",
     "faults[0].delay_ms.by: must be >= 0 (got -5); for the other direction write under: instead of over:"),
    ("a duration in a ms field", "{over: timeouts.cardpay.client_ms, by: 2s}",
     "faults[0].delay_ms.by: must be a number in the field's unit, such as 500 ms (got '2s')"),
    ("a zero factor", "{times: 0, of: timeouts.cardpay.client_ms}",
     "faults[0].delay_ms.times: must be a number above 0 and at most 1000 (got 0)"),
    ("a reference that is not text", "{over: 5, by: 5}",
     "faults[0].delay_ms.over: must be the dotted path of a number in the contract"),
]


@pytest.mark.parametrize("why,value,text", BAD, ids=[row[0] for row in BAD])
def test_a_malformed_reference_is_bad_input(tmp_path: Path, why: str, value: str, text: str) -> None:
    message = issues(tmp_path, SCENARIO.replace("{over: timeouts.cardpay.client_ms, by: 500}", value))
    assert f"s.yaml:{FAULT_LINE} " in message, message
    assert text in message, message


def test_a_result_below_zero_names_both_files(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, "cardpay: {client_ms: 300}")
    message = issues(tmp_path, SCENARIO.replace("over: timeouts.cardpay.client_ms", "under: timeouts.cardpay.client_ms"),
                     contract)
    line = CONTRACT_TEXT.splitlines().index("  cardpay: {client_ms: 1000}      # one attempt gives up after 1 s "
                                            "(REFTARGET_TIMEOUT_S, default 1.0)") + 1
    assert (f"s.yaml:{FAULT_LINE} faults[0].delay_ms: is -200 ms (timeouts.cardpay.client_ms 300 - 500 ms), below 0, "
            f"with timeouts.cardpay.client_ms 300 ({contract}:{line}); use a smaller by: or a number of its own") \
        in message, message


def test_a_derived_number_the_field_refuses_says_how_it_was_derived(tmp_path: Path) -> None:
    message = issues(tmp_path, SCENARIO.replace("{over: timeouts.cardpay.client_ms, by: 500}",
                                                "{times: 1000, of: timeouts.cardpay.client_ms}"))
    assert f"s.yaml:{FAULT_LINE} faults[0].delay_ms: delay_ms=1000000 is invalid" in message, message
    assert f"(delay_ms is 1000000 ms (1000 x timeouts.cardpay.client_ms 1000); timeouts.cardpay.client_ms is at " \
           f"{CONTRACT}:" in message, message
    late = SCENARIO.replace("at: 1s", "at: {times: 25, of: timeouts.cardpay.client_ms}")
    message = issues(tmp_path, late)
    assert "faults[0].at: 25s is not before the workload ends (max_duration_s 20s), so it would never apply " \
           "(at is 25s (25 x timeouts.cardpay.client_ms 1000))" in message, message


@pytest.mark.parametrize("old,new,text", [
    ("status: 503", "status: {over: timeouts.cardpay.client_ms, by: 1}",
     "faults[0].status: cannot be relative to the contract: status is not a time or a count; write a number"),
    ("rate: 0.5", "rate: {over: retry.max_attempts, by: 1}",
     "faults[0].rate: cannot be relative to the contract: rate is not a time or a count"),
])
def test_only_times_and_counts_can_be_relative(tmp_path: Path, old: str, new: str, text: str) -> None:
    scenario = SCENARIO.replace("kind: delay\n    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}",
                                "kind: status\n    status: 503")
    assert text in issues(tmp_path, scenario.replace(old, new)), scenario


@pytest.mark.parametrize("timeouts,text", [
    ("cardpya: {client_ms: 1000}", "timeouts.cardpya: 'cardpya' is not a provider instance of the target (cardpay) "
     "(did you mean 'cardpay'?); name it as the target file does"),
    ("cardpay: {client_ms: 0}", "timeouts.cardpay.client_ms: must be >= 1 (got 0)"),
    ("cardpay: {client: 1000}", "timeouts.cardpay.client: unknown field (did you mean 'client_ms'?)"),
    ("cardpay: 1000", "timeouts.cardpay: must be a mapping of key: value (got 1000)"),
])
def test_the_contracts_timeouts_are_validated(tmp_path: Path, timeouts: str, text: str) -> None:
    contract = contract_with(tmp_path, timeouts)
    with pytest.raises(SpecError) as info:
        load_inputs([STANDARD / "card-declines.yaml"], TARGET, contract)
    message = "\n".join(map(str, info.value.issues))
    line = contract.read_text().splitlines().index(f"  {timeouts}") + 1
    assert f"c.yaml:{line} {text}" in message, message


def test_every_number_a_scenario_can_refer_to() -> None:
    assert referable() == ["retry.max_attempts", "retry.backoff.initial_ms", "retry.backoff.max_ms",
                           "retry.backoff.tolerance_ms", "degradation.max_response_ms", "reconcile.max_requests",
                           "timeouts.<instance>.client_ms"]


# -- a number the contract does not state: the scenario is skipped, not an error ---------------------------


def test_a_contract_without_the_number_skips_the_scenario_with_the_reason(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, None)
    s = load(tmp_path, SCENARIO, contract)
    assert s.faults == ()  # the fault that needs it is checked, then left out: the scenario does not run
    assert s.skip == (f"needs timeouts.cardpay.client_ms (for faults[0].delay_ms at {tmp_path / 's.yaml'}:{FAULT_LINE}), "
                      f"which {contract} does not state; add `timeouts: {{cardpay: {{client_ms: ...}}}}` to it to run "
                      "this scenario")


def test_the_rest_of_a_fault_is_still_checked_when_its_number_is_missing(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, None)
    message = issues(tmp_path, SCENARIO.replace("rate: 0.5", "rate: 1.5"), contract)
    assert "s.yaml:12 faults[0].rate: must be between 0 and 1 (got 1.5)" in message, message
    assert "delay_ms" not in message, "the field the contract cannot fill is not judged"


def test_a_default_the_contract_left_out_is_not_stated(tmp_path: Path) -> None:
    """reconcile.max_requests defaults to 50, but this contract never says so."""
    contract = contract_with(tmp_path, **{"  max_requests: 40": ""})
    assert load_contract(contract).spec.reconcile.max_requests == 50
    scenario = SCENARIO.replace("kind: delay\n    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}",
                                "kind: status\n    status: 503\n    first_n: {over: reconcile.max_requests, by: 0}")
    s = load(tmp_path, scenario, contract)
    assert s.skip and s.skip.startswith("needs reconcile.max_requests (for faults[0].first_n at ")
    assert "add `reconcile: {max_requests: ...}` to it" in s.skip


def test_several_missing_numbers_are_named_together(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, None, **{"degradation:\n  max_response_ms: 8000\n": ""})
    scenario = SCENARIO.replace("for: 2s", "for: {over: degradation.max_response_ms, by: 2s}")
    s = load(tmp_path, scenario, contract)
    # in the order they were met: a fault's at and for come before its own attributes
    assert s.skip.startswith("needs degradation.max_response_ms (for faults[0].for at ")
    assert " and timeouts.cardpay.client_ms (for faults[0].delay_ms at " in s.skip
    assert s.skip.endswith("does not state them; add `degradation: {max_response_ms: ...}` and "
                           "`timeouts: {cardpay: {client_ms: ...}}` to it to run this scenario")


def test_without_a_contract_the_scenario_loads_and_says_it_cannot_run(tmp_path: Path) -> None:
    s = load_scenario(STANDARD / "card-timeouts.yaml", load_target(TARGET).spec)
    assert s.skip.startswith("needs timeouts.cardpay.client_ms (for faults[1].delay_ms at ")
    assert s.skip.endswith("and no contract was given to take it from")
    assert [f.name for f in s.faults] == ["503-burst"]
    full = load_scenario(STANDARD / "card-timeouts.yaml", load_target(TARGET).spec, load_contract(CONTRACT))
    assert full.skip is None and len(full.faults) == 3


def test_a_skipped_scenario_is_reported_as_skipped_everywhere(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, None)
    inputs = load_inputs([STANDARD / "card-timeouts.yaml"], TARGET, contract)
    reason = inputs.scenarios[0].skip
    assert reason and str(contract) in reason
    journal = new_journal(7, ["paychaos", "run"], "paychaos run --seed 7", {}, None)
    out = io.StringIO()
    console = Console(file=out, width=2000, force_terminal=False)
    asyncio.run(run_all(inputs, RunOptions(seed=7, report_dir=tmp_path / "r"), journal, TerminalObserver(console)))
    (s,) = journal.scenarios
    assert (s.status, s.summary, s.verdicts, s.error) == ("skipped", {"skipped": reason}, [], None)
    assert not (tmp_path / "r").exists(), "nothing was started for it"
    assert journal.totals["scenarios"] == 1 and not journal.totals["scenarios_error"]
    print_report(console, journal)
    shown = out.getvalue()
    assert f"SKIPPED card-timeouts in 0.0s: {reason}" in shown
    assert "1 scenarios (1 skipped): 0 checks passed" in shown
    junit = render_junit(journal)
    assert 'tests="1" failures="0" errors="0" skipped="1"' in junit
    assert f'<testcase classname="paychaos.card-timeouts" name="run" time="0">\n      <skipped message="' in junit
    assert "does not state; add `timeouts: {cardpay: {client_ms: ...}}` to it" in junit
    md = render_markdown(journal)
    assert "| card-timeouts | ⏭️ skipped |" in md and f"**Skipped, not run:** {reason}" in md
    assert "Orders:" not in md


def test_the_summary_names_the_numbers_taken_from_the_contract() -> None:
    from harness.evidence.journal import ScenarioResult
    from harness.evidence.model import FaultEvent

    (s,) = load_inputs([STANDARD / "card-timeouts.yaml"], TARGET, CONTRACT).scenarios
    # as the CLI records the inputs (harness/cli.py _inputs_record): the FaultSpecs, dumped
    record = {"scenarios": [{"name": s.spec.name, "faults": [f.model_dump(mode="json") for f in s.faults]}]}
    journal = new_journal(7, ["paychaos"], "replay", record, None)
    journal.scenarios.append(ScenarioResult(
        name=s.spec.name, file=str(s.path), seed=1, status="passed", summary={"orders": 1},
        faults=[FaultEvent(name=f.name, kind=f.kind, layer=f.layer, rule=f.rule) for f in s.faults]))
    md = render_markdown(journal)
    assert ("Numbers taken from the contract: slower-than-client-timeout delay_ms 1500 ms "
            "(timeouts.cardpay.client_ms 1000 + 500 ms); outlasts-retry-budget first_n 4 "
            "(retry.max_attempts 3 + 1).") in md, md


# -- never a traceback -----------------------------------------------------------------------------------

refs = st.one_of(st.sampled_from(["timeouts.cardpay.client_ms", "timeouts.x.client_ms", "retry.max_attempts",
                                  "degradation", "degradation.max_response_ms.x", "..", "", "retry.backoff.multiplier"]),
                 st.text(max_size=12), st.integers(), st.none(), st.lists(st.integers(), max_size=2))
amounts = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
                    st.sampled_from(["2s", "250ms", "-1s"]), st.none(), st.booleans())
relatives = st.dictionaries(st.sampled_from(["over", "under", "times", "by", "of", "ovr"]),
                            st.one_of(refs, amounts), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["delay_ms", "at", "for", "first_n", "rate"]), value=relatives)
def test_any_relative_value_loads_or_is_a_located_issue(tmp_path_factory, field: str, value: dict) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    data = yaml.load(SCENARIO)
    data["faults"][0][field] = value
    buf = io.StringIO()
    yaml.dump(data, buf)
    path = tmp_path_factory.mktemp("rel") / "s.yaml"
    path.write_text(buf.getvalue())
    try:
        load_inputs([path], TARGET, CONTRACT)
    except SpecError as exc:
        assert exc.issues and all(i.file == str(path) and i.line and i.message.strip() for i in exc.issues), exc
