"""Run providers in this process until SIGTERM/SIGINT (the host CLI's body).

Prints one ready line per provider on stdout once ALL listen, and nothing
else on stdout; logs go to stderr. On a signal: stop accepting, close
connections, flush journals, return.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field

from .core.gctune import gc_policy
from .core.server import HttpServer
from .registry import load_provider

__all__ = ["ServeOptions", "serve"]


@dataclass
class ServeOptions:
    providers: list[tuple[str, str, int]]  # (instance, type, port); port 0 = any free port
    seed: int = 0
    journal_dir: str | None = None
    journal_capacity: int = 50_000
    order_ref_fields: dict[str, str] = field(default_factory=dict)
    idempotency_ttl_s: float = 24 * 3600.0
    max_body: int = 64 * 1024
    idle_timeout: float = 60.0


async def serve(opts: ServeOptions, stop: asyncio.Event | None = None, out=None) -> None:
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not the main thread
            pass
    providers, servers = [], []
    freezer = loop.create_task(gc_policy())
    try:
        for name, type_name, port in opts.providers:
            cls = load_provider(type_name)
            provider = cls(name=name, seed=opts.seed, journal_capacity=opts.journal_capacity,
                           journal_dir=opts.journal_dir, order_ref_field=opts.order_ref_fields.get(name),
                           idempotency_ttl_s=opts.idempotency_ttl_s)
            providers.append(provider)
            servers.append(await HttpServer(provider, max_body=opts.max_body,
                                            idle_timeout=opts.idle_timeout).start(port))
        for (name, type_name, _), srv in zip(opts.providers, servers):
            out.write(json.dumps({"event": "ready", "provider": name, "type": type_name, "url": srv.url,
                                  "pid": os.getpid()}) + "\n")
        out.flush()
        await stop.wait()
    finally:
        freezer.cancel()
        for srv in servers:
            await srv.close()
        for provider in providers:
            provider.close()
