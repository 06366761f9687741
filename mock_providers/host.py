"""``ProviderHost``: the harness side of the provider-host process.

Starts ``python -m mock_providers serve ...`` in its own process group, waits
for the ready lines with a deadline, keeps the tail of its stderr for error
messages, and always stops it (SIGTERM, then SIGKILL of the whole group).

    async with ProviderHost(["cardpay"], seed=7) as host:
        ctl = host.control("cardpay")
        await ctl.add_fault({"kind": "status", "status": 503, "rate": 0.2})
        ... host.urls["cardpay"] ...

Instances of one type side by side: ``ProviderHost(["primary", "backup"],
types={"primary": "cardpay", "backup": "cardpay"})``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import Iterable, Mapping

from harness.errors import ProviderError
from harness import watchdog

from .control import ControlClient

__all__ = ["ProviderHost"]

_ROOT = str(Path(__file__).resolve().parent.parent)  # so that -m mock_providers imports this copy
_STDERR_TAIL = 200  # lines kept for error messages


class ProviderHost:
    def __init__(self, providers: Iterable[str] | Mapping[str, int], *, types: Mapping[str, str] | None = None,
                 seed: int | None = None,
                 journal_dir: str | os.PathLike | None = None, journal_capacity: int | None = None,
                 order_ref_fields: Mapping[str, str] | None = None, python: str | None = None,
                 ready_timeout: float = 20.0, stop_timeout: float = 5.0, extra_args: Iterable[str] = (),
                 env: Mapping[str, str] | None = None):
        self.ports = dict(providers) if isinstance(providers, Mapping) else {p: 0 for p in providers}
        if not self.ports:
            raise ValueError("providers is empty: name at least one provider, e.g. ['cardpay']")
        self.types = {name: (types or {}).get(name, name) for name in self.ports}  # instance -> type
        self.seed = seed
        self.journal_dir = journal_dir
        self.journal_capacity = journal_capacity
        self.order_ref_fields = dict(order_ref_fields or {})
        self.python = python or sys.executable
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.extra_args = list(extra_args)
        self.env = dict(env) if env is not None else None
        self.urls: dict[str, str] = {}
        self.pid: int | None = None
        self.returncode: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=_STDERR_TAIL)
        self._stderr_task: asyncio.Task | None = None
        self._controls: dict[str, ControlClient] = {}

    def command(self) -> list[str]:
        cmd = [self.python, "-m", "mock_providers", "serve"]
        for name, port in self.ports.items():
            spec = name if self.types[name] == name else f"{name}:{self.types[name]}"
            cmd += ["--provider", f"{spec}={port}" if port else spec]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        if self.journal_dir is not None:
            # Absolute: relative to OUR working directory, whatever the child's is.
            cmd += ["--journal-dir", os.path.abspath(os.fspath(self.journal_dir))]
        if self.journal_capacity is not None:
            cmd += ["--journal-capacity", str(self.journal_capacity)]
        for name, field in self.order_ref_fields.items():
            cmd += ["--order-ref-field", f"{name}={field}"]
        return cmd + self.extra_args

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    async def start(self) -> "ProviderHost":
        if self._proc is not None:
            raise ProviderError("this ProviderHost is already started; stop() it first")
        env = dict(os.environ if self.env is None else self.env)
        # This copy of mock_providers first; the caller's directory too, for provider types given as module paths.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH"), os.getcwd()) if p)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True)
        except OSError as exc:
            raise ProviderError(f"could not start the provider host ({self.python}): {exc}") from exc
        self.pid = self._proc.pid
        watchdog.guard(self.pid)  # stopped even if the harness is SIGKILLed
        self._stderr_task = asyncio.get_running_loop().create_task(self._read_stderr())
        try:
            await self._await_ready()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while True:
            line = await self._proc.stderr.readline()
            if not line:
                return
            self._stderr.append(line.decode("utf-8", "replace"))

    async def _await_ready(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + self.ready_timeout
        while len(self.urls) < len(self.ports):
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise asyncio.TimeoutError
                line = await asyncio.wait_for(self._proc.stdout.readline(), remaining)
            except asyncio.TimeoutError:
                raise ProviderError(
                    f"provider host not ready within {self.ready_timeout:g} s (ready: {sorted(self.urls)} of"
                    f" {sorted(self.ports)}); its stderr:\n{await self._stderr_after_exit(0.2)}") from None
            if not line:
                code = await self._wait_exit(2.0)
                raise ProviderError(f"provider host exited with status {code} before it was ready;"
                                    f" its stderr:\n{await self._stderr_after_exit(1.0)}")
            try:
                event = json.loads(line)
                self.urls[event["provider"]] = event["url"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ProviderError(f"provider host printed {line!r} on stdout, not a ready line") from exc

    async def _wait_exit(self, timeout: float) -> int | None:
        try:
            return await asyncio.wait_for(self._proc.wait(), timeout)
        except asyncio.TimeoutError:
            return None

    async def _stderr_after_exit(self, timeout: float) -> str:
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout)
            except asyncio.TimeoutError:
                pass
        return self.stderr or "(empty)"

    def control(self, name: str) -> ControlClient:
        if name not in self.urls:
            raise ProviderError(f"provider={name!r} is not running here; running: {sorted(self.urls)}")
        client = self._controls.get(name)
        if client is None:
            client = self._controls[name] = ControlClient(self.urls[name])
        return client

    async def stop(self) -> int | None:
        """Stop the host; safe to call twice or on a host that never started."""
        for client in self._controls.values():
            await client.close()
        self._controls.clear()
        proc = self._proc
        if proc is None:
            return self.returncode
        if proc.returncode is None:
            self._signal(signal.SIGTERM)
            if await self._wait_exit(self.stop_timeout) is None:
                self._signal(signal.SIGKILL)
                await self._wait_exit(self.stop_timeout)
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(self._stderr_task, 1.0)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._stderr_task.cancel()
            self._stderr_task = None
        self.returncode = proc.returncode
        if proc.returncode is not None:
            watchdog.release(proc.pid)
        self._proc = None
        self.urls = {}
        return self.returncode

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    async def __aenter__(self) -> "ProviderHost":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()
