"""Stripe's parameter rules for each endpoint, as data, and the one pass that
enforces them: unknown names, integers, booleans, enums, arrays, hashes.

Stripe rejects what its OpenAPI spec does not allow, with a 400
``invalid_request_error`` naming the parameter; so must the mock, or an
integration that only works against the mock passes a resilience run and fails
in production. It must also ACCEPT what Stripe accepts: booleans in any case
(stripe-python before 12 sends ``confirm=True``), arrays as ``expand[]`` or
``expand[0]``, an empty string to unset a field.

    CREATE = Params(amount=INT, currency=STR, confirm=BOOL, metadata=MAP,
                    capture_method=Enum("automatic", "automatic_async", "manual"))
    err = CREATE.check(params)   # None or the Result to answer

``Parsed`` values come out typed: ``Params.read(params)`` after ``check``.
"""

from __future__ import annotations

from ..core.provider import Result
from .errors import invalid

__all__ = ["INT", "BOOL", "STR", "MAP", "ARRAY", "HASH", "RANGE", "Enum", "Params", "boolean", "integer"]

INT, BOOL, STR, MAP, ARRAY, HASH, RANGE = "integer", "boolean", "string", "map", "array", "hash", "range"
_BOOLS = {"true": True, "false": False}
_RANGE_OPS = ("gt", "gte", "lt", "lte")


class Enum(tuple):
    """A string parameter with a closed set of values."""

    def __new__(cls, *values: str):
        return super().__new__(cls, values)


def boolean(value: str) -> bool | None:
    """Stripe's boolean: ``true``/``false`` in any case; None when it is neither."""
    return _BOOLS.get(value.lower())


def integer(value: str) -> int | None:
    value = value.strip()
    if value[:1] == "-":
        return -int(value[1:]) if value[1:].isdigit() else None
    return int(value) if value.isdigit() else None


def _or_list(values) -> str:
    values = list(values)
    return ", ".join(values[:-1]) + ", or " + values[-1] if len(values) > 1 else values[0]


class Params:
    """The parameters one endpoint accepts (top-level name -> kind)."""

    __slots__ = ("kinds", "required")

    def __init__(self, *, required: tuple[str, ...] = (), **kinds):
        self.kinds = kinds
        self.required = required

    def check(self, params: dict[str, str], metadata: dict[str, str] | None = None) -> Result | None:
        """The first rule ``params`` break, as Stripe's answer; None when all hold. ``metadata``,
        when given, collects the ``metadata[k]`` values on the way (one pass on the hot path)."""
        kinds = self.kinds
        for key, value in params.items():
            if "[" in key:
                top, _, rest = key.partition("[")
                kind = kinds.get(top)
                if kind is None:
                    return _unknown(top)
                if kind is MAP:
                    if "[" in rest:  # metadata[a][b]: metadata is one level of strings
                        return invalid(f"Invalid string: {key}; metadata values must be strings",
                                       "parameter_invalid_string", top)
                    if metadata is not None:
                        metadata[rest[:-1]] = value
                    continue
                if kind is HASH:
                    continue
                if kind is ARRAY:
                    if rest.partition("]")[0].isdigit():  # expand[0], tax_id_data[0][type]
                        continue
                    return invalid(f"Invalid array: {top}", "parameter_invalid_array", top)
                if kind is RANGE:
                    op = rest[:-1]
                    if op not in _RANGE_OPS:
                        return invalid(f"Received unknown parameter: {key}", "parameter_unknown", key)
                    if integer(value) is None:
                        return invalid(f"Invalid integer: {value}", "parameter_invalid_integer", key)
                    continue
                name = kind if kind.__class__ is str else STR
                return invalid(f"Invalid {name}: {top} is not a hash", f"parameter_invalid_{name}", top)
            kind = kinds.get(key)
            if kind is None:
                return _unknown(key)
            if kind is STR:
                continue
            if value == "" and kind is not BOOL and kind is not INT:
                continue  # an empty string unsets the field (or the whole hash)
            if kind is INT or kind is RANGE:
                if integer(value) is None:
                    return invalid(f"Invalid integer: {value}", "parameter_invalid_integer", key)
            elif kind is BOOL:
                if value.lower() not in _BOOLS:
                    return invalid(f"Invalid boolean: {value}", "parameter_invalid_boolean", key)
            elif kind is ARRAY:
                return invalid(f"Invalid array: {key}", "parameter_invalid_array", key)
            elif kind is MAP or kind is HASH:
                return invalid(f"Invalid hash: {key}", "parameter_invalid_hash", key)
            elif value not in kind:
                return invalid(f"Invalid {key}: must be one of {_or_list(kind)}", "parameter_invalid_string", key)
        for name in self.required:
            if name not in params:
                return invalid(f"Missing required param: {name}.", "parameter_missing", name)
        return None


def _unknown(name: str) -> Result:
    return invalid(f"Received unknown parameter: {name}", "parameter_unknown", name)
