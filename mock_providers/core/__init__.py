"""Building blocks shared by every mock provider: the HTTP server, the
provider pipeline, journal, ledger, idempotency store, fault engine and the
control API."""

from .fault_engine import FaultEngine
from .faults import FAULT_KINDS, FaultRuleError, parse_rule
from .http import Reply, Request
from .idempotency import IdempotencyStore
from .journal import Exchange, Journal
from .ledger import Ledger
from .provider import Provider, Result, info
from .routing import Route, Router
from .server import HttpServer

__all__ = ["FAULT_KINDS", "Exchange", "FaultEngine", "FaultRuleError", "HttpServer", "IdempotencyStore",
           "Journal", "Ledger", "Provider", "Reply", "Request", "Result", "Route", "Router", "info",
           "parse_rule"]
