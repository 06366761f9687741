"""Form-encoded bodies with Stripe's bracket notation, kept FLAT.

``metadata[order_id]=ord_1`` stays the key ``"metadata[order_id]"``: flat dicts
compare cheaply (idempotency parameter checks) and read directly into the
journal. ``nested(params, "metadata")`` rebuilds a sub-object when needed.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

__all__ = ["parse_form", "nested", "unknown_params"]

# Parameter NAMES repeat across requests (``metadata%5Border_id%5D``): decode each once.
_KEYS: dict[str, str] = {}
_KEYS_MAX = 4096


def _key(raw: str) -> str:
    key = _KEYS.get(raw)
    if key is None:
        key = unquote_plus(raw)
        if len(_KEYS) < _KEYS_MAX:
            _KEYS[raw] = key
    return key


def parse_form(data: bytes | str) -> dict[str, str]:
    """Decode ``a=1&b%5Bc%5D=2`` to ``{"a": "1", "b[c]": "2"}``; later keys win."""
    if not data:
        return {}
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    out: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        # unquote_plus is the slow part: skip it for the common plain token.
        if "%" in key or "+" in key:
            key = _key(key)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        out[key] = value
    return out


def nested(params: dict[str, str], name: str) -> dict[str, str]:
    """``nested({"metadata[a]": "1"}, "metadata") == {"a": "1"}`` (one level)."""
    prefix = name + "["
    n = len(prefix)
    return {k[n:-1]: v for k, v in params.items() if k.startswith(prefix) and k.endswith("]")}


def unknown_params(params: dict[str, str], allowed: frozenset[str]) -> str | None:
    """The first top-level parameter name not in ``allowed``, or None."""
    for key in params:
        if key in allowed:
            continue
        top = key.split("[", 1)[0]
        if top not in allowed:
            return top
    return None
