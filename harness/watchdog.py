"""The watchdog: nothing paychaos starts outlives paychaos, however it dies.

Every child paychaos starts (the provider host, the target, a Toxiproxy
server) runs in its own session, so that paychaos can stop the whole group and
a Ctrl-C in the terminal reaches only paychaos. The price: when paychaos is
killed with SIGKILL (a CI job timeout, the OOM killer) nobody stops them. This
module is the remedy, in two halves:

- in paychaos, ``guard(pgid)`` right after a child's group is started and
  ``release(pgid)`` once it is stopped. The first ``guard`` starts one
  watchdog process per paychaos process, in a session of its own (a kill of
  paychaos's process group must not take it down too), and tells it, on its
  stdin pipe, one line per change: ``+PGID STARTTIME`` / ``-PGID``.
- the watchdog (this file run as a script) reads those lines until the pipe
  reaches end of file, which the kernel guarantees when paychaos exits, by any
  means: paychaos holds the only write end (it is close-on-exec, so no child
  inherits it). It then sends SIGCONT + SIGTERM to every group still
  registered, gives them ``GRACE_S`` to exit, SIGKILLs what is left and exits.
  A normal exit has released everything: it exits at once.

Why not ``PR_SET_PDEATHSIG`` in each child: it reaches only the direct child
(``npm start`` dies, ``node`` lives on), it fires when the *thread* that forked
the child exits (the Toxiproxy server is started from a worker thread), and it
needs ``preexec_fn``, which is unsafe in a process with threads.

It never signals a group it was not told about: a released group is
forgotten, and each group carries its leader's start time (from
``/proc/PID/stat``, read by paychaos before it could reap the leader) so that
a pid reused by an unrelated process after our group is gone is left alone.
It never outlives paychaos by more than ``GRACE_S`` plus a poll: besides end of
file it notices its parent is gone (``getppid`` changes), in case a forked
copy of paychaos kept the pipe open.

The script uses the standard library only and is run by path with ``-I -S``,
so it starts in milliseconds and imports nothing of the harness.
"""

from __future__ import annotations

import atexit
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time

__all__ = ["guard", "release", "guarded", "watchdog_pid", "GRACE_S"]

GRACE_S = 2.0  # SIGTERM .. SIGKILL
POLL_S = 0.5  # how often the watchdog checks that its parent still lives
_EXIT_WAIT_S = GRACE_S + 3.0  # paychaos's normal exit waits this long for the watchdog at most

log = logging.getLogger(__name__)


# -- both sides ------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2:].decode("ascii", "replace").split()


def _starttime(pid: int) -> str:
    """The process's start time in clock ticks since boot; '-' when unknown."""
    fields = _stat(pid)
    return fields[19] if fields and len(fields) > 19 else "-"


# -- the paychaos side -------------------------------------------------------------

_lock = threading.Lock()
_proc: subprocess.Popen | None = None
_guarded: dict[int, str] = {}  # pgid -> its leader's start time
_warned = False
_exit_hook = False


def guard(pgid: int) -> None:
    """Have ``pgid`` (a process group this process just started, pgid == the
    leader's pid) stopped if this process dies without calling ``release``.
    Call it right after the start, before the leader can have been reaped.
    Never raises: a watchdog that cannot start is logged, and the run goes on."""
    start = _starttime(pgid)
    with _lock:
        _guarded[pgid] = start
        _send(f"+{pgid} {start}\n")


def release(pgid: int | None) -> None:
    """``pgid`` is stopped (or about to be reaped): forget it. Idempotent."""
    with _lock:
        if pgid is None or _guarded.pop(pgid, None) is None:
            return
        _send(f"-{pgid}\n")


def guarded() -> dict[int, str]:
    """The groups currently registered (for tests and diagnostics)."""
    with _lock:
        return dict(_guarded)


def watchdog_pid() -> int | None:
    """The running watchdog's pid, if one was started."""
    with _lock:
        return _proc.pid if _proc is not None and _proc.poll() is None else None


