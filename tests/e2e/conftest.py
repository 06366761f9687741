"""End-to-end runs: the real CLI in a subprocess, real providers, the real
reference target, reports read back from disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STANDARD = REPO / "scenarios" / "standard"
TARGET = REPO / "scenarios" / "targets" / "reference.yaml"
CONTRACT = REPO / "scenarios" / "contracts" / "reference.yaml"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def journal(self) -> dict:
        return json.loads((self.report_dir / "journal.json").read_text())

    def verdicts(self, scenario: str | None = None) -> dict[str, dict]:
        out = {}
        for s in self.journal["scenarios"]:
            if scenario is None or s["name"] == scenario:
                out.update({v["check"]: v for v in s["verdicts"]})
        return out


def paychaos(*args: str, report_dir: Path, env: dict[str, str] | None = None, timeout: float = 240,
             target: Path = TARGET, contract: Path = CONTRACT) -> Run:
    full_env = dict(os.environ)
    full_env.pop("REFTARGET_BUG", None)  # the correct target unless a test asks for a bug
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "harness.cli", "run", *args, "--target", str(target), "--contract", str(contract),
           "--report-dir", str(report_dir), "--quiet"]
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr, report_dir)


@pytest.fixture
def run_paychaos(tmp_path: Path):
    counter = iter(range(1000))

    def go(*args: str, **kw) -> Run:
        return paychaos(*args, report_dir=tmp_path / f"r{next(counter)}", **kw)

    return go
