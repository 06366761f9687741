"""Dotted paths into JSON answers: ``error.action``, ``errors.0.code``,
``data.checkoutComplete.order.id``. One reader for outcome rules, error
fields, correlations and amounts."""

from __future__ import annotations

from typing import Any

__all__ = ["read_path"]


def read_path(body: Any, path: str | None) -> Any:
    """The value at ``path`` in a JSON body; None when absent."""
    if not path:
        return None
    current = body
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current
