"""CardPay: the Stripe-compatible card acquirer mock."""

from .cards import TEST_CARDS, TestCard
from .provider import CardPay

__all__ = ["CardPay", "TEST_CARDS", "TestCard"]
