"""No artifact of a run holds a full card number, test cards included: the
PAN scanner (harness/report/pan_scan.py) reads every file the run wrote
(journal.json, junit.xml, summary.md, and under runs/: evidence.json, the
evidence streams, the provider journals, target.log, the target's SQLite
database) and finds none.

The second run sends the raw card number to the target on every payment, in
the JSON body (an extra field the reference target ignores) and in a header:
the harness must not record what it sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.pan_scan import luhn_ok, scan_paths
from tests.e2e.conftest import STANDARD, TARGET

pytestmark = [pytest.mark.integration]

SCENARIO = STANDARD / "card-declines.yaml"  # every test card of the mix, declines and 503s included
# Files every run writes (the scan covers every file; these must be among them).
EXPECTED = {"journal.json", "junit.xml", "summary.md", "runs/card-declines/evidence.json",
            "runs/card-declines/target.log", "runs/card-declines/reference.sqlite3",
            "runs/card-declines/providers/cardpay.journal.jsonl", "runs/card-declines/evidence/calls.jsonl",
            "runs/card-declines/evidence/orders.jsonl"}


def _target_sending_card_numbers(tmp_path: Path) -> Path:
    src = TARGET.read_text()
    pay = '      payment_method: "{order.card.payment_method}"\n'
    assert pay in src, "the reference target file changed: update this test"
    src = src.replace(pay, pay + '      card_number: "{order.card.number}"\n', 1)
    src = src.replace("    timeout_s: 20\n", '    headers: {X-Card-Number: "{order.card.number}"}\n    timeout_s: 20\n', 1)
    src = src.replace('cwd: "{repo_root}"', f'cwd: "{TARGET.parents[2]}"')
    path = tmp_path / "sends-card-numbers.yaml"
    path.write_text(src)
    return path


def _rendered_pay(target_file: Path) -> tuple[dict, dict]:
    """The body and headers of the first payment, as the harness sends them."""
    from harness.spec import load_inputs
    from harness.spec.templates import render_value
    from harness.workload.orders import OrderFactory

    inputs = load_inputs([SCENARIO], target_file, STANDARD.parent / "contracts" / "reference.yaml")
    order = next(OrderFactory(inputs.scenarios[0].spec.workload, ["cardpay"], 1, "t").orders())
    pay = inputs.target.spec.requests.pay
    return render_value(pay.json_body, order.context()), render_value(pay.headers, order.context())


class CardNumbersFound(AssertionError):
    pass


def _assert_no_card_numbers(run) -> None:
    assert run.code == 0, (run.stdout[-3000:], run.stderr[-2000:])
    written = {str(p.relative_to(run.report_dir)) for p in run.report_dir.rglob("*") if p.is_file()}
    assert EXPECTED <= written, sorted(written)
    findings, files = scan_paths([run.report_dir])
    assert files == len(written)
    if findings:
        raise CardNumbersFound(f"{len(findings)} card number(s) in the run's files:\n"
                               + "\n".join(map(str, findings[:20])))


def test_a_standard_run_writes_no_card_number(run_paychaos) -> None:
    _assert_no_card_numbers(run_paychaos(str(SCENARIO), "--seed", "1"))


def test_card_numbers_sent_to_the_target_are_not_recorded(run_paychaos, tmp_path: Path) -> None:
    target = _target_sending_card_numbers(tmp_path)
    body, headers = _rendered_pay(target)
    assert luhn_ok(body["card_number"]) and headers["X-Card-Number"] == body["card_number"]
    _assert_no_card_numbers(run_paychaos(str(SCENARIO), "--seed", "1", target=target))


def test_a_card_number_the_target_sends_the_provider_in_free_text_is_not_recorded(run_paychaos,
                                                                                   tmp_path: Path) -> None:
    src = TARGET.read_text()
    description = '      description: "{order.description}"\n'
    assert description in src, "the reference target file changed: update this test"
    # The reference target passes description on to the provider; its journal masks any card-like number.
    target = tmp_path / "leaky.yaml"
    target.write_text(src.replace(description, '      description: "{order.card.number}"\n', 1)
                      .replace('cwd: "{repo_root}"', f'cwd: "{TARGET.parents[2]}"'))
    _assert_no_card_numbers(run_paychaos(str(SCENARIO), "--seed", "1", target=target))
