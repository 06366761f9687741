"""Which processes exist, from /proc (Linux): for tests that prove nothing a
run started outlives it. Zombies count as gone: they run nothing, and whether
they are reaped at once depends on this machine's init, not on paychaos."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Callable, Iterable

__all__ = ["Proc", "processes", "descendants", "referencing", "alive", "wait_until", "kill_all", "kind_of"]


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    state: str
    start: str  # clock ticks since boot: (pid, start) names a process, a pid alone may be reused
    cmdline: str

    @property
    def key(self) -> tuple[int, str]:
        return self.pid, self.start


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:  # gone, or not ours to read
        return None


def _proc(pid: int) -> Proc | None:
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    f = raw[raw.rfind(b")") + 2:].decode("ascii", "replace").split()
    cmd = (_read(f"/proc/{pid}/cmdline") or b"").replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return Proc(pid, int(f[1]), int(f[2]), f[0], f[19], cmd)


def processes() -> list[Proc]:
    """Every live (non-zombie) process we can see."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = _proc(int(name))
            if p is not None and p.state not in ("Z", "X"):
                out.append(p)
    return out


def descendants(root: int) -> list[Proc]:
    """Live processes below ``root`` (children, grandchildren...)."""
    procs = processes()
    children: dict[int, list[Proc]] = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child.pid)
    return out


def referencing(text: str) -> list[Proc]:
    """Live processes whose command line or environment contains ``text``."""
    needle = text.encode()
    out = []
    for p in processes():
        if p.pid == os.getpid():
            continue
        env = _read(f"/proc/{p.pid}/environ") or b""
        cmd = _read(f"/proc/{p.pid}/cmdline") or b""
        if needle in env or needle in cmd:
            out.append(p)
    return out


def alive(procs: Iterable[Proc]) -> list[Proc]:
    """Those of ``procs`` still running (same pid and start time, not a zombie)."""
    now = {p.key for p in processes()}
    return [p for p in procs if p.key in now]


def wait_until(what: Callable[[], object], timeout: float, interval: float = 0.05):
    """Poll ``what()`` until it is truthy; its last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def kill_all(procs: Iterable[Proc]) -> None:
    """SIGKILL those of ``procs`` still running: a failed test leaks nothing."""
    for p in alive(procs):
        try:
            os.kill(p.pid, signal.SIGCONT)
            os.kill(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kind_of(p: Proc) -> str | None:
    """What a process paychaos started is, by its command line (None: not one of ours)."""
    if p.cmdline.startswith("/bin/sh -c"):
        return "shell"
    if "harness/watchdog.py" in p.cmdline:
        return "watchdog"
    if "mock_providers serve" in p.cmdline:
        return "provider host"
    if "examples.reference_target" in p.cmdline:
        return "target"
    if "toxiproxy-server" in p.cmdline:
        return "toxiproxy server"
    return None
