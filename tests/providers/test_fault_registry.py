"""The fault-kind registry and rule validation the harness reuses."""

from __future__ import annotations

import pytest

from mock_providers.core.faults import FAULT_KINDS, FaultKind, FaultRuleError, parse_rule

KINDS = {"status", "outage", "rate_limit", "delay", "commit_drop", "drop", "decline"}


def test_every_documented_kind_is_registered_read_only():
    assert set(FAULT_KINDS) == KINDS
    with pytest.raises(TypeError):
        FAULT_KINDS["x"] = FaultKind  # type: ignore[index]


def test_duplicate_kind_name_is_rejected():
    with pytest.raises(ValueError, match="fault kind 'delay' is already registered"):
        class Again(FaultKind, kind="delay"):  # noqa: F841
            pass
    assert FAULT_KINDS["delay"].__module__.endswith("faults.delay")


def test_one_kind_per_file():
    modules = {cls.__module__ for cls in FAULT_KINDS.values()}
    assert len(modules) == len(FAULT_KINDS)


@pytest.mark.parametrize("rule, field, text", [
    ({"kind": "status", "status": 200}, "status", "status=200 is invalid: a fault answers with an error, so it must be 400..599"),
    ({"kind": "status", "status": 600}, "status", "must be 400..599"),
    ({"kind": "status"}, "status", "status is missing"),
    ({"kind": "outage", "status": 302}, "status", "must be 400..599"),
    ({"kind": "delay", "delay_ms": -5}, "delay_ms", "delay_ms=-5 is invalid"),
    ({"kind": "delay", "delay_ms": "soon"}, "delay_ms", "delay_ms='soon' is invalid"),
    ({"kind": "rate_limit", "retry_after_s": -1}, "retry_after_s", "retry_after_s=-1.0 is invalid"),
    ({"kind": "drop", "rate": 1.5}, "rate", "rate=1.5 is invalid: it is a probability"),
    ({"kind": "drop", "first_n": 0}, "first_n", "first_n=0 is invalid"),
    ({"kind": "drop", "extra": 1}, "extra", "unknown attribute 'extra'"),
    ({"kind": "teleport"}, "kind", "kind='teleport' is not a registered fault kind; use one of"),
    ({"kind": "decline", "decline_code": "no way!"}, "decline_code", "use a Stripe decline code"),
    ({"kind": "drop", "match": {"verb": "GET"}}, "match.verb", "unknown attribute"),
])
def test_invalid_rules_name_field_value_rule_and_fix(rule, field, text):
    with pytest.raises(FaultRuleError) as info:
        parse_rule(rule)
    fields = [f for f, _ in info.value.issues]
    assert field in fields
    assert text in str(info.value)


def test_not_an_object():
    with pytest.raises(FaultRuleError, match="must be a JSON object"):
        parse_rule(["status"])  # type: ignore[arg-type]


def test_rule_round_trips_through_json():
    rule = parse_rule({"id": "x", "kind": "status", "status": 429, "code": "lock_timeout", "rate": 0.25,
                       "first_n": 2, "match": {"method": "post", "path": "/v1/payment_intents*"}})
    data = rule.to_json()
    assert data["match"] == {"method": "POST", "path": "/v1/payment_intents*"}
    assert parse_rule(data).to_json() == data


def test_effects():
    assert parse_rule({"kind": "status", "status": 500}).effect().saved_status == 500
    assert parse_rule({"kind": "status", "status": 503}).effect().status == 503
    assert parse_rule({"kind": "outage"}).effect().status == 503
    assert parse_rule({"kind": "rate_limit", "retry_after_s": 1.5}).effect().retry_after_s == 1.5
    assert parse_rule({"kind": "delay", "delay_ms": 250}).effect().delay_s == 0.25
    assert parse_rule({"kind": "commit_drop"}).effect().drop_after
    assert parse_rule({"kind": "drop"}).effect().drop_before
    assert parse_rule({"kind": "decline"}).effect().decline_code == "generic_decline"


def test_kind_models_are_usable_alone():
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="must be 400..599"):
        FAULT_KINDS["status"].model_validate({"status": 99})
