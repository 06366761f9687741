"""Scenario numbers relative to the contract.

A fault's times (``at``, ``for``, ``delay_ms``, a toxic's ``latency`` or
``timeout``, ``retry_after_s``...) and its ``first_n`` may be written relative
to a number the contract states, so that a story such as "answers slower than
the service's client timeout" holds for every service, not only for one whose
timeout happens to be the reference target's 1 s::

    delay_ms: {over: timeouts.cardpay.client_ms, by: 500}   # the contract's number + 500 ms
    for: {under: degradation.max_response_ms, by: 1s}       # minus 1 s
    latency: {times: 0.5, of: timeouts.cardpay.client_ms}   # half of it
    first_n: {over: retry.max_attempts, by: 1}              # a count: one more than the attempts

The reference is the dotted path of a number in the contract: a time (its name
ends in ``_ms`` or ``_s``) for a time field, a count (``retry.max_attempts``)
for a count field. ``by`` is in the field's own unit (``500`` for delay_ms,
``1s`` or ``250ms`` for at and for); the contract's number is converted to it,
and the result rounded to a whole number where the field takes one.

Resolving one value gives either the number and how it was derived (the
journal records it), or ``Missing``: the reference is well formed but this
contract does not state that number, so the scenario is skipped with that
reason; or an issue (exit 2): a reference no contract could state
(``timeout.cardpay.client_ms``), a field that is not a time or a count, a
result below 0.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterator, Literal, Sequence

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from harness.errors import SpecIssue
from harness.spec.contract import Contract
from harness.spec.messages import did_you_mean, got
from harness.spec.source import Document, Path_, format_path
from harness.spec.types import Strict, parse_duration

if TYPE_CHECKING:
    from harness.spec.loader import LoadedContract

__all__ = ["Derived", "Missing", "Unit", "ContractNumbers", "is_relative", "field_unit", "referable", "FORMS"]

FORMS = "{over: REF, by: N}, {under: REF, by: N} or {times: F, of: REF}"
_OPS = ("over", "under", "times")
_KEYS = (*_OPS, "by", "of")
_COUNT_FIELDS = frozenset({"first_n"})
_MAX_FACTOR = 1000


@dataclass(frozen=True)
class Unit:
    """A field's or a clause's unit: a time (so many per second) or a count."""

    name: str  # ms, s, µs, count
    per_second: float | None  # None for a count
    integer: bool = False  # the field takes whole numbers only
    durations: bool = False  # the field reads 2s / 250ms (so may its `by`)

    @property
    def is_time(self) -> bool:
        return self.per_second is not None

    def describe(self) -> str:
        return f"a time in {self.name}" if self.is_time else "a count"

    def show(self, value: float) -> str:
        text = _num(value)
        if not self.is_time:
            return text
        return f"{text}s" if self.name == "s" else f"{text} {self.name}"


MS, S, US, COUNT = Unit("ms", 1000.0), Unit("s", 1.0), Unit("µs", 1_000_000.0), Unit("count", None, integer=True)
_EXTRA_UNITS = {"ms": MS, "s": S, "seconds": S, "microseconds": US, "us": US}
_SUFFIXES = (("_ms", MS), ("_us", US), ("_s", S))


class Derived(Strict):
    """How a number was taken from the contract (recorded per fault in the journal)."""

    value: int | float
    ref: str  # timeouts.cardpay.client_ms
    ref_value: int | float
    ref_where: str  # the contract's file:line
    op: Literal["over", "under", "times"]
    operand: int | float  # `by` in the field's unit, or the factor
    text: str  # 1500 ms (timeouts.cardpay.client_ms 1000 + 500 ms)


@dataclass(frozen=True)
class Missing:
    """A well-formed reference to a number this contract does not state."""

    ref: str
    field: str  # faults[1].delay_ms
    where: str  # the scenario's file:line


@dataclass
class Resolution:
    value: int | float | None = None
    derived: Derived | None = None
    missing: Missing | None = None
    issues: list[SpecIssue] = field(default_factory=list)


def is_relative(value: Any) -> bool:
    """A mapping with over/under/times/by/of: meant as a number relative to the contract."""
    return isinstance(value, dict) and any(k in value for k in _KEYS)


def field_unit(name: str, info: FieldInfo | None) -> Unit | None:
    """The unit of a scenario field, or None when it cannot be relative (a rate, a status, bytes)."""
    if info is None:
        return None
    base, meta = _unwrap(info.annotation)
    meta = [*info.metadata, *meta]
    integer = base is int
    if name in _COUNT_FIELDS:
        return COUNT
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    durations = any(getattr(m, "func", None) is parse_duration for m in meta)
    unit = _EXTRA_UNITS.get(str(extra.get("unit", "")))
    if unit is None and durations:
        unit = S
    if unit is None:
        unit = next((u for suffix, u in _SUFFIXES if name.endswith(suffix)), None)
    if unit is None or base not in (int, float):
        return None
    return replace(unit, integer=integer, durations=durations)


def referable() -> list[str]:
    """Every number a scenario can refer to, ``<instance>`` standing for a provider instance."""
    return list(_numbers(Contract, ""))


class ContractNumbers:
    """Resolves a scenario's relative numbers against one contract (or none) and
    collects what the contract does not state."""

    def __init__(self, contract: LoadedContract | None, instances: Sequence[str]):
        self.contract = contract
        self.instances = list(instances)
        self.missing: list[Missing] = []

    def resolve(self, raw: Any, unit: Unit, where: Path_, doc: Document) -> Resolution:
        shape = self._shape(raw, where, doc)
        if isinstance(shape, Resolution):
            return shape
        op, ref, ref_loc, amount, amount_loc = shape
        field_name = format_path(where)
        if not isinstance(ref, str) or not ref:
            return _issue(doc, ref_loc, "must be the dotted path of a number in the contract, such as "
                          f"timeouts.cardpay.client_ms (got {got(ref)})")
        ref_unit, problem = self._clause(ref)
        if ref_unit is None:
            return _issue(doc, ref_loc, f"{ref}: {problem}")
        if ref_unit.is_time != unit.is_time:
            example = "timeouts.<instance>.client_ms" if unit.is_time else "retry.max_attempts"
            return _issue(doc, ref_loc, f"{ref} is {ref_unit.describe()}, but {field_name} is {unit.describe()}; "
                          f"refer to {unit.describe().split(' in ')[0]} such as {example}")
        operand, problem = _operand(op, amount, unit)
        if problem:
            return _issue(doc, amount_loc, problem)
        value = self._stated(ref)
        if value is None:
            line = doc.line_of(where)
            missing = Missing(ref, field_name, f"{doc.file}:{line}" if line else doc.file)
            self.missing.append(missing)
            return Resolution(missing=missing)
        ref_where = self.contract.where(ref)
        try:
            base = value * unit.per_second / ref_unit.per_second if unit.is_time else value
            result = base * operand if op == "times" else base + operand if op == "over" else base - operand
            result = math.floor(result + 0.5) if unit.integer else round(result, 6)
        except OverflowError:
            return _issue(doc, where, f"cannot be computed: {ref} is {got(value)} ({ref_where}), too large a number")
        if op == "times":
            how = f"{_num(operand)} x {ref} {_num(value)}"
        else:
            how = f"{ref} {_num(value)} {'+' if op == 'over' else '-'} {unit.show(operand)}"
        text = f"{unit.show(result)} ({how})"
        if result < 0:
            return _issue(doc, where, f"is {text}, below 0, with {ref} {_num(value)} ({ref_where}); use a smaller "
                          "by: or a number of its own")
        return Resolution(value=result, derived=Derived(value=result, ref=ref, ref_value=value, ref_where=ref_where,
                                                         op=op, operand=operand, text=text))

    def skip_reason(self) -> str | None:
        """Why the scenario cannot run with this contract, or None."""
        if not self.missing:
            return None
        by_ref: dict[str, list[Missing]] = {}
        for m in self.missing:
            by_ref.setdefault(m.ref, []).append(m)
        needs = " and ".join(f"{ref} (for {', '.join(f'{m.field} at {m.where}' for m in ms)})"
                             for ref, ms in by_ref.items())
        if self.contract is None:
            return f"needs {needs}, and no contract was given to take it from"
        hint = " and ".join(f"`{_hint(ref)}`" for ref in by_ref)
        which = "does not state them" if len(by_ref) > 1 else "does not state"
        return f"needs {needs}, which {self.contract.doc.file} {which}; add {hint} to it to run this scenario"

    # -- the parts ----------------------------------------------------------

    def _shape(self, raw: Any, where: Path_, doc: Document):
        """(op, ref, its location, by/times, its location), or a Resolution with the issue."""
        if not isinstance(raw, dict):
            return _issue(doc, where, f"must be a number, or one relative to the contract: {FORMS} (got {got(raw)})")
        for key in raw:
            if key not in _KEYS:
                return _issue(doc, (*where, key), f"unknown key{did_you_mean(str(key), _KEYS)}; a number relative to "
                              f"the contract is written {FORMS}")
        ops = [k for k in _OPS if k in raw]
        if len(ops) != 1:
            what = "gives " + " and ".join(ops) if ops else "has no over:, under: or times:"
            return _issue(doc, where, f"{what}; write one of {FORMS}")
        op = ops[0]
        partner, stray = ("of", "by") if op == "times" else ("by", "of")
        if stray in raw:
            return _issue(doc, (*where, stray), f"does not go with {op}:; write one of {FORMS}")
        if partner not in raw:
            example = "{times: 2, of: timeouts.cardpay.client_ms}" if op == "times" else \
                f"{{{op}: {raw[op] if isinstance(raw[op], str) else 'timeouts.cardpay.client_ms'}, by: 500}}"
            return _issue(doc, where, f"{op}: needs {partner}:, e.g. {example}")
        if op == "times":
            return op, raw["of"], (*where, "of"), raw["times"], (*where, "times")
        return op, raw[op], (*where, op), raw["by"], (*where, "by")

    def _clause(self, ref: str) -> tuple[Unit | None, str]:
        """The unit of the contract number ``ref`` names, or why it names none."""
        parts = ref.split(".")
        if any(not p for p in parts):
            return None, "is not a dotted path such as timeouts.cardpay.client_ms"
        tp: Any = Contract
        leaf = ""
        shape: list[str] = []  # the path so far, as the schema names it: timeouts.<instance>
        for i, part in enumerate(parts):
            tp, _ = _unwrap(tp)
            here = ".".join(parts[:i])
            if _is_model(tp):
                names = list(tp.model_fields)
                if part not in names:
                    section = f"{'.'.join(shape)} has no {part!r}" if shape else f"there is no section {part!r}"
                    return None, (f"no contract can state it: {section}{did_you_mean(part, names)}; the numbers a "
                                  f"scenario can refer to are {', '.join(referable())}")
                leaf, tp = part, tp.model_fields[part].annotation
                shape.append(part)
            elif typing.get_origin(tp) is dict:
                if here == "timeouts" and part not in self.instances:
                    return None, (f"{part!r} is not a provider instance of this scenario ({', '.join(self.instances)})"
                                  f"{did_you_mean(part, self.instances)}")
                leaf, tp = "", typing.get_args(tp)[1]
                shape.append("<instance>")
            else:
                return None, f"{here} is a number; there is nothing below it"
        tp, _ = _unwrap(tp)
        if _is_model(tp) or typing.get_origin(tp) is dict:
            inside = [f"{ref}.{n}" for n in _numbers(tp, "")]
            return None, f"is a section, not a number; refer to one of its numbers: {', '.join(inside)}"
        if tp not in (int, float):
            return None, "is not a number"
        unit = next((u for suffix, u in _SUFFIXES if leaf.endswith(suffix)), None)
        if unit is None and tp is int:
            unit = COUNT
        if unit is None:
            return None, "is a number with no unit (neither a time nor a count)"
        return unit, ""

    def _stated(self, ref: str) -> int | float | None:
        """The number when the contract states it (a default the contract left out does not count)."""
        if self.contract is None:
            return None
        obj: Any = self.contract.spec
        for part in ref.split("."):
            if isinstance(obj, BaseModel):
                if part not in obj.model_fields_set:
                    return None
                obj = getattr(obj, part)
            elif isinstance(obj, dict):
                obj = obj.get(part)
            if obj is None:
                return None
        return obj


def _num(value: float) -> str:
    """1500, 0.75, 2.5: no exponent, no trailing zeros."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _issue(doc: Document, where: Path_, message: str) -> Resolution:
    return Resolution(issues=[doc.issue(where, message)])


