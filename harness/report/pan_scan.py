"""Find card numbers (PANs) in files: every file a run writes must have none,
test cards included (a report is shared, pasted into tickets, kept as a CI
artifact; "it is only a test card" is a habit that leaks the real ones).

    python -m harness.report.pan_scan reports/latest     # exit 1 when it finds any

What counts: a run of 13 to 19 digits, or the printed groupings of one
(``4242 4242 4242 4242``, ``4242-4242-4242-4242``; Amex/Diners ``4-6-5``/``4-6-4``),
not inside a longer number or a word (so no hex digest, UUID or id matches),
that passes the Luhn check. Files are read as bytes, binary ones too. An
SQLite database is also read value by value (its records store values side
by side with nothing between them, so a card number right after an id ending
in a digit is invisible to a byte scan), integers included.

What does not, though it passes the Luhn check: epoch timestamps in
milliseconds, microseconds or nanoseconds (13, 16 or 19 digits whose first
ten are a second between 2001 and 2036), numbers that start with 0 (no card
network issues those), and a number right after the word ``seed`` (paychaos
prints 64-bit seeds: 19 or 20 digits, one in ten Luhn-valid by chance).

A finding shows only the last four digits.
"""

from __future__ import annotations

import mmap
import os
import re
import sqlite3
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from mock_providers.core.luhn import luhn_ok

__all__ = ["PanFinding", "luhn_ok", "find_pans", "scan_file", "scan_paths", "mask", "main"]

_PAN = re.compile(rb"""
    (?<![0-9A-Za-z])                                   # not the tail of a longer number or word
    (?:
        [1-9][0-9]{12,18}                              # 13..19 digits in one run
      | [1-9][0-9]{3}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,7}   # 4-4-4-n: 13..19 digits
      | [1-9][0-9]{3}(?P<t>[ -])[0-9]{6}(?P=t)[0-9]{4,5}                 # 4-6-5 (Amex), 4-6-4 (Diners)
    )
    (?![0-9A-Za-z])                                    # nor the head of one
""", re.VERBOSE)

# A seed, as journal.json, junit.xml, summary.md and command lines print it:
# "seed": N · <property name="seed" value="N" · seed `N` · --seed N · seed=N
_SEED_BEFORE = re.compile(rb"seed[^0-9A-Za-z\n]{0,4}(?:value[^0-9A-Za-z\n]{0,3})?\Z", re.IGNORECASE)
_EPOCH_S = range(1_000_000_000, 2_100_000_000)  # 2001-09-09 .. 2036-07-18


def mask(text: str) -> str:
    """Every digit but the last four as ``*``; separators kept."""
    keep = sum(c.isdigit() for c in text) - 4
    out = []
    for c in text:
        if c.isdigit() and keep > 0:
            out.append("*")
            keep -= 1
        else:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True)
class PanFinding:
    path: str
    line: int  # 1-based (0 for a value found in an SQLite table)
    column: int  # 1-based, in bytes
    offset: int  # in bytes from the start of the file
    masked: str  # the match with all but its last four digits masked
    cell: str | None = None  # in an SQLite database: "table payments, rowid 3, column card"

    @property
    def digits(self) -> int:
        return sum(c.isdigit() or c == "*" for c in self.masked)

    def __str__(self) -> str:
        where = f"{self.path} ({self.cell})" if self.cell else f"{self.path}:{self.line}:{self.column}"
        return f"{where}: {self.masked} (a Luhn-valid {self.digits}-digit number)"


def _is_pan(data, m: re.Match) -> bool:
    raw = m.group(0)
    digits = _digits(raw).decode("ascii")
    if not luhn_ok(digits):
        return False
    if raw.isdigit() and len(digits) in (13, 16, 19) and int(digits[:10]) in _EPOCH_S:
        return False  # an epoch time in ms / us / ns
    before = bytes(data[max(0, m.start() - 24):m.start()])
    return not _SEED_BEFORE.search(before)


def find_pans(data: bytes | bytearray | memoryview | mmap.mmap) -> Iterator[tuple[int, bytes]]:
    """(offset, matched bytes) of every card number in ``data``."""
    for m in _PAN.finditer(data):
        if _is_pan(data, m):
            yield m.start(), m.group(0)


def scan_file(path: str | os.PathLike) -> list[PanFinding]:
    path = os.fspath(path)
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return []
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found, seen, line, counted = [], set(), 1, 0
            for offset, raw in find_pans(data):
                line += data[counted:offset].count(b"\n")
                counted = offset
                line_start = data.rfind(b"\n", 0, offset) + 1
                found.append(PanFinding(path, line, offset - line_start + 1, offset, mask(raw.decode("ascii"))))
                seen.add(_digits(raw))
            sqlite = data[:16] == b"SQLite format 3\x00"
    if sqlite:
        found += [f for digits, f in _scan_sqlite(path) if digits not in seen]
    return found


def _digits(raw: bytes) -> bytes:
    return raw.replace(b" ", b"").replace(b"-", b"")


def _scan_sqlite(path: str) -> list[tuple[bytes, PanFinding]]:
    """Every value of every table, each on its own (read-only)."""
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    found = []
    db = None
    try:
        db = sqlite3.connect(uri, uri=True)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            try:
                cursor = db.execute(f"SELECT * FROM {quoted}")
            except sqlite3.Error:
                continue  # a virtual table whose module is not loaded, ...
            columns = [d[0] for d in cursor.description]
            for n, row in enumerate(cursor, 1):
                for column, value in zip(columns, row):
                    if isinstance(value, str):
                        value = value.encode("utf-8", "surrogatepass")
                    elif isinstance(value, int):
                        value = str(value).encode()
                    elif not isinstance(value, bytes):
                        continue
                    for _, raw in find_pans(value):
                        found.append((_digits(raw), PanFinding(path, 0, 0, 0, mask(raw.decode("ascii")),
                                                               f"table {table}, row {n}, column {column}")))
    except sqlite3.Error as exc:
        raise OSError(f"could not read it as an SQLite database: {exc}") from exc
    finally:
        if db is not None:
            db.close()
    return found


def _files(paths: Iterable[str | os.PathLike]) -> Iterator[str]:
    for p in paths:
        p = os.fspath(p)
        if os.path.isfile(p) and not os.path.islink(p):
            yield p
            continue
        for root, dirs, names in os.walk(p):  # symlinks are not followed: only what is really here
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(root, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    yield full


def scan_paths(paths: Iterable[str | os.PathLike]) -> tuple[list[PanFinding], int]:
    """Every finding under ``paths`` (files, or folders walked), and how many
    files were read."""
    found, files = [], 0
    for path in _files(paths):
        try:
            found += scan_file(path)
        except OSError as exc:
            raise OSError(f"could not read {path}: {exc.strerror or exc}") from exc
        files += 1
    return found, files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or any(a in ("-h", "--help") for a in args):
        print("usage: python -m harness.report.pan_scan PATH [PATH ...]\n"
              "Lists every card number (Luhn-valid, 13-19 digits) in the files under PATH; exit 1 if any.",
              file=sys.stderr)
        return 2
    missing = [a for a in args if not os.path.exists(a)]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        found, files = scan_paths(args)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in found:
        print(finding)
    where = ", ".join(args)
    if found:
        print(f"{len(found)} card number(s) in {len({f.path for f in found})} of {files} file(s) under {where}",
              file=sys.stderr)
        return 1
    print(f"no card numbers in {files} file(s) under {where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
