"""A paychaos killed with SIGKILL (a CI job timeout) leaves nothing behind:
not the provider host, not the target (nor what the target started), not the
Toxiproxy server it started, and its watchdog exits too.

The run is killed mid-scenario, with a network fault on (so a proxy exists):
its pid alone, or its whole process group (as some CI runners do). One
variant starts the target through a shell (``sh -c '... & wait'``, as ``npm
start`` runs node: the service is a grandchild of paychaos) and kills paychaos
while a process fault has the target paused (SIGSTOPped: it can act on
SIGTERM only once continued). Survivors are looked for among everything seen
below paychaos (pid and start time) and among all processes whose command
line or environment names the run's report folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import CONTRACT, REPO, TARGET
from tests.procscan import Proc, alive, descendants, kill_all, kind_of, referencing, wait_until
from tests.toxiproxy_gate import need_toxiproxy

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")]

SCENARIO = """\
name: kill-me
description: Long enough to be killed in the middle.
providers: [cardpay]
workload:
  orders: 5000
  rate: 20
  max_duration_s: 120
  cards: {{visa: 0.9, insufficient_funds: 0.1}}
faults:
  - name: slow-network
    kind: latency
    latency: 20
    stream: downstream
    at: 0s
{pause}verify: [retry]
drain: {{timeout_s: 2}}
"""
PAUSE = """\
  - name: frozen
    kind: pause
    at: 0.5s
    for: 100s
"""

SHELL_COMMAND = ("  command: [\"/bin/sh\", \"-c\", \"'{python}' -m examples.reference_target"
                 " --host 127.0.0.1 --port {port} & wait\"]\n")

START_TIMEOUT_S = 60  # the run gets its children up (cold imports on a busy CI machine)
GONE_TIMEOUT_S = 10  # the watchdog's grace is 2 s: 10 s leaves room for a loaded machine




def _shell_target(tmp_path: Path) -> Path:
    """The reference target file, its service started by a shell that waits for it."""
    lines = TARGET.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  command:"))
    lines[at] = SHELL_COMMAND
    path = tmp_path / "shell-target.yaml"
    path.write_text("".join(lines).replace('cwd: "{repo_root}"', f'cwd: "{REPO}"'))
    return path


@pytest.mark.parametrize("backend,paused,group", [
    ("embedded", False, True),
    ("embedded", True, False),
    pytest.param("toxiproxy", False, False, marks=pytest.mark.toxiproxy),
], ids=["embedded-kill-its-group", "embedded-shell-target-paused", "toxiproxy"])
def test_sigkill_mid_scenario_leaves_nothing_behind(tmp_path: Path, backend: str, paused: bool, group: bool) -> None:
    """``group``: SIGKILL paychaos's whole process group (as some CI runners
    do), not only its pid; its watchdog lives in a session of its own."""
    if backend == "toxiproxy":
        need_toxiproxy()
    scenario = tmp_path / "kill-me.yaml"
    scenario.write_text(SCENARIO.format(pause=PAUSE if paused else ""))
    target = _shell_target(tmp_path) if paused else TARGET
    report_dir = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if k not in ("REFTARGET_BUG", "TOXIPROXY_URL")}
    cmd = [sys.executable, "-m", "harness.cli", "run", str(scenario), "--target", str(target), "--contract",
           str(CONTRACT), "--report-dir", str(report_dir), "--seed", "1", "--faults", backend, "--quiet"]
    out = (tmp_path / "paychaos.out").open("wb")
    paychaos = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict[tuple[int, str], Proc] = {}  # everything paychaos started, for the checks and the clean-up
    try:
        expected = {"watchdog", "provider host", "target"} | ({"toxiproxy server"} if backend == "toxiproxy" else set())
        if paused:
            expected.add("shell")  # the target's leader; the service is its child, in its group

        def everything_up() -> bool:
            below = descendants(paychaos.pid)
            seen.update((p.key, p) for p in below)
            kinds = {kind_of(p) for p in below}
            if not expected <= kinds or paychaos.poll() is not None:
                return paychaos.poll() is not None  # stop polling: it exited on its own
            service = [p for p in below if kind_of(p) == "target"]
            if paused:
                return all(p.state == "T" for p in service)  # SIGSTOPped by the pause fault
            log = report_dir / "runs" / "kill-me" / "target.log"
            return log.is_file() and log.stat().st_size > 0  # it has started writing

        wait_until(everything_up, START_TIMEOUT_S)
        assert paychaos.poll() is None, f"paychaos exited on its own ({paychaos.returncode}):\n{_output(tmp_path)}"
        kinds = {kind_of(p) for p in seen.values()}
        assert expected <= kinds, f"not everything started within {START_TIMEOUT_S}s: {sorted(map(str, kinds))}"
        watchdog = [p for p in seen.values() if kind_of(p) == "watchdog"]
        assert len(watchdog) == 1 and f"--parent {paychaos.pid}" in watchdog[0].cmdline, watchdog
        in_its_group = [p for p in seen.values() if kind_of(p) and p.pgid == paychaos.pid]
        assert not in_its_group, f"each child runs in a session of its own: {in_its_group}"

        if group:
            os.killpg(paychaos.pid, signal.SIGKILL)
        else:
            paychaos.send_signal(signal.SIGKILL)  # what a CI job timeout does
        paychaos.wait(5)
        seen.update((p.key, p) for p in referencing(str(report_dir)))  # whatever the target had started since

        def survivors() -> dict[int, Proc]:
            return {p.pid: p for p in alive(seen.values()) + referencing(str(report_dir))}

        if not wait_until(lambda: not survivors(), GONE_TIMEOUT_S):
            pytest.fail(f"still running {GONE_TIMEOUT_S}s after paychaos was killed:\n" + "\n".join(
                f"  {p.pid} {kind_of(p)} ({p.state}): {p.cmdline}" for p in survivors().values()))
    finally:
        if paychaos.poll() is None:
            paychaos.kill()
            paychaos.wait(5)
        kill_all(list(seen.values()) + referencing(str(report_dir)))
        out.close()


def _output(tmp_path: Path) -> str:
    return (tmp_path / "paychaos.out").read_text(errors="replace")[-3000:]