def _send(line: str) -> None:
    """Write one line to the watchdog, (re)starting it if needed. Holds ``_lock``."""
    global _proc, _warned
    for _ in range(2):
        restarted = False
        if _proc is None or _proc.poll() is not None:
            try:
                _proc = _start()
            except OSError as exc:
                _proc = None
                if not _warned:
                    _warned = True
                    log.warning("could not start the paychaos watchdog (%s): children of a killed "
                                "paychaos may survive it", exc)
                return
            restarted = True
        try:
            if restarted:  # a new watchdog knows nothing yet: every live group, this line's included
                data = "".join(f"+{g} {s}\n" for g, s in _guarded.items())
            else:
                data = line
            raw = data.encode()
            while raw:  # one line is under PIPE_BUF (one atomic write); a replay may be longer
                raw = raw[os.write(_proc.stdin.fileno(), raw):]
            return
        except OSError:  # it died (BrokenPipeError): start another one
            _drop()


def _start() -> subprocess.Popen:
    global _exit_hook
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", os.path.abspath(__file__), "--parent", str(os.getpid())],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,  # stderr inherited: it says what it had to stop
        cwd="/", close_fds=True, start_new_session=True, bufsize=0)
    if not _exit_hook:
        _exit_hook = True
        atexit.register(_close_at_exit)
    return proc


def _drop() -> None:
    global _proc
    proc, _proc = _proc, None
    if proc is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:  # pragma: no cover - never seen
            proc.kill()


def _close_at_exit() -> None:
    """Normal exit: end of file tells the watchdog; it stops whatever was not
    released (a child nobody stopped) and exits. Wait for it, so that paychaos
    returns only when its children are gone (and no Popen is left running)."""
    with _lock:
        _drop()


def _after_fork_in_child() -> None:
    """A forked copy (multiprocessing) must not hold the watchdog's pipe open
    nor share its registrations: it starts its own watchdog if it needs one."""
    global _proc, _lock
    _lock = threading.Lock()
    proc, _proc = _proc, None
    _guarded.clear()
    if proc is not None:
        proc.returncode = 0  # not this process's child: never wait for it, never warn about it
        try:
            proc.stdin.close()
        except OSError:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# -- the watchdog process ----------------------------------------------------------


def _members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of group ``pgid``, from /proc."""
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if name.isdigit():
            fields = _stat(int(name))
            if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                out.append(int(name))
    return out


def _alive(pgid: int) -> bool:
    if os.path.isdir("/proc/self"):
        return bool(_members(pgid))
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _ours(pgid: int, start: str) -> bool:
    """Is ``pgid`` still the group we were told about? A process with pid ==
    pgid and another start time is an unrelated process that got the pid
    after our group was gone (Linux keeps a pid in use while any process has
    it as its group id). No leader at all: its group may live on (npm's node)."""
    if start == "-":
        return True
    now = _starttime(pgid)
    return now == "-" or now == start


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _say(text: str) -> None:
    try:
        sys.stderr.write(f"paychaos watchdog: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # nobody is reading any more (a killed CI job): stop the children all the same


def sweep(groups: dict[int, str], grace_s: float = GRACE_S) -> list[int]:
    """SIGTERM every group that is still ours, SIGKILL what is left after
    ``grace_s``. Returns the groups signalled."""
    targets = [g for g, s in groups.items() if _ours(g, s) and _alive(g)]
    for g in targets:
        _killpg(g, signal.SIGCONT)  # a paused (SIGSTOPped) target cannot act on SIGTERM
        _killpg(g, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    left = list(targets)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [g for g in left if _alive(g)]
    for g in left:
        if _ours(g, groups[g]):
            _killpg(g, signal.SIGKILL)
    return targets


def _parse(line: bytes, groups: dict[int, str]) -> None:
    text = line.decode("ascii", "replace").strip()
    try:
        if text.startswith("+"):
            pgid, _, start = text[1:].partition(" ")
            if int(pgid) > 1:  # never 0 or 1: killpg(0) is our own group, 1 is init's
                groups[int(pgid)] = start or "-"
        elif text.startswith("-"):
            groups.pop(int(text[1:]), None)
    except ValueError:
        pass  # not a line paychaos writes: ignore it


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parent = int(argv[argv.index("--parent") + 1]) if "--parent" in argv else os.getppid()
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # only paychaos's end decides
    groups: dict[int, str] = {}
    fd = sys.stdin.fileno()
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if not ready:
            if os.getppid() != parent:
                break  # paychaos is gone, though someone still holds the pipe
            continue
        data = os.read(fd, 65536)
        if not data:
            break  # end of file: paychaos exited
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            _parse(line, groups)
    if groups:
        stopped = sweep(groups)
        if stopped:
            _say(f"paychaos (pid {parent}) exited and left {len(stopped)} process group(s) running; "
                 f"stopped them: {', '.join(map(str, stopped))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
