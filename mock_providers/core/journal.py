"""The request journal: one record per provider request, bounded in memory.

Hot path: ``append`` stores the live ``Exchange`` object (no dict, no JSON).
Records become the documented dicts (docs/interfaces.md section 4) only when
read or spilled. Past ``capacity`` the oldest records leave memory: with a
spill directory they are written in batches to ``<dir>/<provider>.journal.jsonl``
(and read back from there by ``query``); without one they are counted in
``dropped``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import time
from collections import deque
from datetime import datetime, timezone
from itertools import islice

from .luhn import luhn_ok

__all__ = ["Exchange", "Journal", "mask_param", "redact_header", "iso_wall"]

# Response info tuple layout (see Exchange.response).
RESPONSE_FIELDS = ("status", "error_type", "error_code", "decline_code", "object_id",
                   "object_status", "replayed", "retry_after_s", "should_retry", "error_param")

_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}
# One encoder for every spilled line (json.dumps(..., separators=...) builds a new one per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode


# Wall time is for humans only: derive it from the monotonic clock with one
# offset taken at start, instead of a second clock read per request.
WALL_OFFSET = time.time() - time.monotonic()


_wall_second = (-1, "")  # (whole second, its formatted prefix): spills format many per second


def iso_wall(ts: float) -> str:
    global _wall_second
    sec = int(ts)
    if sec != _wall_second[0]:
        _wall_second = (sec, datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    usec = round((ts - sec) * 1e6)
    if usec >= 1_000_000:  # rounds up into the next second: let datetime carry it
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{_wall_second[1]}.{usec:06d}Z"


def mask_param(key: str, value):
    """Card numbers keep their last 4 digits; CVCs vanish."""
    if key.endswith("number]") or key == "number":
        s = str(value)
        return "*" * max(len(s) - 4, 0) + s[-4:]
    if key.endswith("cvc]") or key == "cvc":
        return "***"
    return value


def redact_header(name: str, value: str, secret: frozenset[str] | set[str] = _SECRET_HEADERS) -> str:
    """API keys keep their prefix (``Bearer sk_test_****``)."""
    if name not in secret:
        return value
    scheme, _, secret = value.partition(" ")
    if not secret:
        scheme, secret = "", scheme
    prefix = secret[:8] if secret.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")) else secret[:3]
    return f"{scheme} {prefix}****".strip()


# A card number anywhere (a description, a free-text field, a header): 13-19 digits,
# optionally grouped by spaces or dashes, that pass the Luhn check.
_CARDLIKE = re.compile(r"(?<![0-9A-Za-z_])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z_])")  # not inside an id


def mask_cards(text: str) -> str:
    """Every Luhn-valid card-length digit run in ``text`` keeps its last 4 digits."""
    def one(m: re.Match) -> str:
        digits = re.sub(r"[ -]", "", m.group(0))
        return "*" * (len(digits) - 4) + digits[-4:] if luhn_ok(digits) else m.group(0)

    return _CARDLIKE.sub(one, text)


def _masked(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if "number" in k or "cvc" in k:
            v = mask_param(k, v)
        elif isinstance(v, str) and len(v) >= 13:
            v = mask_cards(v)
        out[k] = v
    return out


def _headers(raw: dict, secret: frozenset[str] | set[str] = _SECRET_HEADERS) -> dict:
    out = {k.decode("latin-1"): mask_cards(v.decode("latin-1")) for k, v in raw.items()}
    for name in secret.intersection(out):
        out[name] = redact_header(name, out[name], secret)
    return out


def secret_headers(profile) -> frozenset[str]:
    """The always-secret headers plus those the profile's credentials travel in."""
    extra = {c.header.lower() for c in profile.credentials if c.header} if profile is not None else set()
    return frozenset(_SECRET_HEADERS | extra)


