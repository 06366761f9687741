"""The workload: orders (Faker, test-card mix), the target client
(``harness.workload.client``) and the async driver (``harness.workload.driver``).

Only the order models are re-exported here: the evidence model builds on them,
and the client builds on the evidence model.
"""

from harness.workload.orders import Card, Customer, Order, OrderFactory

__all__ = ["Card", "Customer", "Order", "OrderFactory"]
