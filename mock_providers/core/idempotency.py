"""Idempotency store with Stripe's rules (docs.stripe.com/idempotency).

- ``begin`` claims a key: NEW (you now execute), REPLAY (a saved answer),
  MISMATCH (same key, other endpoint or parameters: 400), IN_USE (the first
  request is still executing: 409, nothing saved).
- ``complete`` saves the answer once execution began (including 500s);
  ``abandon`` releases the key when nothing may be saved (validation failure).
- Keys expire ``ttl_s`` after their first use; an expired key starts afresh.
  The store is also capped (oldest keys pruned first) so memory stays bounded
  under sustained load; the cap is far above any scenario's key count.
"""

from __future__ import annotations

import time

from .forms import parse_form

__all__ = ["IdempotencyStore", "IdemRecord", "NEW", "REPLAY", "MISMATCH", "IN_USE"]

NEW, REPLAY, MISMATCH, IN_USE = "new", "replay", "mismatch", "in_use"

_PRUNE_EVERY = 1024


class IdemRecord:
    __slots__ = ("key", "endpoint", "path", "request_body", "created", "done", "status", "body",
                 "headers", "info", "request_id")

    def __init__(self, key, endpoint, path, request_body, created):
        self.key = key
        self.endpoint = endpoint
        self.path = path
        # The raw form body, not the parsed dict: records live for the TTL, and the
        # bytes are already in memory (the journal holds them) while a dict is ~3x larger.
        self.request_body = request_body
        self.created = created
        self.done = False
        self.status = 0
        self.body = b""
        self.headers = b""  # extra header lines to replay (e.g. Stripe-Should-Retry)
        self.info = None  # the journal response tuple of the original
        self.request_id = None  # of the original request


class IdempotencyStore:
    def __init__(self, ttl_s: float = 24 * 3600.0, max_keys: int = 2_000_000, clock=time.monotonic,
                 parse=parse_form):
        if ttl_s <= 0:
            raise ValueError(f"ttl_s={ttl_s} is invalid: keys must live > 0 s (Stripe: 86400)")
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._clock = clock
        self._parse = parse  # the provider's body parser: same parameters in another order are the same request
        self._records: dict[str, IdemRecord] = {}  # insertion order == age order
        self._since_prune = 0

    def __len__(self) -> int:
        return len(self._records)

    def begin(self, key: str, endpoint: str, path: str, body: bytes, params: dict) -> tuple[str, IdemRecord]:
        """``body`` is the raw request body, ``params`` its parsed parameters (compared,
        through the provider's parser, when the bytes differ: the same parameters
        in another order are the same request)."""
        records = self._records
        now = self._clock()
        rec = records.get(key)
        if rec is not None and now - rec.created >= self.ttl_s:
            del records[key]
            rec = None
        if rec is None:
            rec = IdemRecord(key, endpoint, path, body, now)
            records[key] = rec
            self._since_prune += 1
            if self._since_prune >= _PRUNE_EVERY or len(records) > self.max_keys:
                self._prune(now)
            return NEW, rec
        if not rec.done:
            return IN_USE, rec
        if rec.endpoint != endpoint or rec.path != path:
            return MISMATCH, rec
        if rec.request_body != body and self._parse(rec.request_body) != params:
            return MISMATCH, rec
        return REPLAY, rec

    def complete(self, rec: IdemRecord, status: int, body: bytes, headers: bytes, info, request_id) -> None:
        rec.status = status
        rec.body = body
        rec.headers = headers
        rec.info = info
        rec.request_id = request_id
        rec.done = True

    def abandon(self, rec: IdemRecord) -> None:
        if self._records.get(rec.key) is rec:
            del self._records[rec.key]

    def _prune(self, now: float) -> None:
        self._since_prune = 0
        records = self._records
        ttl = self.ttl_s
        over = len(records) - self.max_keys
        drop = []
        # Oldest first: stop at the first live key (or an in-flight one).
        for key, rec in records.items():
            if not rec.done or (now - rec.created < ttl and len(drop) >= over):
                break
            drop.append(key)
        for key in drop:
            del records[key]

    def reset(self) -> None:
        self._records = {}
        self._since_prune = 0
