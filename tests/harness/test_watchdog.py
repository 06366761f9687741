"""The watchdog (harness/watchdog.py) with real processes: a process that
guards its children's groups is SIGKILLed, and they go too (grandchildren,
paused groups and groups that ignore SIGTERM included); a released group is
left alone; a pid reused by another process is left alone; the watchdog
always exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import watchdog
from tests.procscan import Proc, alive, kill_all, processes, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")]

REPO = Path(__file__).resolve().parents[2]
GONE_S = watchdog.GRACE_S + 5  # what "promptly" means on a loaded CI machine

# A stand-in for paychaos: runs the steps named in argv, prints the pids of
# the groups it started and of its watchdog, then waits (or exits) as told.
HELPER = textwrap.dedent("""
    import json, os, signal, subprocess, sys, time
    from harness import watchdog
    groups = {}
    for step in sys.argv[1:]:
        verb, _, name = step.partition(":")
        if verb in ("start", "stubborn"):  # a shell and its two sleeping children, in a group of its own
            script = ("trap '' TERM; " if verb == "stubborn" else "") + "sleep 300 & sleep 300 & wait"
            groups[name] = subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
            watchdog.guard(groups[name])
        elif verb == "release":  # no longer ours to stop (the group keeps running)
            watchdog.release(groups[name])
        elif verb == "pause":  # once the shell has started both sleeps
            deadline = time.monotonic() + 10
            while len(watchdog._members(groups[name])) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.killpg(groups[name], signal.SIGSTOP)
        elif verb == "killwd":  # the watchdog dies: the next guard starts another one, told everything
            pid = watchdog.watchdog_pid()
            os.kill(pid, signal.SIGKILL)
            while watchdog.watchdog_pid() == pid:
                time.sleep(0.01)
    print(json.dumps({"groups": groups, "watchdog": watchdog.watchdog_pid()}), flush=True)
    sys.stdin.readline()  # the test says when to exit (or kills us)
""")


class Helper:
    def __init__(self, *steps: str):
        self.proc = subprocess.Popen([sys.executable, "-c", HELPER, *steps], cwd=REPO, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        info = json.loads(line)
        self.groups: dict[str, int] = info["groups"]
        self.watchdog: int = info["watchdog"]

        def snapshot() -> bool:  # each group's shell has started both sleeps
            now = processes()
            self.procs = {name: [p for p in now if p.pgid == pgid] for name, pgid in self.groups.items()}
            self.watchdog_proc = next((p for p in now if p.pid == self.watchdog), None)
            return all(len(procs) == 3 for procs in self.procs.values())

        assert wait_until(snapshot, 10), self.procs

    def all_procs(self) -> list[Proc]:
        return [p for procs in self.procs.values() for p in procs] + [self.watchdog_proc]

    def sigkill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)

    def exit(self) -> str:
        _, err = self.proc.communicate("\n", timeout=GONE_S + 5)
        return err

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        kill_all(self.all_procs())
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def helpers():
    made: list[Helper] = []

    def make(*steps: str) -> Helper:
        made.append(Helper(*steps))
        return made[-1]

    yield make
    for h in made:
        h.cleanup()


def test_sigkill_takes_every_guarded_group_with_it(helpers) -> None:
    h = helpers("start:a", "start:b", "stubborn:c", "pause:b")
    assert h.watchdog_proc.pgid == h.watchdog, "the watchdog has a session of its own"
    t0 = time.monotonic()
    h.sigkill()
    assert wait_until(lambda: not alive(h.all_procs()), GONE_S), alive(h.all_procs())
    took = time.monotonic() - t0
    # c ignores SIGTERM: it waits for the grace period, then SIGKILL
    assert watchdog.GRACE_S - 0.1 <= took <= GONE_S, took


def test_released_and_unknown_groups_are_left_alone(helpers) -> None:
    h = helpers("start:a", "start:b", "release:b", "start:c")
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)  # never guarded
    try:
        h.sigkill()
        assert wait_until(lambda: not alive(h.procs["a"] + h.procs["c"] + [h.watchdog_proc]), GONE_S)
        assert len(alive(h.procs["b"])) == 3 and stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_a_normal_exit_stops_what_was_not_released_and_the_watchdog(helpers) -> None:
    h = helpers("start:a", "start:b", "release:b")
    err = h.exit()
    # paychaos's exit waited for its watchdog: gone when it returned
    assert not alive(h.procs["a"] + [h.watchdog_proc]), alive(h.all_procs())
    assert len(alive(h.procs["b"])) == 3
    assert f"stopped them: {h.groups['a']}" in err, err


def test_a_watchdog_that_died_is_replaced_and_told_everything(helpers) -> None:
    h = helpers("start:a", "killwd", "start:b")
    h.sigkill()
    assert wait_until(lambda: not alive(h.all_procs()), GONE_S), alive(h.all_procs())


def test_the_watchdog_exits_when_its_parent_is_gone_even_if_the_pipe_stays_open() -> None:
    group = subprocess.Popen(["sleep", "300"], start_new_session=True)
    # --parent names a process that is not its parent: as if paychaos had died
    # while a forked copy of it still held the pipe.
    dog = subprocess.Popen([sys.executable, "-I", "-S", watchdog.__file__, "--parent", "1"],
                           stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        dog.stdin.write(f"+{group.pid} {watchdog._starttime(group.pid)}\n".encode())
        dog.stdin.flush()
        assert dog.wait(watchdog.POLL_S + GONE_S) == 0
        assert group.wait(1) == -signal.SIGTERM
    finally:
        for p in (dog, group):
            if p.poll() is None:
                p.kill()
                p.wait()
        dog.stdin.close()
        dog.stderr.close()


def test_sweep_leaves_a_reused_pid_alone() -> None:
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        real = watchdog._starttime(other.pid)
        assert real != "-"
        # Told about a group whose leader started at another time: the pid now
        # belongs to an unrelated process, which must not be signalled.
        assert watchdog.sweep({other.pid: str(int(real) - 1)}, grace_s=0.2) == []
        assert other.poll() is None
        assert watchdog.sweep({other.pid: real}, grace_s=2) == [other.pid]
        assert other.wait(2) == -signal.SIGTERM
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()


def test_lines_it_does_not_understand_change_nothing() -> None:
    groups: dict[int, str] = {}
    for line in (b"+0 5", b"+1 5", b"+-3", b"hello", b"+12x", b"-zz", b"", b"+4242 77", b"+4243", b"-4243"):
        watchdog._parse(line, groups)
    assert groups == {4242: "77"}
