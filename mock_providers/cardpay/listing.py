"""What every cardpay read shares: list pages (``limit``, ``starting_after``,
``ending_before``, ``created[gte]``), ``expand[]`` of related objects, and the
answer Stripe gives for an object."""

from __future__ import annotations

from typing import Callable, Iterable

from ..core.forms import array
from ..core.provider import Result, info
from .errors import invalid
from .objects import dumps, list_object
from .params import ARRAY, INT, RANGE, STR, integer

__all__ = ["LIST_PARAMS", "page", "object_result", "expand"]

LIST_PARAMS = {"limit": INT, "starting_after": STR, "ending_before": STR, "created": RANGE, "expand": ARRAY}


def _created_ok(obj, params: dict) -> bool:
    exact = params.get("created")
    if exact is not None and exact != "" and obj.created != integer(exact):
        return False
    for op, ok in (("gt", lambda a, b: a > b), ("gte", lambda a, b: a >= b),
                   ("lt", lambda a, b: a < b), ("lte", lambda a, b: a <= b)):
        bound = params.get(f"created[{op}]")
        if bound is not None and not ok(obj.created, integer(bound)):
            return False
    return True


def page(provider, url: str, objects: Iterable, params: dict, by: tuple[str, ...] = (),
         render: Callable[[object], dict] | None = None) -> Result:
    """A list page, newest first, as Stripe pages it. ``objects`` come oldest first; ``by`` names
    the filter parameters that must equal the object's attribute of the same name when given
    (``customer``, ``payment_intent``...)."""
    wanted = [(name, params[name]) for name in by if params.get(name)]

    def keep(obj) -> bool:
        return all(getattr(obj, name) == value for name, value in wanted)

    limit = integer(params.get("limit") or "10")
    if limit is None or not 1 <= limit <= 100:
        return invalid("Invalid limit: must be at least 1 and at most 100", "parameter_invalid_integer", "limit")
    items = [o for o in reversed(list(objects)) if keep(o) and _created_ok(o, params)]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        return invalid("You may only specify one of these parameters: starting_after, ending_before.",
                       "parameter_invalid_string", "ending_before")
    ids = [o.id for o in items]
    if after:
        if after not in ids:
            return invalid(f"No such object: '{after}'", "resource_missing", "starting_after")
        items = items[ids.index(after) + 1:]
        chosen, has_more = items[:limit], len(items) > limit
    elif before:
        if before not in ids:
            return invalid(f"No such object: '{before}'", "resource_missing", "ending_before")
        items = items[:ids.index(before)]
        chosen, has_more = items[-limit:], len(items) > limit
    else:
        chosen, has_more = items[:limit], len(items) > limit
    render = render or (lambda o: o.to_api())
    data = [render(o) for o in chosen]
    paths = [p[len("data."):] for p in array(params, "expand") if p.startswith("data.")]
    if paths:
        for obj in data:
            err = expand(provider, obj, paths)
            if err is not None:
                return err
    return Result(200, dumps(list_object(url, data, has_more)), info(200))


# field -> the store table that holds the object it names
_EXPANDABLE = {"latest_charge": "charges", "charge": "charges", "payment_intent": "intents",
               "payment_method": "payment_methods", "customer": "customers"}


def expand(provider, obj: dict, paths: list[str]) -> Result | None:
    """Replace ids by the objects they name, in place (``expand[]=latest_charge``)."""
    store = provider.store
    for path in paths:
        field = path.split(".", 1)[0]
        table = _EXPANDABLE.get(field)
        if table is None or field not in obj:
            return invalid(f"This property cannot be expanded ({path}).", "parameter_invalid_string", "expand")
        ident = obj[field]
        if not isinstance(ident, str):
            continue
        found = getattr(store, table).get(ident)
        if found is None and table == "payment_methods":
            from .charging import test_payment_method
            found = test_payment_method(ident)
        if found is not None:
            obj[field] = found.to_api()
    return None


def object_result(provider, obj, params: dict) -> Result:
    """One object as Stripe answers it, expanded when asked."""
    paths = array(params, "expand")
    if not paths:
        body = obj.to_json() if hasattr(obj, "to_json") else dumps(obj.to_api())
    else:
        data = obj.to_api()
        err = expand(provider, data, paths)
        if err is not None:
            return err
        body = dumps(data)
    return Result(200, body, info(200, object_id=obj.id, object_status=getattr(obj, "status", "created")))
