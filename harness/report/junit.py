"""JUnit XML for CI: a testsuite per scenario, a testcase per scenario x check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.evidence.journal import RunJournal
from harness.report.text import verdict_text

__all__ = ["render_junit", "write_junit"]


def _clean(text: str) -> str:
    # XML 1.0 forbids most control characters; a target's log may contain them.
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


def render_junit(journal: RunJournal) -> str:
    journal.tally()
    root = ET.Element("testsuites", name="paychaos")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in journal.scenarios:
        suite = ET.SubElement(root, "testsuite", name=s.name, timestamp=s.started, time=f"{s.duration_s:.3f}")
        props = ET.SubElement(suite, "properties")
        for key, value in (("seed", str(s.seed)), ("file", s.file), ("replay", journal.replay), ("status", s.status)):
            ET.SubElement(props, "property", name=key, value=_clean(value))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for v in s.verdicts:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"paychaos.{s.name}", name=v.check, time="0")
            if v.status == "fail":
                counts["failures"] += 1
                el = ET.SubElement(case, "failure", message=_clean(v.measured), type=v.check)
                el.text = _clean(verdict_text(v, s.name, s.currency_exponents))
            elif v.status == "error":
                counts["errors"] += 1
                el = ET.SubElement(case, "error", message=_clean(v.reason), type=v.check)
                el.text = _clean(verdict_text(v, s.name, s.currency_exponents))
            elif v.status == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=_clean(v.reason))
        if s.status == "skipped":  # not run: the contract does not state a number its story needs
            counts["tests"] += 1
            counts["skipped"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"paychaos.{s.name}", name="run", time="0")
            ET.SubElement(case, "skipped", message=_clean(s.summary.get("skipped") or "skipped"))
        if s.status in ("error", "interrupted"):
            counts["tests"] += 1
            counts["errors"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"paychaos.{s.name}", name="run", time=f"{s.duration_s:.3f}")
            el = ET.SubElement(case, "error", message=_clean(s.error or s.status), type=s.status)
            el.text = _clean((s.error or "") + ("\n\ntarget output (tail):\n" + s.target.log_tail if s.target.log_tail else ""))
        if s.target.log_tail:
            ET.SubElement(suite, "system-out").text = _clean(s.target.log_tail)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(journal: RunJournal, path: Path) -> None:
    path.write_text(render_junit(journal), encoding="utf-8")
