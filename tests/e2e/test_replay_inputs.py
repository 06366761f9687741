"""A replay replays: the journal and the replay line carry every input that
decides the verdicts (the seed, the fault backend, the environment the target
file lists), and running the replay line gives the same verdicts."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from tests.e2e.conftest import REPO, STANDARD

pytestmark = [pytest.mark.integration]


def test_the_replay_line_carries_the_targets_environment_and_replays_the_verdicts(run_paychaos, tmp_path) -> None:
    first = run_paychaos(str(STANDARD / "card-declines.yaml"), "--seed", "5", env={"REFTARGET_BUG": "vague-errors"})
    assert first.code == 1, (first.stdout[-2000:], first.stderr[-2000:])
    j = first.journal
    assert j["env"]["REFTARGET_BUG"] == "vague-errors"
    assert j["replay"].startswith("REFTARGET_BUG=vague-errors paychaos run ") and "--seed 5" in j["replay"]

    # Run the replay line as a user would paste it (into a shell where the bug is NOT set).
    words = shlex.split(j["replay"])
    assignments = {}
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    assert words[:2] == ["paychaos", "run"]
    env = {k: v for k, v in os.environ.items() if k != "REFTARGET_BUG"} | assignments
    words[words.index("--report-dir") + 1] = str(tmp_path / "replayed")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", *words[1:], "--quiet"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    again = json.loads((tmp_path / "replayed" / "journal.json").read_text())
    status = lambda journal: {v["check"]: v["status"] for s in journal["scenarios"] for v in s["verdicts"]}  # noqa: E731
    assert status(again) == status(j)
    assert status(j)["errors.required"] == "fail"


def test_an_unset_variable_is_replayed_unset(run_paychaos) -> None:
    run = run_paychaos(str(STANDARD / "card-declines.yaml"), "--seed", "5")
    j = run.journal
    assert j["env"]["REFTARGET_BUG"] is None
    assert j["replay"].startswith("env -u REFTARGET_BUG paychaos run ")
