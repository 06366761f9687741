"""A tiny router: exact paths through one dict lookup (the hot path), and
``{param}`` patterns for the rest, e.g. ``/v1/payment_intents/{id}/confirm``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Route", "Router"]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    endpoint: str  # the journal's name for it, e.g. "payment_intents.create"
    handler: Callable  # handler(exchange, params, args, decline_code) -> Result


class Router:
    def __init__(self, routes: list[Route]):
        self.routes = tuple(routes)
        self._exact: dict[tuple[str, str], Route] = {}
        self._patterns: list[tuple[Route, tuple[str, ...]]] = []
        for route in routes:
            if "{" in route.pattern:
                self._patterns.append((route, tuple(route.pattern.split("/"))))
            elif (route.method, route.pattern) in self._exact:
                raise ValueError(f"duplicate route {route.method} {route.pattern}")
            else:
                self._exact[(route.method, route.pattern)] = route

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}
        parts = path.split("/")
        for route, segs in self._patterns:
            if route.method != method or len(segs) != len(parts):
                continue
            args = {}
            for seg, part in zip(segs, parts):
                if seg.startswith("{"):
                    if not part:
                        break
                    args[seg[1:-1]] = part
                elif seg != part:
                    break
            else:
                return route, args
        return None, {}
