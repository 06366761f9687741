"""Structured logs: one JSON line per provider call and per decision, on stderr.

The line is built in the message itself, so any handler (pytest's caplog, a
file, uvicorn's) carries the full structure; `configure()` only adds the
timestamped stderr handler for the real process.

    {"ts": "2026-11-24T04:01:40.123456Z", "t": 812.1, "event": "provider_call",
     "order_id": "ord_1", "attempt": 2, "idempotency_key": "pay-ord_1-…",
     "outcome": "503", "elapsed_s": 0.012, "trace": "00-…"}
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone
from typing import Any

__all__ = ["logger", "log_event", "configure", "wall_now"]

logger = logging.getLogger("reference_target")


def wall_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_event(event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event; `t` is CLOCK_MONOTONIC, comparable across processes."""
    if not logger.isEnabledFor(level):
        return
    record = {"ts": wall_now(), "t": round(time.monotonic(), 6), "event": event}
    record.update({key: value for key, value in fields.items() if value is not None})
    logger.log(level, json.dumps(record, default=str, separators=(",", ":")))


class _JsonLines(logging.Formatter):
    """Our events pass through; other loggers' lines (uvicorn) are wrapped, so
    every stderr line parses as JSON."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == logger.name and message.startswith("{"):
            return message
        wrapped = {
            "ts": wall_now(),
            "t": round(time.monotonic(), 6),
            "event": "log",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        if record.exc_info:
            wrapped["exc"] = self.formatException(record.exc_info)
        return json.dumps(wrapped, default=str, separators=(",", ":"))


def configure(level: str = "info") -> None:
    """stderr only: stdout stays free for whoever drives the process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
