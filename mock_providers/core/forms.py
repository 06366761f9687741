"""Form-encoded bodies with Stripe's bracket notation, kept FLAT.

``metadata[order_id]=ord_1`` stays the key ``"metadata[order_id]"``: flat dicts
compare cheaply (idempotency parameter checks) and read directly into the
journal. ``nested(params, "metadata")`` rebuilds a sub-object when needed.

Arrays arrive two ways, as the SDKs send them: ``expand[0]=a&expand[1]=b``
(stripe-python, stripe-node) or ``expand[]=a&expand[]=b`` (curl, Stripe's docs,
PHP). Both become ``expand[0]``, ``expand[1]``: the flat form the handlers and
the idempotency comparison see is one whichever way the client wrote it.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

__all__ = ["parse_form", "nested", "array", "unknown_params"]

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
    counts: dict[str, int] | None = None
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        # unquote_plus is the slow part: skip it for the common plain token.
        if "%" in key or "+" in key:
            key = _key(key)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        if key.endswith("[]"):
            base = key[:-2]
            if counts is None:
                counts = {}
            n = counts.get(base, 0)
            counts[base] = n + 1
            key = f"{base}[{n}]"
        out[key] = value
    return out


def nested(params: dict[str, str], name: str) -> dict[str, str]:
    """``nested({"metadata[a]": "1"}, "metadata") == {"a": "1"}`` (one level)."""
    prefix = name + "["
    n = len(prefix)
    return {k[n:-1]: v for k, v in params.items() if k.startswith(prefix) and k.endswith("]")}


def array(params: dict[str, str], name: str) -> list[str]:
    """``array({"expand[0]": "a", "expand[1]": "b"}, "expand") == ["a", "b"]`` (index order)."""
    prefix = name + "["
    n = len(prefix)
    items = []
    for k, v in params.items():
        if k.startswith(prefix) and k.endswith("]") and k[n:-1].isdigit():
            items.append((int(k[n:-1]), v))
    return [v for _, v in sorted(items)]


def unknown_params(params: dict[str, str], allowed: frozenset[str]) -> str | None:
    """The first top-level parameter name not in ``allowed``, or None."""
    for key in params:
        if key in allowed:
            continue
        top = key.split("[", 1)[0]
        if top not in allowed:
            return top
    return None
