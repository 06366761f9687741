"""Turn pydantic validation errors into messages a scenario author can act on.

Every message names what was wrong, the rule, and (where we can) the fix:
``faults[2].rate: must be between 0 and 1 (got 1.5)``.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core.core_schema import ErrorType

from harness.errors import SpecIssue
from harness.spec.source import Document

__all__ = ["issues_from_validation", "got", "did_you_mean"]


def got(value: Any) -> str:
    """A short, human rendering of an offending value."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = "a list"
    elif value is None:
        text = "nothing (null)"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def issues_from_validation(
    exc: ValidationError, doc: Document, model: type[BaseModel] | None = None, prefix: tuple = ()
) -> list[SpecIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = (*prefix, *_clean_loc(err.get("loc", ())))
        key = (err.get("ctx") or {}).get("key")
        if key is not None and len(loc) == len(prefix):  # a model-level error about one key
            loc = (*loc, key)
        issues.append(doc.issue(loc, _message(err, model, loc[len(prefix):])))
    return _dedupe(issues)


# pydantic's own error types; anything else is a PydanticCustomError whose
# message is already complete (field=value, rule, fix) and is used verbatim.
_BUILTIN_TYPES = frozenset(typing.get_args(ErrorType))


def _clean_loc(loc: tuple) -> tuple:
    # pydantic inserts validator names ("function-after[...]") and union
    # member names into locations; they are not places in the file.
    out = []
    for part in loc:
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue
        out.append(part)
    return tuple(out)


def _message(err: dict, model: type[BaseModel] | None, loc: tuple) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "is required but missing; add it"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        known = _known_fields(model, loc[:-1]) if model else []
        hint = did_you_mean(name, known)
        listing = f"; known fields here: {', '.join(known)}" if known else ""
        return f"unknown field{hint}{listing}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err.get("msg", ""))).removeprefix("Value error, ")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '?')} (got {got(value)})"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()), "?")
        return f"must be {op} {bound} (got {got(value)})"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number (got {got(value)})"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a number (got {got(value)})"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false (got {got(value)})"
    if kind in ("string_type", "string_unicode"):
        return f"must be text (got {got(value)})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of key: value (got {got(value)})"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"must be a list (got {got(value)})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length', '?')} item(s)"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')} (got {got(value)})"
    msg = str(err.get("msg", "is invalid"))
    if kind not in _BUILTIN_TYPES:
        return msg
    return f"{msg[:1].lower()}{msg[1:]} (got {got(value)})"


def _known_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(f.alias or name for name, f in current.model_fields.items())
    return []


def _step(tp: Any, part: Any) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        for name, f in tp.model_fields.items():
            if part in (name, f.alias):
                return f.annotation
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and args:
        return args[1]
    return None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(models) != 1:
                return tp
            tp = models[0]
        else:
            return tp


def _dedupe(issues: list[SpecIssue]) -> list[SpecIssue]:
    seen, out = set(), []
    for i in issues:
        key = (i.line, i.path, i.message)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
