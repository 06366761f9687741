"""CardPay driven by the official stripe SDK against the real host process."""

from __future__ import annotations

import asyncio

import pytest
import stripe

from mock_providers.cardpay import TEST_CARDS

from ._helpers import pay_params, sdk, wait_for

pytestmark = pytest.mark.integration

CARDS = sorted(TEST_CARDS)


def _card_data(number: str) -> dict:
    return {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"}}


async def _check_card(client, ctl, name: str, params: dict):
    card = TEST_CARDS[name]
    if card.outcome == "declined":
        with pytest.raises(stripe.CardError) as info:
            await sdk(client.v1.payment_intents.create, params)
        err = info.value
        assert err.http_status == 402
        assert err.code == card.code
        assert err.error.decline_code == card.decline_code
        assert err.error.message == card.message
        assert err.headers["stripe-should-retry"] == "false"
        pi = err.error.payment_intent
        assert pi.status == "requires_payment_method"
        assert pi.last_payment_error.code == card.code
    else:
        pi = await sdk(client.v1.payment_intents.create, params)
        assert pi.status == card.outcome
        if card.outcome == "requires_action":
            assert pi.next_action.type == "use_stripe_sdk"
    ledger = await ctl.ledger()
    charges = [e for e in ledger["entries"] if e["kind"] == "charge"]
    assert len(charges) == (1 if card.outcome == "succeeded" else 0)
    assert [i["order_ref"] for i in ledger["objects"]] == [params["metadata"]["order_id"]]


@pytest.mark.parametrize("name", CARDS)
async def test_every_test_card_as_payment_method(cardpay, stripe_client, name):
    url, ctl = cardpay
    await _check_card(stripe_client(url), ctl, name, pay_params(f"pm-{name}", TEST_CARDS[name].payment_method))


@pytest.mark.parametrize("name", CARDS)
async def test_every_test_card_as_raw_number(cardpay, stripe_client, name):
    url, ctl = cardpay
    params = pay_params(f"num-{name}", payment_method_data=_card_data(TEST_CARDS[name].number))
    del params["payment_method"]
    await _check_card(stripe_client(url), ctl, name, params)
    entry = (await ctl.journal())["entries"][-1]
    assert entry["params"]["payment_method_data[card][number]"].endswith(TEST_CARDS[name].number[-4:])
    assert entry["params"]["payment_method_data[card][number]"].startswith("*")


async def test_same_key_replays_the_same_object(cardpay, stripe_client):
    url, ctl = cardpay
    client = stripe_client(url)
    first = await sdk(client.v1.payment_intents.create, pay_params("r1"), {"idempotency_key": "rk1"})
    again = await sdk(client.v1.payment_intents.create, pay_params("r1"), {"idempotency_key": "rk1"})
    assert again.id == first.id and again.to_dict() == first.to_dict()
    assert again.last_response.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.last_response.headers
    assert again.last_response.request_id != first.last_response.request_id
    assert len((await ctl.ledger())["entries"]) == 1
    entries = (await ctl.journal())["entries"]
    assert [e["response"]["replayed"] for e in entries] == [False, True]
    assert [e["committed"] for e in entries] == [True, False]


async def test_declines_are_replayed_too(cardpay, stripe_client):
    url, _ = cardpay
    client = stripe_client(url)
    params = pay_params("d1", "pm_card_visa_chargeDeclinedInsufficientFunds")
    bodies = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as info:
            await sdk(client.v1.payment_intents.create, params, {"idempotency_key": "dk1"})
        bodies.append(info.value.http_body)
    assert bodies[0] == bodies[1]
    assert info.value.headers["idempotent-replayed"] == "true"


async def test_same_key_other_parameters_is_400(cardpay, stripe_client):
    url, ctl = cardpay
    client = stripe_client(url)
    await sdk(client.v1.payment_intents.create, pay_params("m1"), {"idempotency_key": "mk1"})
    with pytest.raises(stripe.IdempotencyError) as info:
        await sdk(client.v1.payment_intents.create, pay_params("m1", amount=9900), {"idempotency_key": "mk1"})
    assert info.value.http_status == 400
    assert "same parameters" in info.value.user_message
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        await sdk(client.v1.refunds.create, {"payment_intent": "pi_x"}, {"idempotency_key": "mk1"})
    assert len((await ctl.ledger())["entries"]) == 1


async def test_same_key_while_the_first_runs_is_409(cardpay, stripe_client):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "delay", "delay_ms": 600, "first_n": 1})
    client = stripe_client(url)
    first = asyncio.ensure_future(
        sdk(client.v1.payment_intents.create, pay_params("c1"), {"idempotency_key": "ck1"}))
    await wait_for(lambda: _journal_len(ctl, 1), what="first request reached the provider")
    with pytest.raises(stripe.APIError) as info:
        await sdk(client.v1.payment_intents.create, pay_params("c1"), {"idempotency_key": "ck1"})
    assert info.value.http_status == 409 and info.value.error.code == "idempotency_key_in_use"
    pi = await first
    assert pi.status == "succeeded"
    # Nothing was saved for the 409: the key now replays the first request's answer.
    again = await sdk(client.v1.payment_intents.create, pay_params("c1"), {"idempotency_key": "ck1"})
    assert again.id == pi.id and again.last_response.headers["idempotent-replayed"] == "true"
    assert len((await ctl.ledger())["entries"]) == 1


