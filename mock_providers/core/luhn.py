"""The Luhn (mod 10) check every card number passes: one implementation for
the card acquirer, the journals' masking and paychaos's PAN scanner."""

from __future__ import annotations

__all__ = ["luhn_ok"]


def luhn_ok(digits: str) -> bool:
    """``digits`` must be digits only; True when they pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
