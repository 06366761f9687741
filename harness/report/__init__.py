"""Renderers of the run journal: JSON, JUnit XML, Markdown, terminal."""

from __future__ import annotations

import os
from pathlib import Path

from harness.evidence.journal import RunJournal
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown

__all__ = ["write_reports", "clear_reports", "REPORT_FILES"]

REPORT_FILES = ("journal.json", "junit.xml", "summary.md")


def clear_reports(report_dir: Path) -> None:
    """Remove what an earlier run wrote here (only our own files), so a stale
    report can never pass for this run's, and each run starts with fresh
    per-scenario folders (target databases, provider journals)."""
    import shutil

    shutil.rmtree(report_dir / "runs", ignore_errors=True)
    for name in REPORT_FILES:
        (report_dir / name).unlink(missing_ok=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_reports(journal: RunJournal, report_dir: Path) -> list[Path]:
    """journal.json first (every other report renders from it), then the rest."""
    report_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for name, render in (("journal.json", lambda j: j.model_dump_json(indent=2)), ("junit.xml", render_junit),
                         ("summary.md", render_markdown)):
        path = report_dir / name
        _atomic_write(path, render(journal))
        out.append(path)
    return out
