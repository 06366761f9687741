"""The ASGI app (starlette): routes of docs/interfaces.md section 7 and the lifespan.

The lifespan owns every long-lived resource: the SQLite store, the ONE shared
httpx client, the payment service and the background reconciler. Tests drive
the same lifespan in-process (`app.router.lifespan_context(app)`).

    app = create_app(Settings.from_env())
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .answers import render_invalid, render_order
from .attempts import Sleep
from .bugs import LegacyChargesApi, NoClientTimeout
from .cardpay import CardpayClient, build_http_client
from .config import Settings
from .logs import log_event
from .reconciler import Reconciler
from .service import PaymentService
from .store import OrderStore
from .user_errors import UserError, invalid_request
from .validation import parse_payment

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    *,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the app; `sleep`, `rng` and `clock` are injectable so tests need not wait."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = OrderStore(settings.db_path)
        timeout_s = None if NoClientTimeout in settings.bugs else settings.timeout_s
        create_path = "/v1/charges" if LegacyChargesApi in settings.bugs else "/v1/payment_intents"
        client = CardpayClient(build_http_client(settings.cardpay_base_url, settings.cardpay_api_key, timeout_s),
                               create_path)
        service_kwargs = {"rng": rng, "clock": clock}
        if sleep is not None:
            service_kwargs["sleep"] = sleep
        service = PaymentService(settings, store, client, **service_kwargs)
        reconciler = Reconciler(service, settings.reconcile_interval_s)
        app.state.service = service
        app.state.reconciler = reconciler
        log_event(
            "started",
            provider=settings.cardpay_base_url,
            db=settings.db_path,
            bugs=",".join(settings.bugs) or None,
            timeout_s=timeout_s,
            max_attempts=service.attempts.max_attempts,
            unresolved_orders=len(store.unresolved()),
        )
        reconciler.start()  # its first sweep picks up what a previous run left pending
        try:
            yield
        finally:
            await reconciler.stop()
            await service.shutdown()
            await client.aclose()
            store.close()
            log_event("stopped")

    def error_response(error: UserError, order_id: str | None = None) -> JSONResponse:
        status, body = render_invalid(error, contact=settings.contact, bugs=settings.bugs, order_id=order_id)
        return JSONResponse(body, status_code=status)

    async def create_payment(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return error_response(
                invalid_request(
                    "The request body is not valid JSON.",
                    "Send a JSON object with order_id, amount, currency, payment_method and customer.",
                    code="invalid_json",
                )
            )
        parsed = parse_payment(body)
        if isinstance(parsed, UserError):
            order_id = body.get("order_id") if isinstance(body, dict) else None
            return error_response(parsed, order_id if isinstance(order_id, str) else None)
        traceparent = request.headers.get("traceparent") or _new_traceparent()
        order = await request.app.state.service.pay(parsed, traceparent)
        status, answer = render_order(order, contact=settings.contact, bugs=settings.bugs)
        return JSONResponse(answer, status_code=status)

    async def get_payment(request: Request) -> JSONResponse:
        order_id = request.path_params["order_id"]
        order = request.app.state.service.get(order_id)
        if order is None:
            return JSONResponse(
                {
                    "order_id": order_id,
                    "error": {
                        "type": "not_found",
                        "code": "order_not_found",
                        "message": f"There is no payment for order {order_id}.",
                        "action": "Check the order id; if you paid, contact us with your receipt.",
                        "contact": settings.contact,
                    },
                },
                status_code=404,
            )
        status, answer = render_order(order, contact=settings.contact, bugs=settings.bugs)
        return JSONResponse(answer, status_code=status)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/payments", create_payment, methods=["POST"]),
            Route("/payments/{order_id}", get_payment, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _new_traceparent() -> str:
    """W3C trace context, so one payment's provider calls share a trace id."""
    # The span id starts with a letter: 16 hex digits that happen to be all decimal could pass
    # for a card number in a log.
    return f"00-{secrets.token_hex(16)}-{secrets.choice('abcdef')}{secrets.token_hex(8)[1:]}-01"
