"""The evidence sink: everything a scenario observes is streamed to disk as it
happens (orders, target calls, provider journal pages, ledgers), so the run
holds no growing lists of calls or attempts, and an interrupted run leaves its
evidence behind. The checks' per-order histories are built from it at the end.

Sinks are registered by name (``SINKS``); ``jsonl`` writes one file per stream
under the scenario's run directory:

    orders.jsonl  calls.jsonl  journal-<instance>.jsonl  ledger-<instance>.json
    deliveries-<instance>.jsonl   (what the fault proxy passed on, when one was in front)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Protocol

from harness.evidence.model import TargetCall
from harness.workload.orders import Order

__all__ = ["EvidenceSink", "JsonlSink", "Recorded", "SINKS", "open_sink"]


@dataclass
class Recorded:
    """What a sink gives back for the evidence builder."""

    orders: list[Order] = field(default_factory=list)
    calls: list[TargetCall] = field(default_factory=list)
    journals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ledgers: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class EvidenceSink(Protocol):
    def order(self, order: Order) -> None: ...

    def call(self, call: TargetCall) -> None: ...

    def journal_page(self, instance: str, entries: list[dict[str, Any]]) -> None: ...

    def ledger(self, instance: str, snapshot: dict[str, Any]) -> None: ...

    def deliveries(self, instance: str, records: list[dict[str, Any]]) -> None: ...

    def read(self) -> Recorded: ...

    def close(self) -> None: ...


class JsonlSink:
    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, Any] = {}
        for stale in self.dir.glob("*.jsonl"):
            stale.unlink()
        for stale in self.dir.glob("ledger-*.json"):
            stale.unlink()

    def _write(self, name: str, obj: Any) -> None:
        f = self._files.get(name)
        if f is None:
            f = self._files[name] = open(self.dir / name, "a", encoding="utf-8")
        f.write(json.dumps(obj, separators=(",", ":"), default=str) + "\n")

    def order(self, order: Order) -> None:
        self._write("orders.jsonl", order.model_dump(mode="json"))

    def call(self, call: TargetCall) -> None:
        self._write("calls.jsonl", call.model_dump(mode="json"))

    def journal_page(self, instance: str, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self._write(f"journal-{instance}.jsonl", entry)
        if not entries:  # an instance that saw no request still has an (empty) journal
            (self.dir / f"journal-{instance}.jsonl").touch()

    def ledger(self, instance: str, snapshot: dict[str, Any]) -> None:
        (self.dir / f"ledger-{instance}.json").write_text(json.dumps(snapshot, separators=(",", ":")))

    def deliveries(self, instance: str, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._write(f"deliveries-{instance}.jsonl", record)
        if not records:
            (self.dir / f"deliveries-{instance}.jsonl").touch()

    def flush(self) -> None:
        for f in self._files.values():
            f.flush()

    def read(self) -> Recorded:
        self.flush()
        out = Recorded()
        out.orders = [Order.model_validate(d) for d in _lines(self.dir / "orders.jsonl")]
        out.calls = [TargetCall.model_validate(d) for d in _lines(self.dir / "calls.jsonl")]
        for path in sorted(self.dir.glob("journal-*.jsonl")):
            out.journals[path.stem[len("journal-"):]] = list(_lines(path))
        for path in sorted(self.dir.glob("ledger-*.json")):
            out.ledgers[path.stem[len("ledger-"):]] = json.loads(path.read_text())
        for path in sorted(self.dir.glob("deliveries-*.jsonl")):
            out.deliveries[path.stem[len("deliveries-"):]] = list(_lines(path))
        return out

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()


def _lines(path: Path):
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


SINKS: Mapping[str, type] = MappingProxyType({"jsonl": JsonlSink})


def open_sink(kind: str, directory: Path) -> EvidenceSink:
    if kind not in SINKS:
        raise ValueError(f"evidence sink {kind!r} is unknown; use one of {sorted(SINKS)}")
    return SINKS[kind](directory)