async def _journal_len(ctl, n):
    return len((await ctl.journal())["entries"]) >= n


async def test_a_500_is_saved_and_replayed(cardpay, stripe_client):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "status", "status": 500, "first_n": 1})
    client = stripe_client(url)
    for replayed in (False, True):
        with pytest.raises(stripe.APIError) as info:
            await sdk(client.v1.payment_intents.create, pay_params("e1"), {"idempotency_key": "ek1"})
        assert info.value.http_status == 500
        assert info.value.headers["stripe-should-retry"] == "false"
        assert (info.value.headers.get("idempotent-replayed") == "true") is replayed
    assert (await ctl.ledger())["entries"] == []


@pytest.mark.parametrize("rule", [{"kind": "rate_limit", "retry_after_s": 0.2},
                                  {"kind": "status", "status": 503}])
async def test_nothing_is_saved_on_front_door_errors(cardpay, stripe_client, rule):
    url, ctl = cardpay
    await ctl.add_fault({**rule, "first_n": 1})
    client = stripe_client(url)
    with pytest.raises((stripe.RateLimitError, stripe.APIError)):
        await sdk(client.v1.payment_intents.create, pay_params("f1"), {"idempotency_key": "fk1"})
    pi = await sdk(client.v1.payment_intents.create, pay_params("f1"), {"idempotency_key": "fk1"})
    assert pi.status == "succeeded" and "idempotent-replayed" not in pi.last_response.headers


async def test_nothing_is_saved_on_401_and_keys_are_configurable(cardpay, stripe_client):
    url, ctl = cardpay
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key provided: pk_\\*\\*\\*\\*"):
        await sdk(stripe_client(url, key="pk_nope").v1.payment_intents.create, pay_params("a1"),
                  {"idempotency_key": "ak1"})
    pi = await sdk(stripe_client(url).v1.payment_intents.create, pay_params("a1"), {"idempotency_key": "ak1"})
    assert "idempotent-replayed" not in pi.last_response.headers
    await ctl.configure(api_keys=["sk_test_only"])
    with pytest.raises(stripe.AuthenticationError):
        await sdk(stripe_client(url).v1.payment_intents.retrieve, pi.id)
    assert (await sdk(stripe_client(url, key="sk_test_only").v1.payment_intents.retrieve, pi.id)).id == pi.id
    entry = (await ctl.journal())["entries"][0]
    assert entry["response"]["status"] == 401 and entry["headers"]["authorization"] == "Bearer pk_****"


async def test_sdk_retry_gets_through_a_503(cardpay, stripe_client):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "status", "status": 503, "first_n": 1})
    pi = await sdk(stripe_client(url, retries=2).v1.payment_intents.create, pay_params("s1"))
    assert pi.status == "succeeded"
    entries = (await ctl.journal())["entries"]
    assert [e["response"]["status"] for e in entries] == [503, 200]
    assert entries[0]["idempotency_key"] == entries[1]["idempotency_key"] is not None
    assert len((await ctl.ledger())["entries"]) == 1


async def test_sdk_retry_after_commit_drop_gets_the_replay_and_one_charge(cardpay, stripe_client):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "commit_drop", "first_n": 1})
    pi = await sdk(stripe_client(url, retries=2).v1.payment_intents.create, pay_params("cd1"))
    assert pi.status == "succeeded"
    assert pi.last_response.headers["idempotent-replayed"] == "true"
    entries = (await ctl.journal())["entries"]
    assert [(e["delivery"], e["committed"]) for e in entries] == [("dropped", True), ("delivered", False)]
    charges = [e for e in (await ctl.ledger())["entries"] if e["kind"] == "charge"]
    assert len(charges) == 1 and charges[0]["object_id"] == pi.id and charges[0]["order_ref"] == "cd1"


async def test_without_retries_commit_drop_leaves_an_unknown_outcome(cardpay, stripe_client):
    url, ctl = cardpay
    await ctl.add_fault({"kind": "commit_drop"})
    with pytest.raises(stripe.APIConnectionError):
        await sdk(stripe_client(url).v1.payment_intents.create, pay_params("u1"))
    assert len((await ctl.ledger())["entries"]) == 1


