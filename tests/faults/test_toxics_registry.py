"""The toxic registry and attribute models the scenario validator relies on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import harness.faults as faults
from harness.faults import REGISTRY, ToxicSpec
from harness.faults.toxics import Toxic, ToxicAttributes

# Toxiproxy 2.5.0's toxics (toxics/*.go) with their JSON attribute names,
# units and Go zero defaults; None = required here (Toxiproxy's 0 hangs or crashes).
TOXIPROXY_ATTRIBUTES = {
    "latency": {"latency": ("ms", 0), "jitter": ("ms", 0)},
    "bandwidth": {"rate": ("KB/s", None)},
    "slow_close": {"delay": ("ms", 0)},
    "timeout": {"timeout": ("ms", 0)},
    "reset_peer": {"timeout": ("ms", 0)},
    "slicer": {"average_size": ("bytes", None), "size_variation": ("bytes", 0),
               "delay": ("microseconds", 0)},
    "limit_data": {"bytes": ("bytes", 0)},
    "down": {},
}


def test_exports_are_the_documented_surface():
    assert sorted(faults.__all__) == sorted([
        "FaultBackend", "ToxicSpec", "ProxyInfo", "EmbeddedBackend", "ToxiproxyBackend",
        "open_backend", "REGISTRY", "find_toxiproxy_server"])
    for name in faults.__all__:
        assert getattr(faults, name) is not None


def test_registry_has_toxiproxys_toxics_with_exact_names_units_defaults():
    assert list(REGISTRY) == list(TOXIPROXY_ATTRIBUTES)
    for name, expected in TOXIPROXY_ATTRIBUTES.items():
        model = REGISTRY[name].Attributes
        assert REGISTRY[name].name == name
        assert list(model.model_fields) == list(expected), name
        for field, (unit, default) in expected.items():
            info = model.model_fields[field]
            assert info.json_schema_extra["unit"] == unit, (name, field)
            assert info.is_required() == (default is None), (name, field)
            if default is not None:
                assert info.default == default, (name, field)


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        REGISTRY["latency"] = object  # type: ignore[index]


def test_duplicate_registration_is_rejected():
    with pytest.raises(TypeError, match="toxic name 'latency' is already registered by "
                                        "harness.faults.toxics.latency.LatencyToxic"):
        class Again(Toxic, name="latency"):  # noqa: F841
            Attributes = ToxicAttributes


@pytest.mark.parametrize("toxic, attributes, message", [
    ("latency", {"latency": -5},
     "latency=-5 is invalid for toxic 'latency': must be >= 0 ms; use 0 for no delay"),
    ("latency", {"latncy": 5},
     "unknown attribute 'latncy' for toxic 'latency'; did you mean 'latency'? "
     "Known attributes: latency (ms), jitter (ms)"),
    ("bandwidth", {"rate": 0},
     "rate=0 is invalid for toxic 'bandwidth': must be >= 1 KB/s; to stop data entirely use the timeout toxic"),
    ("bandwidth", {}, "Field required"),
    ("slicer", {"average_size": 10, "size_variation": 10},
     "size_variation=10 is invalid for toxic 'slicer': must be smaller than average_size=10"),
    ("timeout", {"timeout": 1.5}, "Input should be a valid integer"),
    ("limit_data", {"bytes": "100"}, "Input should be a valid integer"),
    ("down", {"for": 3}, "unknown attribute 'for' for toxic 'down'; remove it Known attributes: none"),
])
def test_attribute_errors_name_field_value_rule_and_fix(toxic, attributes, message):
    with pytest.raises(ValidationError) as info:
        REGISTRY[toxic].Attributes.model_validate(attributes)
    assert message in str(info.value)


def test_spec_envelope_defaults_like_toxiproxy():
    spec = ToxicSpec(type="latency", attributes={"latency": 200})
    assert (spec.name, spec.stream, spec.toxicity) == ("latency_downstream", "downstream", 1.0)
    assert spec.attributes == {"latency": 200, "jitter": 0}  # complete, defaults filled
    assert ToxicSpec(type="timeout", stream="upstream").name == "timeout_upstream"


@pytest.mark.parametrize("fields, message", [
    ({"type": "latncy"}, "type='latncy' is not a known toxic; did you mean 'latency'?"),
    ({"type": "latency", "toxicity": 1.5}, "toxicity=1.5 is invalid: must be between 0 and 1"),
    ({"type": "latency", "stream": "sideways"}, "Input should be 'upstream' or 'downstream'"),
    ({"type": "latency", "attributes": {"latency": -1}},
     "attributes for toxic 'latency': latency: latency=-1 is invalid"),
    ({"type": "down", "toxicity": 0.5}, "toxicity must be 1"),
    ({"type": "latency", "name": "has space"}, "name='has space' is invalid"),
])
def test_spec_errors_are_clear(fields, message):
    with pytest.raises(ValidationError) as info:
        ToxicSpec(**fields)
    assert message in str(info.value)
