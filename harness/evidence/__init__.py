"""Evidence: per-order histories, attempt classes, and the run journal."""

from harness.evidence.model import Attempt, Evidence, FaultEvent, LedgerEntry, OrderHistory, TargetCall

__all__ = ["Attempt", "Evidence", "FaultEvent", "LedgerEntry", "OrderHistory", "TargetCall"]
