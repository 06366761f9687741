"""Orders for the workload: Faker customers, test instruments in the scenario's mix.

Everything is drawn from generators seeded by the run seed, so the same seed
builds the same orders in the same order.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

from faker import Faker
from pydantic import BaseModel, ConfigDict, Field

from harness.spec import catalog
from harness.spec.scenario import Workload

__all__ = ["Card", "Customer", "Order", "OrderFactory"]


class Card(BaseModel):
    """A provider profile's test instrument (``TestInstrument``) as the workload sees it."""

    model_config = ConfigDict(frozen=True)

    name: str  # short name in the provider's instrument table
    provider: str  # the provider TYPE whose table it comes from
    expected: str  # succeeded | declined | requires_action
    category: str  # ok | decline | invalid | risk_block | action
    # What templates send ({order.card.number}, {order.card.payment_method}...). Never
    # serialised: no evidence file or journal holds a card number.
    fields: dict[str, str | int] = Field(default_factory=dict, exclude=True)


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
        """The template context: ``{order.amount}``, ``{customer.email}``, ``{order.card.number}``..."""
        data = self.model_dump()
        data["card"] = {**self.card.fields, **data["card"]}
        return {"order": data, "customer": data["customer"]}


def _card(provider_type: str, instrument: Any) -> Card:
    return Card(name=instrument.name, provider=provider_type, expected=instrument.expected,
                category=instrument.category, fields=dict(instrument.fields))


class OrderFactory:
    def __init__(self, workload: Workload, provider_types: list[str], seed: int, run_tag: str):
        self._workload = workload
        self._rng = random.Random(seed)
        self._faker = Faker()
        self._faker.seed_instance(seed)
        self._tag = run_tag
        types = list(dict.fromkeys(provider_types))
        tables = {t: catalog.instruments(t) for t in types}
        self._cards: list[Card] = []
        weights: list[float] = []
        for name, weight in workload.cards.items():
            provider_type = next(t for t in types if name in tables[t])
            self._cards.append(_card(provider_type, tables[provider_type][name]))
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
