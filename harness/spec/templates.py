"""``{order.amount}``-style placeholders in target request templates.

A string that is exactly one placeholder takes the value's own type (so
``amount: "{order.amount}"`` sends a JSON number); placeholders inside longer
strings are formatted as text. ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

__all__ = ["ORDER_FIELDS", "CARD_PREFIX", "CREDENTIALS_PREFIX", "START_FIELDS", "placeholders", "render", "render_value",
           "unknown_placeholders"]

_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_.]*)\}(?!\})")

# The test instrument's fields: ``{order.card.<field>}``, where the fields are
# those the provider profile's instruments declare (number, payment_method...);
# checked against the target's providers when the target file is loaded.
CARD_PREFIX = "order.card."
# A provider instance's credential, for steps a customer's browser sends to a
# provider (a publishable key): ``{credentials.cardpay.publishable_key}``.
CREDENTIALS_PREFIX = "credentials."

# What the workload knows about each order, for pay/lookup templates.
ORDER_FIELDS = frozenset(
    {
        "order.id",
        "order.amount",
        "order.currency",
        "order.description",
        "order.card.name",
        "customer.name",
        "customer.email",
        "customer.phone",
        "customer.address",
    }
)
# What the runner knows when starting a target.
START_FIELDS = frozenset({"python", "port", "run_dir", "target_dir", "repo_root"})


def placeholders(value: Any) -> Iterable[str]:
    """Every placeholder name in a (nested) template value."""
    if isinstance(value, str):
        yield from _PLACEHOLDER.findall(value)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from placeholders(v)
    elif isinstance(value, list):
        for v in value:
            yield from placeholders(v)


def unknown_placeholders(value: Any, known: frozenset[str]) -> list[str]:
    """Placeholders not in ``known``. With order fields (request templates), these
    pass here and the loader checks them where it knows more: any
    ``order.card.<field>`` (against the providers' instruments), a bare ``{name}``
    (a value an earlier step captured) and ``credentials.<instance>.<name>``."""
    request = "order.card.name" in known
    return sorted({p for p in placeholders(value)
                   if p not in known and not (request and (
                       (p.startswith(CARD_PREFIX) and p.count(".") == 2) or "." not in p
                       or (p.startswith(CREDENTIALS_PREFIX) and p.count(".") == 2)))})


def _lookup(context: Mapping[str, Any], name: str) -> Any:
    current: Any = context
    for part in name.split("."):
        if isinstance(current, Mapping):
            current = current[part]
        else:
            current = getattr(current, part)
    return current


def render(template: str, context: Mapping[str, Any]) -> Any:
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return _lookup(context, whole.group(1))
    text = _PLACEHOLDER.sub(lambda m: str(_lookup(context, m.group(1))), template)
    return text.replace("{{", "{").replace("}}", "}")


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside a nested JSON-like template."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, Mapping):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    return value