def _operand(op: str, amount: Any, unit: Unit) -> tuple[float, str]:
    """The factor, or ``by`` in the field's unit; (value, problem)."""
    if op == "times":
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) \
                or not 0 < amount <= _MAX_FACTOR:
            return 0.0, f"must be a number above 0 and at most {_MAX_FACTOR} (got {got(amount)})"
        return float(amount), ""
    if unit.durations and isinstance(amount, str):
        try:
            return parse_duration(amount), ""
        except ValueError as exc:
            return 0.0, str(exc)
    example = "2s or 250ms" if unit.durations else unit.show(500) if unit.is_time else "1"
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
        return 0.0, f"must be a number in the field's unit, such as {example} (got {got(amount)})"
    if amount < 0:
        other = "under" if op == "over" else "over"
        return 0.0, f"must be >= 0 (got {_num(amount)}); for the other direction write {other}: instead of {op}:"
    if not unit.is_time and amount != int(amount):
        return 0.0, f"must be a whole number: it adds to a count (got {_num(amount)})"
    return float(amount), ""


def _hint(ref: str) -> str:
    """``timeouts.cardpay.client_ms`` -> ``timeouts: {cardpay: {client_ms: ...}}``."""
    parts = ref.split(".")
    text = f"{parts[-1]}: ..."
    for part in reversed(parts[:-1]):
        text = f"{part}: {{{text}}}"
    return text


def _numbers(tp: Any, prefix: str) -> Iterator[str]:
    """The dotted paths of every number (with a unit, or a whole count) under a contract type."""
    tp, _ = _unwrap(tp)
    if _is_model(tp):
        for name, info in tp.model_fields.items():
            sub, _ = _unwrap(info.annotation)
            path = f"{prefix}.{name}" if prefix else name
            if sub is int or (sub is float and name.endswith(("_ms", "_s"))):
                yield path
            else:
                yield from _numbers(info.annotation, path)
    elif typing.get_origin(tp) is dict:
        yield from _numbers(typing.get_args(tp)[1], f"{prefix}.<instance>" if prefix else "<instance>")


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Annotated and Optional peeled off: (the type, the Annotated metadata met on the way)."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            meta.extend(tp.__metadata__)
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta
