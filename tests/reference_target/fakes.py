"""A Stripe-like card provider behind respx, for driving the reference target in-process.

Idempotent creates (first answer saved per key and replayed; other parameters
-> 400 idempotency_error), a search by `metadata['order_id']`, a ledger of
charges, and a script of faults, one step per create call:

    fake.script.extend([fake.status(503), fake.COMMIT_THEN_TIMEOUT, None])

A step is None (behave normally), an `httpx.Response` (answered at the front
door, nothing saved: like the mock's `status` fault), an httpx exception class
(raised before executing: nothing committed), or one of the markers below.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx

PROVIDER_URL = "http://cardpay.test"

# Stripe's test PaymentMethods -> (code, decline_code); None = succeeds.
CARDS: dict[str, tuple[str, str | None] | None] = {
    "pm_card_visa": None,
    "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
    "pm_card_visa_chargeDeclinedLostCard": ("card_declined", "lost_card"),
    "pm_card_visa_chargeDeclinedStolenCard": ("card_declined", "stolen_card"),
    "pm_card_visa_chargeDeclinedFraudulent": ("card_declined", "fraudulent"),
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": ("card_declined", "card_velocity_exceeded"),
    "pm_card_visa_chargeDeclinedExpiredCard": ("expired_card", None),
    "pm_card_visa_chargeDeclinedIncorrectCvc": ("incorrect_cvc", None),
    "pm_card_visa_chargeDeclinedProcessingError": ("processing_error", None),
    "pm_card_visa_incorrectNumber": ("incorrect_number", None),
}

_QUERY = re.compile(r"^metadata\['order_id'\]:'([^']*)'$")


@dataclass(frozen=True)
class Call:
    t: float  # time.monotonic() when the request arrived
    key: str | None
    params: dict[str, str]
    headers: httpx.Headers


class FakeCardpay:
    COMMIT_THEN_TIMEOUT = "commit_then_timeout"  # executes (may charge), then the read times out
    COMMIT_THEN_DISCONNECT = "commit_then_disconnect"  # executes, then "server disconnected"
    SAVED_500 = "saved_500"  # Stripe: execution began, a 500 is saved under the key and replayed

    def __init__(self) -> None:
        self.creates: list[Call] = []
        self.searches: list[str] = []
        self.script: deque[Any] = deque()
        self.search_script: deque[Any] = deque()
        self.intents: dict[str, dict[str, Any]] = {}
        self.saved: dict[str, tuple[dict[str, str], int, dict[str, Any]]] = {}
        self.charges: list[dict[str, Any]] = []
        self.delay_s = 0.0

    # ---- helpers for tests ---------------------------------------------

    @property
    def keys(self) -> list[str | None]:
        return [call.key for call in self.creates]

    def charges_for(self, order_id: str) -> list[dict[str, Any]]:
        return [charge for charge in self.charges if charge["order_id"] == order_id]

    @staticmethod
    def status(code: int, *, retry_after: str | None = None, error_code: str | None = None) -> httpx.Response:
        error_type = "api_error" if code >= 500 else "invalid_request_error"
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"type": error_type, "code": error_code, "message": f"fake {code}"}}
        return httpx.Response(code, json=body, headers=headers)

    # ---- respx side effects ----------------------------------------------

    async def create(self, request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(request.content.decode()))
        key = request.headers.get("idempotency-key")
        self.creates.append(Call(time.monotonic(), key, params, request.headers))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # a slow provider: lets a repeat POST overlap
        step = self.script.popleft() if self.script else None
        if isinstance(step, httpx.Response):
            return step
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted fault", request=request)
        if step == self.SAVED_500:
            self.saved.setdefault(key, (params, 500, {"error": {"type": "api_error", "message": "fake 500"}}))
        status, body = self._execute(key, params)
        if step == self.COMMIT_THEN_TIMEOUT:
            raise httpx.ReadTimeout("timed out", request=request)
        if step == self.COMMIT_THEN_DISCONNECT:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(status, json=body)

    def search(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("query", "")
        self.searches.append(query)
        step = self.search_script.popleft() if self.search_script else None
        if isinstance(step, httpx.Response):
            return step
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted fault", request=request)
        match = _QUERY.match(query)
        if match is None:
            return self.status(400, error_code="parameter_invalid")
        data = [intent for intent in self.intents.values() if intent["metadata"]["order_id"] == match[1]]
        return httpx.Response(200, json={"object": "search_result", "data": data, "has_more": False})

    def _execute(self, key: str | None, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if key is not None and key in self.saved:
            first_params, status, body = self.saved[key]
            if first_params != params:
                return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests..."}}
            return status, body
        intent_id = f"pi_{len(self.intents) + 1}"
        order_id = params.get("metadata[order_id]")
        outcome = CARDS.get(params.get("payment_method", ""), None)
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "metadata": {"order_id": order_id},
            "status": "succeeded",
            "last_payment_error": None,
        }
        if outcome is None:
            self.charges.append({"order_id": order_id, "payment_intent": intent_id, "key": key})
            status, body = 200, intent
        else:
            code, decline_code = outcome
            error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": "fake decline"}
            intent.update(status="requires_payment_method", last_payment_error=error)
            status, body = 402, {"error": {**error, "payment_intent": intent}}
        self.intents[intent_id] = intent
        if key is not None:
            self.saved[key] = (params, status, body)
        return status, body