async def test_search_by_order_reference(cardpay, stripe_client):
    url, ctl = cardpay
    client = stripe_client(url)
    ids = []
    for pm in ("pm_card_visa_chargeDeclined", "pm_card_visa"):
        try:
            ids.append((await sdk(client.v1.payment_intents.create, pay_params("srch", pm))).id)
        except stripe.CardError as exc:
            ids.append(exc.error.payment_intent.id)
    await sdk(client.v1.payment_intents.create, pay_params("other"))
    result = await sdk(client.v1.payment_intents.search, {"query": "metadata['order_id']:'srch'"})
    assert result.object == "search_result" and result.has_more is False
    assert [pi.id for pi in result.data] == ids[::-1]  # newest first
    both = await sdk(client.v1.payment_intents.search,
                     {"query": "metadata['order_id']:'srch' AND status:'succeeded'"})
    assert [pi.id for pi in both.data] == [ids[1]]
    none = await sdk(client.v1.payment_intents.search, {"query": 'metadata["order_id"]:"nobody"'})
    assert none.data == []
    with pytest.raises(stripe.InvalidRequestError, match="Invalid search query"):
        await sdk(client.v1.payment_intents.search, {"query": "amount>5"})
    entry = [e for e in (await ctl.journal())["entries"] if e["endpoint"] == "payment_intents.search"][0]
    assert entry["order_ref"] == "srch"


async def test_refunds(cardpay, stripe_client):
    url, ctl = cardpay
    client = stripe_client(url)
    pi = await sdk(client.v1.payment_intents.create, pay_params("rf1", amount=1000))
    part = await sdk(client.v1.refunds.create, {"payment_intent": pi.id, "amount": 300})
    assert part.object == "refund" and part.amount == 300 and part.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as info:
        await sdk(client.v1.refunds.create, {"payment_intent": pi.id, "amount": 800})
    assert info.value.code == "amount_too_large"
    rest = await sdk(client.v1.refunds.create, {"payment_intent": pi.id})
    assert rest.amount == 700
    with pytest.raises(stripe.InvalidRequestError) as info:
        await sdk(client.v1.refunds.create, {"payment_intent": pi.id, "amount": 1})
    assert info.value.code == "charge_already_refunded" and info.value.http_status == 400
    ledger = await ctl.ledger()
    assert [(e["kind"], e["amount"], e["order_ref"]) for e in ledger["entries"]] == \
        [("charge", 1000, "rf1"), ("refund", 300, "rf1"), ("refund", 700, "rf1")]
    assert ledger["objects"][0]["amount_refunded"] == 1000
    with pytest.raises(stripe.InvalidRequestError) as info:
        await sdk(client.v1.refunds.create, {"payment_intent": "pi_missing"})
    assert info.value.http_status == 404 and info.value.code == "resource_missing"


async def test_confirm_cancel_retrieve_lifecycle(cardpay, stripe_client):
    url, ctl = cardpay
    client = stripe_client(url)
    pi = await sdk(client.v1.payment_intents.create,
                   {"amount": 500, "currency": "eur", "payment_method": "pm_card_visa",
                    "metadata": {"order_id": "lc1"}, "description": "two tickets"})
    assert pi.status == "requires_confirmation" and pi.description == "two tickets"
    done = await sdk(client.v1.payment_intents.confirm, pi.id)
    assert done.status == "succeeded" and done.amount_received == 500
    with pytest.raises(stripe.InvalidRequestError, match="status of succeeded"):
        await sdk(client.v1.payment_intents.confirm, pi.id)
    with pytest.raises(stripe.InvalidRequestError, match="cannot cancel"):
        await sdk(client.v1.payment_intents.cancel, pi.id)
    assert (await sdk(client.v1.payment_intents.retrieve, pi.id)).status == "succeeded"
    other = await sdk(client.v1.payment_intents.create, {"amount": 700, "currency": "usd",
                                                         "metadata": {"order_id": "lc2"}})
    assert other.status == "requires_payment_method"
    with pytest.raises(stripe.CardError):
        await sdk(client.v1.payment_intents.confirm, other.id, {"payment_method": "pm_card_chargeDeclined"})
    canceled = await sdk(client.v1.payment_intents.cancel, other.id, {"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    with pytest.raises(stripe.InvalidRequestError) as info:
        await sdk(client.v1.payment_intents.retrieve, "pi_nope")
    assert info.value.http_status == 404
    refs = [(e["endpoint"], e["order_ref"]) for e in (await ctl.journal())["entries"]]
    assert ("payment_intents.confirm", "lc1") in refs and ("payment_intents.cancel", "lc2") in refs


async def test_parameter_validation_saves_nothing(cardpay, stripe_client):
    url, ctl = cardpay
    client = stripe_client(url)
    for params, code in [({"currency": "usd"}, "parameter_missing"),
                         ({"amount": 10, "currency": "usd"}, "amount_too_small"),
                         ({"amount": 1000, "currency": "usd", "bogus": "1"}, "parameter_unknown"),
                         ({"amount": 1000, "currency": "usd", "payment_method": "pm_unknown"}, "resource_missing")]:
        with pytest.raises(stripe.InvalidRequestError) as info:
            await sdk(client.v1.payment_intents.create, params, {"idempotency_key": "vk"})
        assert info.value.code == code
    ok = await sdk(client.v1.payment_intents.create, pay_params("v1"), {"idempotency_key": "vk"})
    assert ok.status == "succeeded"
