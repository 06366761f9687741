"""Orders for the workload: Faker customers, test cards in the scenario's mix.

Everything is drawn from generators seeded by the run seed, so the same seed
builds the same orders in the same order.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

from faker import Faker
from pydantic import BaseModel, ConfigDict

from harness.spec import catalog
from harness.spec.scenario import Workload

__all__ = ["Card", "Customer", "Order", "OrderFactory"]


class Card(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # short name in the provider's test-card table
    provider: str
    number: str
    payment_method: str
    exp_month: int
    exp_year: int
    cvc: str
    expected: str  # succeeded | declined | requires_action
    category: str  # ok | decline | invalid | risk_block | action


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    phone: str
    address: str


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    id: str
    amount: int
    currency: str
    description: str
    card: Card
    customer: Customer

    def context(self) -> dict:
        """The template context: ``{order.amount}``, ``{customer.email}``..."""
        data = self.model_dump()
        return {"order": data, "customer": data["customer"]}


def _card(provider: str, name: str, test_card: Any, exp_year: int) -> Card:
    """A provider's TestCard (mock_providers.<p>.cards) as the workload sees it."""
    return Card(name=name, provider=provider, number=test_card.number, payment_method=test_card.payment_method,
                exp_month=12, exp_year=exp_year, cvc="123", expected=test_card.outcome, category=test_card.category)


class OrderFactory:
    def __init__(self, workload: Workload, providers: list[str], seed: int, run_tag: str):
        self._workload = workload
        self._rng = random.Random(seed)
        self._faker = Faker()
        self._faker.seed_instance(seed)
        self._tag = run_tag
        exp_year = 2030
        tables = {p: catalog.test_cards(p) for p in providers}
        self._cards: list[Card] = []
        weights: list[float] = []
        for name, weight in workload.cards.items():
            provider = next(p for p in providers if name in tables[p])
            self._cards.append(_card(provider, name, tables[provider][name], exp_year))
            weights.append(weight)
        self._weights = weights

    def orders(self) -> Iterator[Order]:
        w = self._workload
        for i in range(w.orders):
            card = self._rng.choices(self._cards, weights=self._weights)[0]
            amount = self._rng.randint(w.amount.min, w.amount.max)
            customer = Customer(
                name=self._faker.name(),
                email=self._faker.email(),
                phone=self._faker.phone_number(),
                address=self._faker.address().replace("\n", ", "),
            )
            yield Order(
                index=i,
                id=f"ord_{self._tag}_{i:05d}",
                amount=amount,
                currency=w.currency,
                description=f"{self._faker.word()} x{self._rng.randint(1, 4)}",
                card=card,
                customer=customer,
            )
