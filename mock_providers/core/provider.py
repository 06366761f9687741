"""The provider base class: the request pipeline every mock provider shares.

Order, as Stripe documents it (faults first, since they model the network
and the provider's front door):

  control prefix -> journal -> fault decision -> [drop | front-door status]
  -> authentication -> routing (404) -> idempotency (replay / 400 / 409)
  -> [delay] -> execute (or a saved 500) -> save -> [commit_drop] -> answer

A provider subclass supplies routes and the provider-specific answers
(``authenticate``, ``error_result``, ``order_ref_of``...). Handlers return
a ``Result`` synchronously; only a delay makes the pipeline async.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Callable, ClassVar

from .control_api import ControlApi
from .fault_engine import FaultEngine
from .faults import Effect
from .forms import parse_form
from .http import Reply, Request, status_line
from .idempotency import IN_USE, MISMATCH, NEW, IdempotencyStore
from .journal import Exchange, Journal
from .ledger import Ledger
from .profile import ProviderProfile
from .routing import Route, Router

__all__ = ["Provider", "Result", "info"]

CONTROL_PREFIX = "/__paychaos/"
_NO_EFFECT = Effect()
MAX_IDEMPOTENCY_KEY = 255


def info(status, error_type=None, error_code=None, decline_code=None, object_id=None,
         object_status=None, replayed=False, retry_after_s=None, should_retry=None, error_param=None) -> tuple:
    """The journal's ``response`` summary (docs/interfaces.md section 4), as a tuple."""
    return (status, error_type, error_code, decline_code, object_id, object_status, replayed,
            retry_after_s, should_retry, error_param)


class Result:
    """A handler's answer. ``saved``: may be stored under an idempotency key
    (execution began); validation failures are not."""

    __slots__ = ("status", "body", "headers", "info", "saved")

    def __init__(self, status: int, body: bytes, info: tuple, headers: bytes = b"", saved: bool = True):
        self.status = status
        self.body = body
        self.info = info
        self.headers = headers
        self.saved = saved


