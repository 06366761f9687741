"""The card provider's HTTP API, Stripe style, over ONE shared httpx.AsyncClient.

Create-and-confirm a PaymentIntent (form body, `Idempotency-Key`), search
intents by the order id stored in metadata (how an ambiguous outcome is
resolved) and, with manual capture, capture or cancel an authorised intent. This module speaks HTTP and returns
raw responses; `outcomes` decides what they mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["CardpayClient", "LookupFailed", "Found", "build_http_client", "search_query"]


def build_http_client(base_url: str, api_key: str, timeout_s: float | None) -> httpx.AsyncClient:
    """One client for the whole process: its pool is shared by every payment.

    `timeout_s=None` means NO timeout at all (seeded bug no-client-timeout).
    """
    timeout = httpx.Timeout(timeout_s)  # the same value for connect, read, write and pool
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        headers={"Authorization": f"Bearer {api_key}", "User-Agent": "paychaos-reference-target/0.1"},
        # The provider is on loopback; a proxy from the environment would be a surprise.
        trust_env=False,
    )


class LookupFailed(Exception):
    """The search itself failed (transport error or a non-200 answer)."""


@dataclass(frozen=True)
class Found:
    """What a search learned about an order's charge."""

    outcome: str  # "succeeded" | "declined" | "processing"
    intent_id: str
    error: dict[str, Any] | None = None  # last_payment_error of a declined intent
    status: str | None = None  # the intent's own status ("requires_capture": authorised, not captured)


def search_query(order_id: str) -> str:
    return f"metadata['order_id']:'{order_id}'"


class CardpayClient:
    """Thin, stateless wrapper; the retry policy lives in `attempts`."""

    def __init__(self, http: httpx.AsyncClient, create_path: str = "/v1/payment_intents") -> None:
        self.http = http
        self.create_path = create_path  # another only for the legacy-charges-api seeded bug

    async def aclose(self) -> None:
        await self.http.aclose()

    async def create_intent(
        self, form: dict[str, str], idempotency_key: str, traceparent: str | None = None
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key}
        if traceparent:
            headers["traceparent"] = traceparent
        return await self.http.post(self.create_path, data=form, headers=headers)

    async def capture_intent(self, intent_id: str, idempotency_key: str, traceparent: str | None = None
                             ) -> httpx.Response:
        return await self._post(f"/v1/payment_intents/{intent_id}/capture", idempotency_key, traceparent)

    async def cancel_intent(self, intent_id: str, idempotency_key: str, traceparent: str | None = None
                            ) -> httpx.Response:
        return await self._post(f"/v1/payment_intents/{intent_id}/cancel", idempotency_key, traceparent)

    async def _post(self, path: str, idempotency_key: str, traceparent: str | None) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key}
        if traceparent:
            headers["traceparent"] = traceparent
        return await self.http.post(path, headers=headers)

    async def find_order(self, order_id: str, traceparent: str | None = None) -> Found | None:
        """Search the order's intents; the best news wins: succeeded > declined > processing.

        Returns None when nothing charged or chargeable was found.
        """
        headers = {"traceparent": traceparent} if traceparent else {}
        try:
            response = await self.http.get(
                "/v1/payment_intents/search",
                params={"query": search_query(order_id), "limit": "100"},
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise LookupFailed(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise LookupFailed(f"search answered {response.status_code}")
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError) as exc:
            raise LookupFailed("search answered a body that is not a JSON object") from exc
        if not isinstance(data, list):
            raise LookupFailed("search answer has no `data` list")
        return _best(intent for intent in data if isinstance(intent, dict))


def _best(intents: Iterable[dict[str, Any]]) -> Found | None:
    declined: Found | None = None
    processing: Found | None = None
    for intent in intents:
        intent_id, status = intent.get("id"), intent.get("status")
        if not isinstance(intent_id, str):
            continue
        if status == "succeeded":
            # Money moved: that is the answer whatever else the search holds.
            return Found("succeeded", intent_id)
        last_error = intent.get("last_payment_error")
        if status == "requires_payment_method" and isinstance(last_error, dict):
            declined = declined or Found("declined", intent_id, last_error)
        elif status in ("processing", "requires_capture"):
            processing = processing or Found("processing", intent_id, status=status)
    return declined or processing
