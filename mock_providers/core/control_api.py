"""The control API under ``/__paychaos/`` (docs/interfaces.md section 2).

JSON in, JSON out; never faulted, journaled or rate limited. Bad input is a
400 with ``{"error": "..."}`` naming the field, the rule and the fix; it never
crashes the provider.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .faults import FaultRuleError
from .forms import parse_form
from .http import Reply, Request, build_response

if TYPE_CHECKING:  # pragma: no cover
    from .provider import Provider

__all__ = ["ControlApi"]

PREFIX = "/__paychaos/"
MAX_JOURNAL_LIMIT = 10_000


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _json(status: int, obj) -> Reply:
    return Reply(build_response(status, json.dumps(obj, separators=(",", ":")).encode()))


def _body(req: Request):
    if not req.body:
        raise _BadRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(req.body)
    except ValueError as exc:
        raise _BadRequest(f"the request body is not valid JSON ({exc}); send a JSON object") from None


def _int_arg(query: dict, name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"{name}={raw!r} is invalid: it must be an integer") from None
    if not lo <= value <= hi:
        raise _BadRequest(f"{name}={value} is invalid: it must be {lo}..{hi}")
    return value


class ControlApi:
    def __init__(self, provider: "Provider"):
        self.p = provider

    def handle(self, req: Request) -> Reply:
        sub = req.path[len(PREFIX):]
        try:
            return self._route(req.method, sub, req)
        except _BadRequest as exc:
            return _json(exc.status, {"error": str(exc)})
        except FaultRuleError as exc:
            return _json(400, {"error": str(exc), "issues": [{"field": f, "message": m} for f, m in exc.issues]})

    def _route(self, method: str, sub: str, req: Request) -> Reply:
        p = self.p
        if sub == "health" and method == "GET":
            routes = [{"method": r.method, "path": r.pattern, "endpoint": r.endpoint,
                       "role": p.PROFILE.role_of(r.endpoint)} for r in p.router.routes]
            return _json(200, {"provider": p.name, "type": p.PROFILE.type, "ok": True, "requests": p.seq,
                               "routes": routes})
        if sub == "config" and method == "PUT":
            return self._config(_body(req))
        if sub == "faults":
            if method == "POST":
                rule = p.faults.add(_body(req))
                return _json(201, {"id": rule.id})
            if method == "GET":
                return _json(200, {"faults": p.faults.list()})
            if method == "DELETE":
                p.faults.clear()
                return _json(200, {"ok": True})
        if sub.startswith("faults/") and method == "DELETE":
            rule_id = sub[len("faults/"):]
            if not p.faults.remove(rule_id):
                raise _BadRequest(f"no active fault rule with id={rule_id!r}; GET {PREFIX}faults lists them", 404)
            return _json(200, {"ok": True})
        if sub == "journal" and method == "GET":
            q = parse_form(req.query)
            after = _int_arg(q, "after", 0, 0, 2**62)
            limit = _int_arg(q, "limit", 1000, 1, MAX_JOURNAL_LIMIT)
            return _json(200, p.journal.query(after, limit))
        if sub == "ledger" and method == "GET":
            return _json(200, p.ledger.snapshot())
        if sub == "reset" and method == "POST":
            p.reset()
            return _json(200, {"ok": True})
        known = {"health", "config", "faults", "journal", "ledger", "reset"}
        if sub in known or sub.startswith("faults/"):
            raise _BadRequest(f"{method} is not allowed on {PREFIX}{sub}; see docs/interfaces.md section 2", 405)
        raise _BadRequest(f"unknown control endpoint {PREFIX}{sub}; use one of {sorted(known)}", 404)

    def _config(self, cfg) -> Reply:
        """Validate every key first, then apply all: a bad key changes nothing."""
        if not isinstance(cfg, dict):
            raise _BadRequest("config must be a JSON object such as {\"seed\": 7}")
        p = self.p
        cfg = dict(cfg)
        changes = []
        if "seed" in cfg:
            seed = cfg.pop("seed")
            if not isinstance(seed, int) or isinstance(seed, bool):
                raise _BadRequest(f"seed={seed!r} is invalid: it must be an integer")
            changes.append(lambda: setattr(p.faults, "seed", seed))
        if "order_ref_field" in cfg:
            field = cfg.pop("order_ref_field")
            if not isinstance(field, str) or not field:
                raise _BadRequest(f"order_ref_field={field!r} is invalid: it must be a parameter name"
                                  " such as 'metadata[order_id]'")
            changes.append(lambda: setattr(p, "order_ref_field", field))
        if "idempotency_ttl_s" in cfg:
            ttl = cfg.pop("idempotency_ttl_s")
            if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0:
                raise _BadRequest(f"idempotency_ttl_s={ttl!r} is invalid: it must be a number of"
                                  " seconds > 0 (Stripe keeps keys 86400 s)")
            changes.append(lambda: setattr(p.idem, "ttl_s", float(ttl)))
        if "credentials" in cfg:
            creds = cfg.pop("credentials")
            names = {c.name for c in p.PROFILE.credentials}
            if not isinstance(creds, dict) or not all(isinstance(v, str) and v for v in creds.values()):
                raise _BadRequest(f"credentials={creds!r} is invalid: it must be an object of non-empty strings"
                                  f" keyed by {sorted(names)}")
            unknown_creds = sorted(set(creds) - names)
            if unknown_creds:
                raise _BadRequest(f"credentials: {unknown_creds} are not credentials of {p.PROFILE.type};"
                                  f" it takes {sorted(names)}")
            translated = p.credentials_config(creds)
            clash = sorted(set(translated) & set(cfg))
            if clash:
                raise _BadRequest(f"give either credentials or {clash}, not both")
            cfg.update(translated)
        try:
            unknown, apply = p.configure(cfg)
        except ValueError as exc:
            raise _BadRequest(str(exc)) from None
        if unknown:
            raise _BadRequest(f"unknown config key(s) {sorted(unknown)}; known: seed, order_ref_field,"
                              f" idempotency_ttl_s, credentials{''.join(', ' + k for k in p.config_keys)}")
        for change in changes:
            change()
        apply()
        return _json(200, {"ok": True})
