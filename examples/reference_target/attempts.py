"""The attempts of one provider call of a payment (create; with manual capture
also capture and cancel), under the retry policy (tenacity).

Policy of the correct service:
- at most `max_attempts` attempts, counting the first;
- retry only transient outcomes (see `outcomes`); never a decline or a refusal;
- wait equal-jitter backoff, at least the provider's Retry-After (`backoff`);
- give up at once if Retry-After is longer than we can afford;
- the SAME Idempotency-Key on every attempt, so a replay can never charge twice.

Each seeded retry bug changes one of those lines, here and nowhere else.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt
from tenacity.stop import stop_base

from .backoff import EqualJitterBackoff, StopWhenRetryAfterTooLong
from .bugs import (
    DoubleChargeOnTimeout,
    IgnoreRetryAfter,
    NewKeyPerAttempt,
    NoBackoff,
    NoRetry,
    RetryDeclines,
    UnboundedRetry,
)
from .cardpay import CardpayClient
from .config import Settings
from .logs import log_event
from .outcomes import AttemptResult, Kind, classify_exception, classify_response
from .store import OrderStore

__all__ = ["PaymentAttempts", "AttemptsOutcome", "new_idempotency_key", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


def new_idempotency_key(order_id: str) -> str:
    # Random part: a reused order id after a DB wipe must not replay an old charge. The "k" keeps
    # the hex from ever standing alone as 16 digits, which a log scanner would take for a card number.
    return f"pay-{order_id}-k{secrets.token_hex(8)}"


@dataclass
class AttemptsOutcome:
    """Every attempt of one payment, in order, with the key each one used."""

    order_id: str
    history: list[AttemptResult] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    @property
    def final(self) -> AttemptResult:
        return self.history[-1]

    @property
    def ambiguous(self) -> bool:
        """True if ANY attempt may have committed a charge we did not see."""
        return any(result.ambiguous for result in self.history)


class PaymentAttempts:
    """Runs `create PaymentIntent` attempts; knows nothing about answers or lookups."""

    def __init__(
        self,
        settings: Settings,
        client: CardpayClient,
        store: OrderStore,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.sleep = sleep
        self.rng = rng or random.Random(settings.seed)
        self.clock = clock

    @property
    def max_attempts(self) -> int:
        bugs = self.settings.bugs
        if NoRetry in bugs:
            return 1
        if UnboundedRetry in bugs:
            return UnboundedRetry.attempts
        return self.settings.max_attempts

    def _should_retry(self, result: AttemptResult) -> bool:
        if result.kind is Kind.DECLINED and RetryDeclines in self.settings.bugs:
            return True
        return result.transient

    def _stop(self) -> stop_base:
        stop: stop_base = stop_after_attempt(self.max_attempts)
        if IgnoreRetryAfter not in self.settings.bugs:
            stop = stop | StopWhenRetryAfterTooLong(self.settings.retry_after_max_s)
        return stop

    def _wait(self) -> EqualJitterBackoff:
        bugs = self.settings.bugs
        return EqualJitterBackoff(
            self.settings.backoff_initial_s,
            self.settings.backoff_max_s,
            self.rng,
            backoff=NoBackoff not in bugs,
            honour_retry_after=IgnoreRetryAfter not in bugs,
        )

    async def run(
        self,
        order_id: str,
        base_key: str,
        form: dict[str, str],
        traceparent: str | None = None,
        *,
        call: Callable[[str], Awaitable[httpx.Response]] | None = None,
        endpoint: str = "payment_intents.create",
    ) -> AttemptsOutcome:
        """Attempts of `call(key)` (by default: create the intent with `form`)."""
        outcome = AttemptsOutcome(order_id)
        if call is None:
            call = lambda key: self.client.create_intent(form, key, traceparent)  # noqa: E731
        retrying = AsyncRetrying(
            stop=self._stop(),
            wait=self._wait(),
            retry=retry_if_result(self._should_retry),
            sleep=self.sleep,
            before_sleep=lambda state: self._log_retry(outcome, state),
            # Out of attempts: hand back the last result instead of RetryError.
            retry_error_callback=lambda state: state.outcome.result(),
        )
        await retrying(self._attempt, outcome, base_key, call, endpoint, traceparent)
        if self._should_retry(outcome.final):
            log_event(
                "decision",
                decision="give_up",
                order_id=order_id,
                attempts=len(outcome.history),
                last=outcome.final.describe(),
                ambiguous=outcome.ambiguous,
            )
        return outcome

    def _key_for(self, outcome: AttemptsOutcome, base_key: str) -> str:
        if not outcome.history:
            return base_key
        bugs = self.settings.bugs
        if NewKeyPerAttempt in bugs:
            return new_idempotency_key(outcome.order_id)
        if DoubleChargeOnTimeout in bugs and outcome.final.ambiguous:
            return new_idempotency_key(outcome.order_id)
        return outcome.keys[-1]

    async def _attempt(
        self,
        outcome: AttemptsOutcome,
        base_key: str,
        call: Callable[[str], Awaitable[httpx.Response]],
        endpoint: str,
        traceparent: str | None,
    ) -> AttemptResult:
        number = len(outcome.history) + 1
        key = self._key_for(outcome, base_key)
        self.store.record_attempt(outcome.order_id, number, self.clock())
        started = time.monotonic()
        try:
            response = await call(key)
        except httpx.HTTPError as exc:
            result = classify_exception(exc)
        else:
            result = classify_response(response)
        elapsed = time.monotonic() - started
        # The reconcile window runs from the END of the last attempt.
        self.store.record_attempt(outcome.order_id, number, self.clock())
        outcome.history.append(result)
        outcome.keys.append(key)
        log_event(
            "provider_call",
            endpoint=endpoint,
            order_id=outcome.order_id,
            attempt=number,
            idempotency_key=key,
            status=result.status,
            exception=result.exception,
            outcome=result.describe(),
            kind=result.kind.value,
            ambiguous=result.ambiguous,
            retry_after_s=result.retry_after_s,
            elapsed_s=round(elapsed, 6),
            trace=traceparent,
        )
        return result

    def _log_retry(self, outcome: AttemptsOutcome, state: RetryCallState) -> None:
        log_event(
            "decision",
            decision="retry",
            order_id=outcome.order_id,
            after_attempt=state.attempt_number,
            reason=outcome.final.describe(),
            sleep_s=round(state.next_action.sleep, 6) if state.next_action else None,
        )
