"""Finding and running a toxiproxy-server process of our own.

Lookup order: ``TOXIPROXY_SERVER`` (must be an executable file), then
``<repo>/tools/bin/toxiproxy-server`` (what ``make toxiproxy`` installs), then
``toxiproxy-server`` on PATH. The server is started on a free loopback port in
its own process group, polled on ``/version`` until a deadline, and stopped with
SIGTERM then SIGKILL to the whole group, also at interpreter exit if nobody
called ``stop``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Mapping

from ...errors import FaultBackendError
from ... import watchdog
from ..ports import free_loopback_port
from .client import ToxiproxyClient

__all__ = ["find_toxiproxy_server", "ManagedServer", "REPO_ROOT"]

REPO_ROOT = Path(__file__).resolve().parents[3]
_LOCAL = Path("tools/bin/toxiproxy-server")


def find_toxiproxy_server(env: Mapping[str, str] | None = None,
                          repo_root: Path | None = None) -> Path | None:
    """The toxiproxy-server binary to start, or None when there is none."""
    env = os.environ if env is None else env
    explicit = env.get("TOXIPROXY_SERVER")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise FaultBackendError(
            f"TOXIPROXY_SERVER={explicit} is not an executable file; fix the path, or unset it "
            f"to use tools/bin/toxiproxy-server (make toxiproxy)")
    local = (REPO_ROOT if repo_root is None else repo_root) / _LOCAL
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which("toxiproxy-server", path=env.get("PATH", ""))
    return Path(found) if found else None


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # start_new_session: the group id is the pid
    except (ProcessLookupError, PermissionError):
        pass


class ManagedServer:
    """A toxiproxy-server we started. ``start``/``stop`` block: call them off the loop."""

    # Retries are for the free port being taken before the server binds it.
    def __init__(self, binary: Path, *, startup_timeout: float = 10.0, attempts: int = 3):
        self.binary = Path(binary)
        self.startup_timeout = startup_timeout
        self.attempts = attempts
        self.url: str | None = None
        self.version: str | None = None
        self.proc: subprocess.Popen | None = None
        self._log_path: str | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._finalizer: weakref.finalize | None = None

    def start(self) -> ToxiproxyClient:
        problems = []
        for _ in range(self.attempts):
            port = free_loopback_port()
            with self._lock:
                if self._stopped:
                    raise FaultBackendError("toxiproxy-server start was abandoned (backend closed)")
                fd, self._log_path = tempfile.mkstemp(prefix="paychaos-toxiproxy-", suffix=".log")
                with os.fdopen(fd, "wb") as log:
                    proc = self.proc = subprocess.Popen(
                        [str(self.binary), "-host", "127.0.0.1", "-port", str(port)],
                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True,
                        # It logs every connection at info level: costly under load, and
                        # its log file lives as long as the server.
                        env={**os.environ, "LOG_LEVEL": os.environ.get("LOG_LEVEL", "warn")},
                    )
                self._finalizer = weakref.finalize(self, _kill_group, proc.pid, signal.SIGKILL)
                watchdog.guard(proc.pid)  # stopped even if paychaos is SIGKILLed
            client = ToxiproxyClient(f"http://127.0.0.1:{port}", read_timeout=2.0)
            deadline = time.monotonic() + self.startup_timeout
            # ``stop`` may run meanwhile from another thread: watch the local ``proc``.
            while time.monotonic() < deadline and proc.poll() is None and not self._stopped:
                try:
                    self.version = client.version()
                except FaultBackendError:
                    time.sleep(0.02)  # poll interval, bounded by the deadline
                    continue
                self.url = client.url
                return ToxiproxyClient(client.url)
            if self._stopped:
                raise FaultBackendError("toxiproxy-server start was abandoned (backend closed)")
            exited = proc.poll() is not None
            problems.append(self._failure(proc, port))
            with self._lock:
                self.proc = None
            self._terminate(proc, grace=0.5)  # never became ready: no need to be gentle
            self._drop_log()
            if not exited:
                break  # hung, not a port clash: another port will not help
        raise FaultBackendError(
            f"toxiproxy-server ({self.binary}) did not become ready on 127.0.0.1: "
            + "; ".join(problems))

    def _terminate(self, proc: subprocess.Popen | None, grace: float = 3.0) -> None:
        if proc is None:
            return
        if proc.poll() is None:
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
                    pass
        # Reaped: the pid may be reused from now on, so the exit-time kill must go.
        if proc.returncode is not None:
            watchdog.release(proc.pid)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def _failure(self, proc: subprocess.Popen, port: int) -> str:
        code = proc.poll()
        state = (f"exited with status {code}" if code is not None
                 else f"no answer on /version within {self.startup_timeout:g}s")
        return f"port {port}: {state}; its output: {self.output()[-800:]!r}"

    def output(self) -> str:
        try:
            return Path(self._log_path).read_text(errors="replace") if self._log_path else ""
        except OSError:
            return ""

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM the process group, SIGKILL what is left after ``grace``. Idempotent."""
        with self._lock:
            self._stopped = True
            proc, self.proc = self.proc, None
        self._terminate(proc, grace)
        self._drop_log()

    def _drop_log(self) -> None:
        with self._lock:
            path, self._log_path = self._log_path, None
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
