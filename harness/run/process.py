"""The target process: its own process group, output captured to a file,
readiness polled with a deadline, and a stop that always works."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp

from harness.errors import TargetStartError
from harness import watchdog

__all__ = ["TargetProcess"]

TAIL_BYTES = 8_000


class TargetProcess:
    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log_path: Path):
        self.command = command
        self.cwd = cwd
        self.env = env
        self.log_path = log_path
        self._proc: asyncio.subprocess.Process | None = None
        self._log = None
        self.exit_status: int | None = None
        self.started_t: float | None = None
        self.stopped_by_us = False
        self.ready_url: str | None = None  # set once ready: a restart polls it again
        self.ready_timeout_s = 20.0
        self.restarts = 0
        self.killed_by_fault = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # after any start.before output; the run dir starts empty
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=str(self.cwd),
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=self._log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: we can stop all of it
            )
        except FileNotFoundError as exc:
            raise TargetStartError(f"target command not found: {self.command[0]} (start.command in the target file)") from exc
        except PermissionError as exc:
            raise TargetStartError(f"target command is not executable: {self.command[0]}") from exc
        except OSError as exc:
            raise TargetStartError(f"could not start the target: {exc}") from exc
        watchdog.guard(self._proc.pid)  # stopped even if paychaos is SIGKILLed
        self.started_t = time.monotonic()

    def exited(self) -> bool:
        if self._proc is None:
            return True
        if self._proc.returncode is not None:
            self.exit_status = self._proc.returncode
            return True
        return False

    async def wait_ready(self, url: str, timeout_s: float) -> float:
        """Poll ``url`` until it answers 2xx. Returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout_s
        last = "no answer yet"
        interval = 0.02
        async with aiohttp.ClientSession() as session:
            while True:
                if self._proc is not None and self.exited():
                    raise TargetStartError(
                        f"the target exited with status {self.exit_status} before it was ready", self.output_tail(),
                        self.exit_status,
                    )
                try:
                    async with asyncio.timeout(max(0.05, min(2.0, deadline - time.monotonic()))):
                        async with session.get(url) as resp:
                            if 200 <= resp.status < 300:
                                return time.monotonic() - start
                            last = f"HTTP {resp.status}"
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    last = type(exc).__name__
                if time.monotonic() >= deadline:
                    raise TargetStartError(
                        f"the target was not ready within {timeout_s:g}s (GET {url}: {last})", self.output_tail()
                    )
                await asyncio.sleep(interval)
                interval = min(0.2, interval * 1.5)

    # -- process faults (harness.run.layers.process) -----------------------------
    def pause(self) -> None:
        """SIGSTOP the whole group: the target stops answering, connections stay open."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    async def kill(self, sig: int = signal.SIGKILL, timeout_s: float = 5.0) -> int | None:
        """Signal the whole group as a fault (not a teardown) and wait for the exit."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return self.exit_status
        self.killed_by_fault += 1
        self._signal(signal.SIGCONT)  # a paused target cannot act on SIGTERM
        self._signal(sig)
        try:
            await asyncio.wait_for(proc.wait(), timeout_s)
        except TimeoutError:
            self._signal(signal.SIGKILL)
            await asyncio.wait_for(proc.wait(), 5.0)
        self.exit_status = proc.returncode
        self._signal(signal.SIGKILL)  # what it left behind in its group
        watchdog.release(proc.pid)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.exit_status

    async def restart(self) -> float:
        """Start the same command again (output appended to the same log) and wait
        until ready. Returns the seconds readiness took."""
        if self._proc is not None and self._proc.returncode is None:
            await self.kill()
        self.restarts += 1
        await self.start()
        if self.ready_url is None:
            return 0.0
        return await self.wait_ready(self.ready_url, self.ready_timeout_s)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM the whole group, then SIGKILL. Safe to call twice."""
        proc = self._proc
        try:
            if proc is not None and proc.returncode is None:
                self.stopped_by_us = True
                self._signal(signal.SIGCONT)  # a paused target cannot act on SIGTERM
                self._signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), timeout_s)
                except TimeoutError:
                    self._signal(signal.SIGKILL)
                    await asyncio.wait_for(proc.wait(), 5.0)
            if proc is not None:
                self.exit_status = proc.returncode
                # Children the target left behind in its group go too.
                self._signal(signal.SIGKILL)
                watchdog.release(proc.pid)
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def _signal(self, sig: int) -> None:
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def output_tail(self, limit: int = TAIL_BYTES) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                data = f.read()
        except OSError:
            return ""
        text = data.decode("utf-8", "replace")
        return ("[...]\n" + text) if size > limit else text


async def run_step(command: list[str], cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float) -> None:
    """A set-up command run before the target (``start.before``): its output goes
    to the target's log; a non-zero exit or a timeout is a TargetStartError."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"$ {' '.join(command)}\n".encode())
        log.flush()
        try:
            proc = await asyncio.create_subprocess_exec(*command, cwd=str(cwd), env=env, stdin=asyncio.subprocess.DEVNULL,
                                                        stdout=log, stderr=asyncio.subprocess.STDOUT,
                                                        start_new_session=True)
        except OSError as exc:
            raise TargetStartError(f"start.before: could not run {command[0]}: {exc}") from exc
        watchdog.guard(proc.pid)  # stopped even if paychaos is SIGKILLed (or cancelled meanwhile)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout_s)
        except TimeoutError:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            await proc.wait()
            watchdog.release(proc.pid)
            raise TargetStartError(f"start.before: {' '.join(command)} did not finish within {timeout_s:g}s") from None
        watchdog.release(proc.pid)
    if code != 0:
        tail = log_path.read_bytes()[-TAIL_BYTES:].decode("utf-8", "replace")
        raise TargetStartError(f"start.before: {' '.join(command)} exited with status {code}", tail, code)