class Exchange:
    """One request as the provider saw it; filled in as the request progresses."""

    __slots__ = ("seq", "t_start", "t_end", "method", "path", "endpoint", "order_ref",
                 "idempotency_key", "request_id", "params", "headers", "body", "fault", "response",
                 "delivery", "committed", "conn")

    def __init__(self, seq, req, endpoint, request_id):
        self.seq = seq
        self.t_start = req.t_start
        self.method = req.method
        self.path = req.path
        self.headers = req.headers
        self.body = req.body
        self.endpoint = endpoint
        self.request_id = request_id
        self.t_end = None
        self.order_ref = None
        self.idempotency_key = None
        self.params = None
        self.fault = None  # (rule_id, kind, draw)
        self.response = None  # tuple laid out as RESPONSE_FIELDS
        self.delivery = None  # set by the connection
        self.committed = False
        self.conn = None  # (caller's port, reply bytes written on that connection through this reply)

    def to_dict(self, provider: str, profile=None) -> dict:
        """The documented entry. With the provider's ``profile``, also the route's
        ``role`` and the answer's ``class`` and neutral ``failure``."""
        fault = self.fault
        resp = self.response
        params = self.params or {}
        delivery = self.delivery or "pending"
        sent = resp is not None and delivery == "delivered"
        extra = {}
        if profile is not None:
            klass, failure = profile.classify(resp[0] if sent else None, delivery,
                                              resp[2] if sent else None, resp[3] if sent else None)
            hint = resp[8] if sent else None
            extra = {"type": profile.type, "role": profile.role_of(self.endpoint), "class": klass,
                     "failure": failure, "retry_hint": None if hint is None else str(hint).lower() == "true",
                     # refused as a request this provider does not understand, and no fault made it so
                     "integration": sent and fault is None and profile.is_integration_error(
                         resp[0], resp[2], self.endpoint)}
        return {
            "seq": self.seq, "provider": provider, **extra, "t_start": self.t_start, "t_end": self.t_end,
            "wall": iso_wall(self.t_start + WALL_OFFSET), "method": self.method, "path": self.path,
            "endpoint": self.endpoint, "order_ref": self.order_ref,
            "idempotency_key": self.idempotency_key, "request_id": self.request_id,
            "params": _masked(params),
            "headers": _headers(self.headers, secret_headers(profile)),
            "body_sha256": hashlib.sha256(self.body).hexdigest(),
            "fault": None if fault is None else {"rule": fault[0], "kind": fault[1], "draw": fault[2]},
            # What the provider decided to answer is only a response if it was sent.
            "response": dict(zip(RESPONSE_FIELDS, resp)) if sent else None,
            # A record still in flight (a delayed request) has no delivery yet.
            "delivery": delivery,
            "committed": self.committed,
            "conn": None if self.conn is None else {"port": self.conn[0], "reply_end": self.conn[1]},
        }


class Journal:
    def __init__(self, provider: str, capacity: int = 50_000, spill_dir: str | None = None,
                 profile=None, batch: int | None = None):
        if capacity < 1:
            raise ValueError(f"capacity={capacity} is invalid: the journal must hold at least 1 entry")
        self.provider = provider  # the instance name: keys the spill file
        self.profile = profile
        self.capacity = capacity
        # Small batches: serialising one costs ~15 us per entry, and a batch is one pause.
        self.batch = batch or max(1, min(256, capacity // 4))
        self.dropped = 0
        self._ring: deque[Exchange] = deque()
        self._pending: list[Exchange] = []  # evicted, not yet written
        self._spill_path = None
        self._spill = None
        # One (last_seq, first_seq, offset, length) per written batch, sorted by seq.
        self._batches: list[tuple[int, int, int, int]] = []
        if spill_dir is not None:
            os.makedirs(spill_dir, exist_ok=True)
            self._spill_path = os.path.join(spill_dir, f"{provider}.journal.jsonl")
            self._spill = open(self._spill_path, "w+b")

    @property
    def spill_path(self) -> str | None:
        return self._spill_path

    def __len__(self) -> int:
        return len(self._ring)

    def append(self, rec: Exchange) -> None:
        ring = self._ring
        ring.append(rec)
        if len(ring) > self.capacity:
            old = ring.popleft()
            if self._spill is None:
                self.dropped += 1
            else:
                pending = self._pending
                pending.append(old)
                if len(pending) >= self.batch:
                    self._write(pending)
                    self._pending = []

    def _write(self, recs: list[Exchange]) -> None:
        if not recs:
            return
        provider, profile = self.provider, self.profile
        data = "".join([_encode(r.to_dict(provider, profile)) + "\n" for r in recs]).encode()
        f = self._spill
        f.seek(0, os.SEEK_END)
        offset = f.tell()
        f.write(data)
        f.flush()
        self._batches.append((recs[-1].seq, recs[0].seq, offset, len(data)))

    def _read_spilled(self, after: int, limit: int) -> list[dict]:
        out: list[dict] = []
        i = bisect.bisect_right(self._batches, (after, float("inf")))
        f = self._spill
        for last, first, offset, length in self._batches[i:]:
            f.seek(offset)
            for line in f.read(length).splitlines():
                entry = json.loads(line)
                if entry["seq"] > after:
                    out.append(entry)
                    if len(out) >= limit:
                        return out
        return out

    def query(self, after: int = 0, limit: int = 1000) -> dict:
        """Entries with ``seq > after``, oldest first, at most ``limit``."""
        out: list[dict] = []
        provider, profile = self.provider, self.profile
        if self._batches and self._batches[-1][0] > after:
            out.extend(self._read_spilled(after, limit))
        for rec in self._pending:
            if len(out) >= limit:
                break
            if rec.seq > after:
                out.append(rec.to_dict(provider, profile))
        ring = self._ring
        if len(out) < limit and ring:
            # Sequence numbers in the ring are contiguous: index straight in.
            start = max(0, after + 1 - ring[0].seq)
            for rec in islice(ring, start, start + limit - len(out)):
                out.append(rec.to_dict(provider, profile))
        nxt = out[-1]["seq"] if out else after
        return {"entries": out, "next": nxt, "dropped": self.dropped}

    def reset(self) -> None:
        self._ring.clear()
        self._pending = []
        self._batches = []
        self.dropped = 0
        if self._spill is not None:
            self._spill.seek(0)
            self._spill.truncate()

    def close(self) -> None:
        """Write everything still in memory to the spill file (if any) and close it."""
        if self._spill is None:
            return
        self._write(self._pending)
        self._pending = []
        self._write(list(self._ring))
        self._spill.close()
        self._spill = None
