"""The payment service: one order, at most one charge, always a final answer.

    POST -> create-or-get the order row (processing)
         -> attempts (same key, bounded, backed off)
         -> succeeded | declined                         the provider said so
         -> any attempt ambiguous? look the order up      succeeded | declined | pending
         -> nothing ambiguous: failed (nothing was charged)
    pending -> the reconciler looks again until found, or the window closes -> failed

With manual capture the create only authorises (a hold on the card); the
service then captures (same discipline, a key of its own). A capture that
cannot be made releases the hold (cancel) before the order is failed; when
even that cannot be done the order stays pending and the reconciler, finding
the hold, tries the capture again.

Each order's attempts run in a task owned by the service, not by the HTTP
request: a client that hangs up does not abandon a charge half-way, and a
repeat POST for the same order simply awaits the same task.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .attempts import PaymentAttempts, Sleep, new_idempotency_key
from .bugs import FailOnAmbiguous, ForgetUnpaid, GuessOnUnknown, HoldLeftOpen, ReconcileNewKey, SucceedOnAmbiguous
from .cardpay import CardpayClient, Found, LookupFailed
from .config import Settings
from .logs import log_event
from .outcomes import AttemptResult, Kind
from .store import DECLINED, FAILED, SUCCEEDED, Order, OrderStore
from .user_errors import (
    UserError,
    from_card_error,
    from_provider_refusal,
    payment_unconfirmed,
    provider_unavailable,
)

__all__ = ["PaymentRequest", "PaymentService"]


@dataclass(frozen=True)
class PaymentRequest:
    order_id: str
    amount: int
    currency: str
    payment_method: str
    customer_name: str
    customer_email: str
    description: str | None = None

    def provider_form(self) -> dict[str, str]:
        """The create body; identical on every attempt, or the key would be refused (400).

        The customer's name and email are validated but not sent: the provider
        does not need them to charge the card.
        """
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "payment_method": self.payment_method,
            "confirm": "true",
            "metadata[order_id]": self.order_id,
            "description": self.description or f"Order {self.order_id}",
        }

    def authorise_form(self) -> dict[str, str]:
        """The create body with manual capture: the confirmation only holds the money."""
        return {**self.provider_form(), "capture_method": "manual"}


class PaymentService:
    def __init__(
        self,
        settings: Settings,
        store: OrderStore,
        client: CardpayClient,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.clock = clock
        self.attempts = PaymentAttempts(settings, client, store, sleep=sleep, rng=rng, clock=clock)
        self._inflight: dict[str, asyncio.Task[Order]] = {}
        self._forms: dict[str, dict[str, str]] = {}  # only for the reconcile-new-key seeded bug

    # ---- entry points -------------------------------------------------

    async def pay(self, request: PaymentRequest, traceparent: str | None = None) -> Order:
        order, created = self.store.create_or_get(
            request.order_id,
            request.amount,
            request.currency,
            new_idempotency_key(request.order_id),
            self.clock(),
        )
        if created:
            if ReconcileNewKey in self.settings.bugs:
                self._forms[request.order_id] = request.provider_form()
            # No await between the insert and registering the task: a concurrent
            # repeat either finds the row AND the task, or creates both itself.
            task = asyncio.create_task(self._process(order, request, traceparent), name=f"pay-{order.order_id}")
            self._inflight[order.order_id] = task
            task.add_done_callback(lambda done: self._forget(order.order_id, done))
        else:
            if (order.amount, order.currency) != (request.amount, request.currency):
                log_event(
                    "decision",
                    decision="repeat_with_other_parameters",
                    order_id=order.order_id,
                    stored=f"{order.amount} {order.currency}",
                    asked=f"{request.amount} {request.currency}",
                )
            log_event("decision", decision="repeat", order_id=order.order_id, status=order.status)
            task = self._inflight.get(order.order_id)
            if task is None:
                return order
        # shield: a cancelled request (client gone) must not cancel the payment.
        return await asyncio.shield(task)

    def get(self, order_id: str) -> Order | None:
        order = self.store.get(order_id)
        if order is not None and ForgetUnpaid in self.settings.bugs and order.status in (DECLINED, FAILED):
            return None
        return order

    def is_inflight(self, order_id: str) -> bool:
        return order_id in self._inflight

    async def reconcile(self, order: Order, traceparent: str | None = None) -> Order:
        """One reconciler pass over an unresolved order (called by `Reconciler`)."""
        form = self._forms.pop(order.order_id, None)
        if form is not None:  # seeded bug: charge again, under a key of its own
            try:
                await self.client.create_intent(form, f"{order.idempotency_key}-reconcile", traceparent)
            except Exception as exc:  # noqa: BLE001 - the lookup below decides
                log_event("decision", decision="reconcile_charge_failed", order_id=order.order_id, error=repr(exc))
        answered, found = await self._lookup(order.order_id, traceparent)
        if found is not None and found.status == "requires_capture" and self.manual_capture:
            return await self._capture(order, found.intent_id, traceparent)
        if found is not None and found.outcome != "processing":
            return self._apply_found(order.order_id, found, via="reconciler")
        window_start = order.last_attempt_at or order.updated_at
        nothing_there = answered and found is None
        if nothing_there and self.clock() >= window_start + self.settings.reconcile_window_s:
            # Only a lookup that ANSWERED "nothing" closes the window: a failed
            # lookup tells us nothing, and failing a charge that went through
            # is the one thing this service must not do.
            return self._finish(order.order_id, FAILED, error=payment_unconfirmed(), reason="window_closed")
        return order

    async def shutdown(self) -> None:
        """Cancel attempts in flight; their rows stay `processing` and the next start reconciles them."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- one payment --------------------------------------------------

    @property
    def manual_capture(self) -> bool:
        return self.settings.capture == "manual"

    async def _process(self, order: Order, request: PaymentRequest, traceparent: str | None) -> Order:
        form = request.authorise_form() if self.manual_capture else request.provider_form()
        outcome = await self.attempts.run(order.order_id, order.idempotency_key, form, traceparent)
        final = outcome.final
        if final.kind is Kind.UNCONFIRMED and final.intent_status == "requires_capture" and self.manual_capture:
            return await self._capture(order, final.intent_id, traceparent)
        if final.kind is Kind.SUCCEEDED:
            return self._finish(order.order_id, SUCCEEDED, payment_intent=final.intent_id, reason="provider_succeeded")
        if final.kind is Kind.DECLINED:
            return self._finish(
                order.order_id,
                DECLINED,
                payment_intent=final.intent_id,
                error=from_card_error(final.error),
                provider=_provider_detail(final),
                reason="provider_declined",
            )
        if final.kind is Kind.UNCONFIRMED:
            return self._pending(order.order_id, reason=f"intent {final.intent_status}")
        if final.ambiguous and GuessOnUnknown in self.settings.bugs:
            return self._finish(order.order_id, FAILED, error=payment_unconfirmed(), reason="last_attempt_unknown_assumed_failed")
        if outcome.ambiguous and FailOnAmbiguous in self.settings.bugs:
            return self._finish(order.order_id, FAILED, error=payment_unconfirmed(), reason="ambiguous_assumed_failed")
        if outcome.ambiguous and SucceedOnAmbiguous in self.settings.bugs:
            return self._finish(order.order_id, SUCCEEDED, reason="ambiguous_assumed_succeeded")
        if outcome.ambiguous:
            # The provider may have committed under our key: ask before answering.
            _, found = await self._lookup(order.order_id, traceparent)
            if found is not None and found.status == "requires_capture" and self.manual_capture:
                return await self._capture(order, found.intent_id, traceparent)
            if found is None or found.outcome == "processing":
                return self._pending(order.order_id, reason="ambiguous, lookup found nothing final")
            return self._apply_found(order.order_id, found, via="lookup")
        if final.kind is Kind.TRANSIENT:
            return self._finish(
                order.order_id,
                FAILED,
                error=provider_unavailable(),
                provider=_provider_detail(final),
                reason="attempts_exhausted_not_accepted",
            )
        return self._finish(
            order.order_id,
            FAILED,
            error=from_provider_refusal(final.status, final.error),
            provider=_provider_detail(final),
            reason="provider_refused",
        )

    async def _capture(self, order: Order, intent_id: str, traceparent: str | None) -> Order:
        """Capture an authorised intent; failing that, release the hold before failing the order."""
        order_id, key = order.order_id, order.idempotency_key
        captured = await self.attempts.run(
            order_id, f"{key}-capture", {}, traceparent,
            call=lambda k: self.client.capture_intent(intent_id, k, traceparent), endpoint="payment_intents.capture",
        )
        if captured.final.kind is Kind.SUCCEEDED:
            return self._finish(order_id, SUCCEEDED, payment_intent=intent_id, reason="provider_captured")
        if captured.ambiguous:
            # The capture may have gone through: ask before releasing anything.
            _, found = await self._lookup(order_id, traceparent)
            if found is not None and found.outcome == "succeeded":
                return self._apply_found(order_id, found, via="lookup")
            if found is None or found.status != "requires_capture":
                return self._pending(order_id, reason="capture ambiguous, lookup found nothing final")
        if HoldLeftOpen in self.settings.bugs:
            return self._finish(order_id, FAILED, error=provider_unavailable(), payment_intent=intent_id,
                                provider=_provider_detail(captured.final), reason="capture_failed")
        released = await self.attempts.run(
            order_id, f"{key}-release", {}, traceparent,
            call=lambda k: self.client.cancel_intent(intent_id, k, traceparent), endpoint="payment_intents.cancel",
        )
        if released.final.intent_status == "canceled":
            return self._finish(order_id, FAILED, error=provider_unavailable(), payment_intent=intent_id,
                                provider=_provider_detail(captured.final), reason="capture_failed_hold_released")
        return self._pending(order_id, reason="capture failed and the hold could not be released yet")

    async def _lookup(self, order_id: str, traceparent: str | None) -> tuple[bool, Found | None]:
        """Search the order's intents: (did the provider answer, what it found)."""
        started = time.monotonic()
        try:
            found = await self.client.find_order(order_id, traceparent)
        except LookupFailed as exc:
            found, failure = None, str(exc)
        else:
            failure = None
        log_event(
            "provider_call",
            endpoint="payment_intents.search",
            order_id=order_id,
            outcome=failure or (found.outcome if found else "nothing_found"),
            payment_intent=found.intent_id if found else None,
            elapsed_s=round(time.monotonic() - started, 6),
            trace=traceparent,
        )
        return failure is None, found

    def _apply_found(self, order_id: str, found: Found, *, via: str) -> Order:
        if found.outcome == "succeeded":
            return self._finish(order_id, SUCCEEDED, payment_intent=found.intent_id, reason=f"{via}_found_succeeded")
        return self._finish(
            order_id,
            DECLINED,
            payment_intent=found.intent_id,
            error=from_card_error(found.error),
            provider=found.error,
            reason=f"{via}_found_declined",
        )

    def _pending(self, order_id: str, *, reason: str) -> Order:
        self.store.mark_pending(order_id, self.clock())
        log_event("decision", decision="pending", order_id=order_id, reason=reason)
        order = self.store.get(order_id)
        assert order is not None
        return order

    def _finish(
        self,
        order_id: str,
        status: str,
        *,
        reason: str,
        payment_intent: str | None = None,
        error: UserError | None = None,
        provider: dict[str, Any] | None = None,
    ) -> Order:
        stored_error = None
        if error is not None:
            # The provider's own codes stay in the row for support; answers never show them.
            stored_error = {**error.as_dict(), "provider": provider}
        written = self.store.finish(order_id, status, self.clock(), payment_intent=payment_intent, error=stored_error)
        log_event(
            "decision",
            decision=status if written else "already_final",
            order_id=order_id,
            reason=reason,
            payment_intent=payment_intent,
            error_code=error.code if error else None,
        )
        order = self.store.get(order_id)
        assert order is not None
        return order

    def _forget(self, order_id: str, task: asyncio.Task[Order]) -> None:
        self._inflight.pop(order_id, None)
        if not task.cancelled() and task.exception() is not None:
            # The row stays unresolved; the reconciler will finish it.
            log_event("decision", decision="crashed", order_id=order_id, error=repr(task.exception()))


def _provider_detail(result: AttemptResult) -> dict[str, Any]:
    detail: dict[str, Any] = {"status": result.status, "exception": result.exception}
    if result.error:
        for name in ("type", "code", "decline_code", "message"):
            if result.error.get(name):
                detail[name] = result.error[name]
    return detail
