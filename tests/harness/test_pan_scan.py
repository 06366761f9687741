"""The card-number scanner (harness/report/pan_scan.py): it finds test cards
as JSON strings, in text, grouped with spaces or dashes, in binary files; it
ignores non-Luhn numbers, epoch timestamps, digests, ids and seeds; a finding
never shows more than the last four digits."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.report.pan_scan import PanFinding, find_pans, luhn_ok, main, mask, scan_file, scan_paths
from mock_providers.cardpay.cards import TEST_CARDS


def with_check_digit(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


def found(text: str) -> list[str]:
    return [raw.decode() for _, raw in find_pans(text.encode())]


def test_luhn() -> None:
    assert luhn_ok("4242424242424242") and luhn_ok("378282246310005") and luhn_ok("4000056655665556")
    assert not luhn_ok("4242424242424241") and not luhn_ok("4242424242424243")
    # every Luhn-valid test card of the cardpay provider
    assert all(luhn_ok(c.number) for c in TEST_CARDS.values() if c.name != "incorrect_number")


@pytest.mark.parametrize("text,match", [
    ('{"number": "4242424242424242"}', "4242424242424242"),
    ('{"number": 4242424242424242}', "4242424242424242"),
    ("card 4242 4242 4242 4242 exp 12/34", "4242 4242 4242 4242"),
    ("card=4242-4242-4242-4242&cvc=123", "4242-4242-4242-4242"),
    ("payment_method_data[card][number]=4000000000009995", "4000000000009995"),
    ("amex 3782 822463 10005.", "3782 822463 10005"),
    ("amex 378282246310005", "378282246310005"),
    ("visa13 4222222222222", "4222222222222"),
    ("19 digits 4000000000000000006!", "4000000000000000006"),
    ("pm_4242424242424242", "4242424242424242"),  # '_' is not part of a number
    ("X-Card: 4242424242424242\r\n", "4242424242424242"),
])
def test_finds_card_numbers(text: str, match: str) -> None:
    assert luhn_ok(match.replace(" ", "").replace("-", ""))
    assert found(text) == [match]


def test_finds_every_test_card_of_the_provider() -> None:
    cards = [c.number for c in TEST_CARDS.values() if luhn_ok(c.number)]
    text = json.dumps([{"card": {"number": n}} for n in cards])
    assert found(text) == cards


@pytest.mark.parametrize("text", [
    "4242424242424241",  # 16 digits, not Luhn-valid
    "4242 4242 4242 4241",
    "4242424242",  # too short
    "42424242424242424242",  # 20 digits: too long, and no piece of it is taken
    "0424242424242424242",  # no card number starts with 0
    "x4242424242424242",  # inside a word or an id
    "4242424242424242abc",
    "ord_4242424242424242b",
    "4242.4242.4242.4242",  # not a printed grouping
    "4242 4242 4242 4242"[:-5] + "  4242",  # broken grouping: 12 digits, then another number
    "1 2 3 4 5 6 7 8 9 10 11 12 13",
    "phone 001-752-228-2609x1234, +1 (825) 466-7133",
])
def test_ignores_what_is_not_a_card_number(text: str) -> None:
    assert found(text) == []


def test_ignores_epoch_timestamps_even_when_luhn_valid() -> None:
    for digits in (13, 16, 19):  # ms, us, ns
        ts = with_check_digit("1717171717" + "1" * (digits - 11))
        assert len(ts) == digits and luhn_ok(ts)
        assert found(f'{{"t": {ts}, "wall": "{ts}"}}') == []
    # 2-series Mastercard numbers are not timestamps
    assert found("2223003122003222") == ["2223003122003222"]


def test_ignores_seeds_but_not_the_same_number_elsewhere() -> None:
    seed = with_check_digit("534731793024020864")  # 19 digits, Luhn-valid by construction
    for text in (f'"seed": {seed},', f'<property name="seed" value="{seed}" />', f"seed `{seed}`, 2.5 s",
                 f"--seed {seed}", f"SEED={seed}"):
        assert found(text) == [], text
    assert found(f'"order": {seed}') == [seed]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_never_finds_one_in_a_sha256_digest_or_uuid(blob: bytes) -> None:
    digest = hashlib.sha256(blob).hexdigest()
    ident = str(uuid.UUID(bytes=hashlib.md5(blob).digest()))
    assert found(f'{{"body_sha256": "{digest}", "request_id": "{ident}", "key": "{digest[:40]}"}}') == []


@settings(max_examples=300, deadline=None)
@given(st.text("0123456789", min_size=11, max_size=17), st.sampled_from(["{}", '"{}"', "={}&", " {} ", "\n{}\n"]))
def test_finds_any_luhn_valid_number_starting_with_a_card_digit(body: str, frame: str) -> None:
    pan = with_check_digit("4" + body)
    assert found(frame.format(pan)) == [pan]


def test_mask_keeps_only_the_last_four() -> None:
    assert mask("4242424242424242") == "************4242"
    assert mask("4242 4242 4242 4242") == "**** **** **** 4242"


def test_scan_file_gives_line_column_and_only_the_last_four(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text('{"ok": 1}\n{"a": 2}\n{"order": "o1", "card": "4242 4242 4242 4242"}\n{"n": 4000000000000002}\n')
    findings = scan_file(path)
    assert [(f.line, f.column) for f in findings] == [(3, 26), (4, 7)]
    assert findings[0] == PanFinding(str(path), 3, 26, 44, "**** **** **** 4242")
    text = "\n".join(map(str, findings))
    assert f"{path}:3:26: **** **** **** 4242 (a Luhn-valid 16-digit number)" in text
    assert "4242 4242 4242 4242" not in text and "4000000000000002" not in text


def test_scans_binary_files_and_whole_trees(tmp_path: Path) -> None:
    (tmp_path / "runs" / "s" / "evidence").mkdir(parents=True)
    db = sqlite3.connect(tmp_path / "runs" / "s" / "target.sqlite3")
    db.execute("create table payments (id text, card text, stored_as_int integer)")
    # Records store values side by side: 'ord_1' + '4000...' is one run of digits to a byte scan.
    db.execute("insert into payments values ('ord_1', '4000000000009995', 1)")
    db.execute("insert into payments values ('ord_2', 'pm_card_visa', 5555555555554444)")
    db.commit()
    db.close()
    (tmp_path / "runs" / "s" / "evidence" / "calls.jsonl").write_text('{"card": "4242424242424242"}\n')
    (tmp_path / "journal.json").write_text('{"seed": 1, "digest": "%s"}' % hashlib.sha256(b"x").hexdigest())
    (tmp_path / "empty.log").write_text("")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("4242424242424242")
    os.symlink(outside, tmp_path / "link.txt")  # not followed: only what the run really wrote
    findings, files = scan_paths([tmp_path])
    assert files == 4
    assert sorted((Path(f.path).name, f.masked) for f in findings) == [
        ("calls.jsonl", "************4242"), ("target.sqlite3", "************4444"),
        ("target.sqlite3", "************9995")]
    cells = sorted(str(f).split(" (", 1)[1] for f in findings if f.cell)
    assert cells == ["table payments, row 1, column card): ************9995 (a Luhn-valid 16-digit number)",
                     "table payments, row 2, column stored_as_int): ************4444 (a Luhn-valid 16-digit number)"]


def test_cli_exit_codes(tmp_path: Path, capsys) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_text("nothing 4242424242424241 here")
    assert main([str(clean)]) == 0
    assert "no card numbers in 1 file(s)" in capsys.readouterr().err
    (clean / "b.txt").write_text("4242424242424242")
    assert main([str(clean)]) == 1
    out = capsys.readouterr()
    assert "b.txt:1:1: ************4242" in out.out and "1 card number(s) in 1 of 2 file(s)" in out.err
    assert main([str(tmp_path / "nope")]) == 2
    assert main([]) == 2
