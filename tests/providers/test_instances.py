"""Provider instances: two instances of one type in one host process, each
with its own journal, spill file, ledger, fault rules and fault draws; its
credentials set through the control API; faults matched by route role."""

from __future__ import annotations

import json

import pytest

from mock_providers.host import ProviderHost

from ._wire import form, request

pytestmark = pytest.mark.integration

PI = "/v1/payment_intents"


def pay(order: str, key: str | None = None) -> bytes:
    return form(amount=1000, currency="usd", confirm="true", payment_method="pm_card_visa",
                **{"metadata[order_id]": order})


async def test_two_instances_of_one_type_are_separate(tmp_path) -> None:
    host = ProviderHost(["primary", "backup"], types={"primary": "cardpay", "backup": "cardpay"}, seed=3,
                        journal_dir=tmp_path, journal_capacity=1)
    async with host:
        primary, backup = host.control("primary"), host.control("backup")
        assert (await primary.health())["type"] == "cardpay" and (await backup.health())["provider"] == "backup"
        await primary.add_fault({"kind": "status", "status": 503, "match": {"role": "charge"}})
        statuses = [(await request(host.urls["primary"], PI, pay(f"p{i}")))[0] for i in range(3)]
        statuses += [(await request(host.urls["backup"], PI, pay(f"b{i}")))[0] for i in range(2)]
        assert statuses == [503, 503, 503, 200, 200], "the fault is on primary only"
        p_entries, b_entries = await primary.journal_all(), await backup.journal_all()
        assert [e["order_ref"] for e in p_entries] == ["p0", "p1", "p2"]
        assert [e["order_ref"] for e in b_entries] == ["b0", "b1"]
        assert {(e["provider"], e["type"], e["role"]) for e in p_entries + b_entries} == {
            ("primary", "cardpay", "charge"), ("backup", "cardpay", "charge")}
        assert {e["class"] for e in p_entries} == {"failed"} and {e["failure"] for e in p_entries} == {"unavailable"}
        assert all(e["fault"] is not None for e in p_entries) and all(e["fault"] is None for e in b_entries)
        assert (await primary.ledger())["entries"] == []
        assert [e["order_ref"] for e in (await backup.ledger())["entries"]] == ["b0", "b1"]
    spilled = {p.name: [json.loads(x)["provider"] for x in p.read_text().splitlines()]
               for p in tmp_path.glob("*.journal.jsonl")}
    assert spilled == {"primary.journal.jsonl": ["primary"] * 3, "backup.journal.jsonl": ["backup"] * 2}


async def test_fault_draws_are_keyed_by_instance() -> None:
    """One seed, one rule, the same orders: each instance draws its own faulted set."""
    host = ProviderHost(["a", "b"], types={"a": "cardpay", "b": "cardpay"}, seed=11)
    async with host:
        faulted = {}
        for name in ("a", "b"):
            await host.control(name).add_fault({"kind": "status", "status": 503, "rate": 0.5})
            faulted[name] = {i for i in range(40) if (await request(host.urls[name], PI, pay(f"o{i}")))[0] == 503}
        assert 8 < len(faulted["a"]) < 32 and 8 < len(faulted["b"]) < 32
        assert faulted["a"] != faulted["b"]


async def test_credentials_from_the_profile_are_enforced() -> None:
    async with ProviderHost(["cardpay"]) as host:
        ctl, url = host.control("cardpay"), host.urls["cardpay"]
        await ctl.configure(credentials={"api_key": "sk_test_only_this"})
        assert (await request(url, PI, pay("o1")))[0] == 401
        ok = await request(url, PI, pay("o2"), {"Authorization": "Bearer sk_test_only_this"})
        assert ok[0] == 200
        from mock_providers.control import ControlError

        with pytest.raises(ControlError, match="credentials: \\['token'\\] are not credentials of cardpay"):
            await ctl.configure(credentials={"token": "x"})


async def test_a_rule_matched_by_role_leaves_other_roles_alone() -> None:
    async with ProviderHost(["cardpay"]) as host:
        ctl, url = host.control("cardpay"), host.urls["cardpay"]
        status, _, body = await request(url, PI, pay("o1"))
        intent = json.loads(body)["id"]
        await ctl.add_fault({"kind": "status", "status": 503, "match": {"role": "lookup"}})
        assert (await request(url, PI, pay("o2")))[0] == 200, "a charge is not a lookup"
        reader_status = (await request(url, f"{PI}/{intent}/cancel", b""))[0]
        assert reader_status == 400, "cancel is not a lookup either (it answers: already succeeded)"
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}{PI}/{intent}", headers={"Authorization": "Bearer sk_test_x"}) as resp:
                assert resp.status == 503, "a retrieve is a lookup"
        entries = await ctl.journal_all()
        assert [(e["role"], e["fault"] is not None) for e in entries] == [
            ("charge", False), ("charge", False), ("cancel", False), ("lookup", True)]


async def test_the_journal_marks_integration_mismatches_but_not_injected_faults() -> None:
    async with ProviderHost(["cardpay"]) as host:
        ctl, url = host.control("cardpay"), host.urls["cardpay"]
        assert (await request(url, PI, form(amount=1000, currency="usd", capture="true")))[0] == 400
        assert (await request(url, "/v1/subscriptions", pay("o1")))[0] == 404
        await ctl.add_fault({"kind": "status", "status": 401, "first_n": 1})
        assert (await request(url, PI, pay("o2")))[0] == 401
        entries = await ctl.journal_all()
        assert [(e["integration"], (e["response"] or {}).get("error_param")) for e in entries] == [
            (True, "capture"), (True, None), (False, None)]
        assert {"method": "POST", "path": PI, "endpoint": "payment_intents.create", "role": "charge"} in \
            (await ctl.health())["routes"]


async def test_first_n_counts_per_idempotency_key_when_there_is_no_order_reference() -> None:
    async with ProviderHost(["cardpay"]) as host:
        ctl, url = host.control("cardpay"), host.urls["cardpay"]
        await ctl.add_fault({"kind": "status", "status": 503, "first_n": 1, "match": {"role": "charge"}})
        bare = form(amount=1000, currency="usd", confirm="true", payment_method="pm_card_visa")
        statuses = [(await request(url, PI, bare, {"Idempotency-Key": key}))[0] for key in ("a", "a", "b", "b")]
        assert statuses == [503, 200, 503, 200], "each payment (key) gets its first attempt faulted"


async def test_a_publishable_key_confirms_only_the_intent_whose_client_secret_it_shows() -> None:
    async with ProviderHost(["cardpay"]) as host:
        ctl, url = host.control("cardpay"), host.urls["cardpay"]
        await ctl.configure(credentials={"api_key": "sk_test_shop", "publishable_key": "pk_test_shop"})
        created = await request(url, PI, form(amount=1400, currency="usd"), {"Authorization": "Bearer sk_test_shop"})
        intent = json.loads(created[2])
        browser = {"Authorization": "Bearer pk_test_shop"}
        confirm = f"{PI}/{intent['id']}/confirm"
        wrong = await request(url, confirm, form(payment_method="pm_card_visa", client_secret="pi_x_secret_y"), browser)
        assert wrong[0] == 404
        assert (await request(url, PI, pay("o1"), browser))[0] == 401, "a browser key cannot create"
        ok = await request(url, confirm, form(payment_method="pm_card_visa", client_secret=intent["client_secret"]),
                           browser)
        assert ok[0] == 200 and json.loads(ok[2])["status"] == "succeeded"
        assert (await request(url, confirm, form(client_secret=intent["client_secret"]),
                              {"Authorization": "Bearer pk_test_other"}))[0] == 401
