"""Per-request fault decisions: the ONE place where probability is applied.

Each decision is a uniform draw from a hash of (seed, provider, rule id,
order reference, n-th matching request of that order), or of the
instance-wide request sequence when the request carries no order reference.
It does not depend on how concurrent orders interleave, so a run replays.

With ``first_n`` the rate selects ORDERS (one draw per order): a selected
order is faulted on its first ``first_n`` matching requests, then never.
``window_s`` selects orders the same way: a selected order is faulted on every
matching request within ``window_s`` seconds of its first one (with both, both
limits hold): "every reply for this payment is lost for 5 s". A
request without an order reference counts by its idempotency key (the
provider passes ``key:<key>`` as the unit), and one with neither as one
anonymous order.
"""

from __future__ import annotations

from hashlib import blake2b

from .faults import Effect, FaultRule, FaultRuleError, parse_rule

__all__ = ["FaultEngine", "Decision", "draw"]

_SCALE = float(2**64)


def draw(seed: int, provider: str, rule_id: str, ref: str, n: int | str) -> float:
    """A uniform number in [0, 1) fixed by its inputs; ``provider`` is the
    instance name, so two instances of one type draw independently."""
    digest = blake2b(f"{seed}|{provider}|{rule_id}|{ref}|{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


class Decision:
    __slots__ = ("rule_id", "kind", "draw", "effect")

    def __init__(self, rule_id: str, kind: str, u: float, effect: Effect):
        self.rule_id = rule_id
        self.kind = kind
        self.draw = u
        self.effect = effect

    def journal(self) -> tuple:
        return (self.rule_id, self.kind, round(self.draw, 6))


class _Active:
    __slots__ = ("rule", "effect", "counts", "selected", "first_seen")

    def __init__(self, rule: FaultRule):
        self.rule = rule
        self.effect = rule.effect()
        self.counts: dict[str | None, int] = {}  # matching requests seen per order
        self.selected: dict[str | None, float] = {}  # first_n / window_s: the order's selection draw
        self.first_seen: dict[str | None, float] = {}  # window_s: when the order's first matching request came


class FaultEngine:
    def __init__(self, provider: str, seed: int = 0):
        self.provider = provider
        self.seed = seed
        self.rules: list[_Active] = []
        self._next_id = 1

    def add(self, data) -> FaultRule:
        rule = parse_rule(data)
        if rule.id is None:
            while any(a.rule.id == f"f{self._next_id}" for a in self.rules):
                self._next_id += 1
            rule = rule.with_id(f"f{self._next_id}")
            self._next_id += 1
        elif any(a.rule.id == rule.id for a in self.rules):
            raise FaultRuleError([("id", f"id={rule.id!r} is already active; delete it first"
                                         " or leave id out to get a fresh one")])
        self.rules.append(_Active(rule))
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [a for a in self.rules if a.rule.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules = []

    def reset(self) -> None:
        """Forget rules and restart ids, so that a reset run names its rules alike."""
        self.rules = []
        self._next_id = 1

    def list(self) -> list[dict]:
        return [a.rule.to_json() for a in self.rules]

    def decide(self, method: str, path: str, order_ref: str | None, seq: int,
               role: str = "other", now: float = 0.0) -> Decision | None:
        """The fault for this request, or None. Every matching rule counts the
        request; the first rule (in insertion order) that fires wins."""
        fired = None
        seed, provider = self.seed, self.provider
        for active in self.rules:
            rule = active.rule
            if not rule.match.matches(method, path, role):
                continue
            n = active.counts.get(order_ref, 0) + 1
            active.counts[order_ref] = n
            if fired is not None:
                continue
            if rule.first_n is not None or rule.window_s is not None:
                u = active.selected.get(order_ref)
                if u is None:
                    u = active.selected[order_ref] = draw(seed, provider, rule.id, order_ref or "", "select")
                    active.first_seen[order_ref] = now
                hit = u < rule.rate and (rule.first_n is None or n <= rule.first_n) and (
                    rule.window_s is None or now - active.first_seen[order_ref] <= rule.window_s)
            else:
                u = draw(seed, provider, rule.id, order_ref, n) if order_ref is not None \
                    else draw(seed, provider, rule.id, "#seq", seq)
                hit = u < rule.rate
            if hit:
                fired = Decision(rule.id, rule.kind, u, active.effect)
        return fired
