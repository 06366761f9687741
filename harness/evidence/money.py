"""Money as the reports show it: minor units formatted by the currency's
exponent (2 for USD, 0 for JPY, 3 for KWD), always with the currency, and
summed per currency (a multi-currency run never adds yen to dollars).

Exponents come from the providers' profiles (``ProviderProfile.exponent``),
recorded per run in the evidence and the journal.
"""

from __future__ import annotations

from typing import Iterable, Mapping

__all__ = ["format_money", "format_amounts", "add_amounts"]


def format_money(minor: int, currency: str, exponents: Mapping[str, int] | None = None) -> str:
    """``31881, "usd"`` -> ``"318.81 USD"``; ``1200, "jpy"`` -> ``"1,200 JPY"``."""
    from mock_providers.core.profile import iso_exponent

    cur = currency.lower()
    exp = (exponents or {}).get(cur, iso_exponent(cur))
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10 ** exp)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    return f"{sign}{text} {cur.upper()}"


def format_amounts(amounts: Mapping[str, int] | None, exponents: Mapping[str, int] | None = None) -> str:
    """Per-currency amounts, largest first: ``"318.81 USD + 1,200 JPY"``; ``""`` when empty."""
    if not amounts:
        return ""
    items = sorted(((c, a) for c, a in amounts.items() if a), key=lambda kv: (-abs(kv[1]), kv[0]))
    return " + ".join(format_money(a, c, exponents) for c, a in items)


def add_amounts(parts: Iterable[Mapping[str, int] | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        for cur, amount in (part or {}).items():
            out[cur] = out.get(cur, 0) + amount
    return {c: a for c, a in out.items() if a}