class Provider:
    """One provider INSTANCE. ``name`` is the instance (``primary``), which keys
    its journal, spill file and fault draws; ``PROFILE.type`` is its type."""

    PROFILE: ClassVar[ProviderProfile]

    def __init__(self, *, name: str | None = None, seed: int = 0, journal_capacity: int = 50_000,
                 journal_dir: str | None = None, order_ref_field: str | None = None,
                 idempotency_ttl_s: float = 24 * 3600.0, clock: Callable[[], float] = time.monotonic):
        profile = self.PROFILE
        self.name = name or profile.type
        self.clock = clock
        carrier = profile.idempotency
        self._key_header = carrier.header.lower().encode() if carrier.header else None
        self._key_field = carrier.field
        self.journal = Journal(self.name, journal_capacity, journal_dir, profile)
        self.ledger = Ledger(clock)
        self.idem = IdempotencyStore(idempotency_ttl_s, clock=clock, parse=self.parse_body)
        self.faults = FaultEngine(self.name, seed)
        self.order_ref_field = order_ref_field or profile.order_ref_default
        self.router = Router(self.routes())
        self._roles = {r.endpoint: profile.role_of(r.endpoint) for r in self.router.routes}
        self.control = ControlApi(self)
        self.seq = 0
        # Letters, never digits alone: "req_" + 16 digits could pass for a card number in a journal.
        self._rid = "req_" + "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(6))
        self._rid_fmt = self._rid + "%08x"

    # -- hooks --------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authenticate(self, req: Request) -> Result | None:
        """None to let the request in, else the refusal (nothing is saved)."""
        return None

    def authorize(self, req: Request, route: Route, params: dict, args: dict) -> Result | None:
        """After routing: may these credentials make this call? (e.g. a publishable
        key only confirms the intent whose client secret it shows)."""
        return None

    def error_result(self, status: int, code: str | None = None, retry_after_s: float | None = None,
                     message: str | None = None) -> Result:
        """The provider's real error answer for a bare HTTP status (faults)."""
        raise NotImplementedError

    def not_found_result(self, req: Request) -> Result:
        return self.error_result(404, message=f"Unrecognized request URL ({req.method}: {req.path})")

    def idempotency_result(self, verdict: str, key: str, ex: Exchange, first_path: str) -> Result:
        """The answer for a key that is in use (409) or reused differently (400)."""
        raise NotImplementedError

    def invalid_key_result(self, key: str) -> Result:
        return self.error_result(400, message=f"Idempotency key {key[:20]!r}... is longer than"
                                              f" {MAX_IDEMPOTENCY_KEY} characters")

    def order_ref_of(self, route: Route, params: dict, args: dict) -> str | None:
        return params.get(self.order_ref_field) if self.order_ref_field else None

    def idempotency_key_of(self, req: Request, params: dict) -> str | None:
        """The key the request carries (header or body field, per the profile), on POSTs."""
        if req.method != "POST":
            return None
        if self._key_header is not None:
            raw = req.headers.get(self._key_header)
            return None if raw is None else raw.decode("utf-8", "replace")
        value = params.get(self._key_field)
        return None if value is None else str(value)

    def credentials_config(self, credentials: dict) -> dict:
        """Translate the profile's neutral ``credentials`` into this provider's config keys."""
        return {}

    config_keys: ClassVar[tuple[str, ...]] = ()

    def configure(self, cfg: dict):
        """Validate provider-specific config keys (raise ValueError with the fix).
        Returns (keys it does not know, a function that applies the rest)."""
        return list(cfg), lambda: None

    def reset_state(self) -> None:
        """Forget provider-specific objects (intents, tokens...)."""

    def parse_body(self, body: bytes) -> dict[str, str]:
        """A request body as flat parameters (form-encoded here; a JSON provider overrides it)."""
        return parse_form(body)

    def parse_params(self, req: Request) -> dict[str, str]:
        return self.parse_body(req.body) if req.method == "POST" else parse_form(req.query)

    # -- pipeline -------------------------------------------------------------
    def __call__(self, req: Request):
        path = req.path
        if path.startswith(CONTROL_PREFIX):
            return self.control.handle(req)
        self.seq = seq = self.seq + 1
        route, args = self.router.match(req.method, path)
        ex = Exchange(seq, req, route.endpoint if route is not None else "unknown", self._rid_fmt % seq)
        self.journal.append(ex)
        params = ex.params = self.parse_params(req)
        # The key is evidence even when a fault answers first (same key across retries?).
        key = ex.idempotency_key = self.idempotency_key_of(req, params)
        order_ref = None
        role = "other"
        if route is not None:
            order_ref = ex.order_ref = self.order_ref_of(route, params, args)
            role = self._roles[route.endpoint]
        eff = _NO_EFFECT
        fault = None  # the decision, journaled only where its effect takes place
        if self.faults.rules:
            # Per order; a request without an order reference counts per idempotency key (one payment).
            unit = order_ref if order_ref is not None else (None if key is None else "key:" + key)
            decision = self.faults.decide(req.method, path, unit, seq, role, self.clock())
            if decision is not None:
                fault = decision.journal()
                eff = decision.effect
                if eff.drop_before:
                    ex.fault = fault
                    return Reply(None, record=ex)
                if eff.status is not None:
                    ex.fault = fault
                    return self._reply(ex, self.error_result(eff.status, eff.code, eff.retry_after_s))
        denied = self.authenticate(req)
        if denied is not None:
            return self._reply(ex, denied)
        if route is None:
            return self._reply(ex, self.not_found_result(req))
        refused = self.authorize(req, route, params, args)
        if refused is not None:
            return self._reply(ex, refused)
        if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
            return self._reply(ex, self.invalid_key_result(key))
        if eff.delay_s:
            ex.fault = fault
            return self._delayed(ex, route, params, args, key, eff, fault)
        rec = None
        if key is not None:
            verdict, rec = self.idem.begin(key, route.endpoint, path, req.body, params)
            if verdict is not NEW:
                return self._answer_again(ex, verdict, rec, eff, fault)
        return self._execute(ex, route, params, args, rec, eff, fault)

    async def _delayed(self, ex, route, params, args, key, eff, fault):
        rec = None
        if key is not None:
            verdict, rec = self.idem.begin(key, route.endpoint, ex.path, ex.body, params)
            if verdict is not NEW:
                # A slow provider is slow for replays too; the verdict was taken on arrival.
                await asyncio.sleep(eff.delay_s)
                return self._answer_again(ex, verdict, rec, eff, fault)
        try:
            await asyncio.sleep(eff.delay_s)
        except BaseException:
            if rec is not None:
                self.idem.abandon(rec)
            raise
        # Executes even if the client has gone: its outcome is now ambiguous.
        return self._execute(ex, route, params, args, rec, eff, fault)

    def _answer_again(self, ex, verdict, rec, eff, fault) -> Reply:
        """The idempotency store answers (a replay, a 409, a 400). A lost reply is
        lost whatever answered it: ``commit_drop`` takes effect here too."""
        if eff.drop_after:
            ex.fault = fault
            return Reply(None, record=ex)
        return self._reply(ex, self._idempotent_answer(verdict, rec, ex))

    def _execute(self, ex, route, params, args, rec, eff, fault=None) -> Reply:
        try:
            if eff.saved_status is not None:
                ex.fault = fault
                result = self.error_result(eff.saved_status, eff.code)
            else:
                result = route.handler(ex, params, args, eff.decline_code)
        except BaseException:
            if rec is not None:
                self.idem.abandon(rec)
            raise
        if rec is not None:
            if result.saved:
                self.idem.complete(rec, result.status, result.body, result.headers, result.info, ex.request_id)
            else:
                self.idem.abandon(rec)
        if eff.drop_after:
            ex.fault = fault
            return Reply(None, record=ex)
        if eff.decline_code is not None and self.PROFILE.classify(
                result.status, "delivered", result.info[2], result.info[3])[1] == "decline":
            ex.fault = fault  # a decline was answered (requests that charge nothing are unaffected)
        return self._reply(ex, result)

    def _idempotent_answer(self, verdict, rec, ex) -> Result:
        if verdict is IN_USE or verdict is MISMATCH:
            return self.idempotency_result(verdict, rec.key, ex, rec.path)
        i = rec.info
        replayed = (*i[:6], True, *i[7:])
        headers = b"%sIdempotent-Replayed: true\r\nOriginal-Request: %s\r\n" % (
            rec.headers, rec.request_id.encode())
        return Result(rec.status, rec.body, replayed, headers)

    def _reply(self, ex: Exchange, result: Result) -> Reply:
        ex.response = result.info
        # Echoed back only when it came in a header (a body-field key is the caller's data, not a header value).
        key = ex.idempotency_key if self._key_header is not None else None
        body = result.body
        # One formatting pass for the whole response (hot path; see http.build_response).
        if key is None:
            data = b"%sContent-Type: application/json\r\nContent-Length: %d\r\nRequest-Id: %s\r\n%s\r\n%s" % (
                status_line(result.status), len(body), ex.request_id.encode(), result.headers, body)
        else:
            data = (b"%sContent-Type: application/json\r\nContent-Length: %d\r\nRequest-Id: %s\r\n"
                    b"Idempotency-Key: %s\r\n%s\r\n%s") % (
                status_line(result.status), len(body), ex.request_id.encode(), key.encode("utf-8", "replace"),
                result.headers, body)
        return Reply(data, record=ex)

    # -- lifecycle ------------------------------------------------------------
    def reset(self) -> None:
        self.faults.reset()
        self.journal.reset()
        self.ledger.reset()
        self.idem.reset()
        self.reset_state()

    def close(self) -> None:
        self.journal.close()
