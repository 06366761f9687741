"""The SDK drive plan (plan.json) and its runner for the Python drivers.

Pure Python, no ``stripe`` import: ``drive_py11.py`` loads it beside stripe
11.x in a subprocess, ``test_sdk_endpoints.py`` beside stripe 16.x in-process.
``drive_node.js`` mirrors ``project`` and ``resolve`` (keep the three alike).

A step's record (one JSON line per step from a driver)::

    {"step": ..., "endpoint": ..., "ok": bool, "status": HTTP status or null,
     "body": project(answer) | null, "error": {type, code, decline_code, param, message, payment_intent} | null}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

PLAN_FILE = Path(__file__).with_name("plan.json")

# The top-level fields a record keeps (the rest of the answer is dropped).
KEEP = ("id", "object", "status", "amount", "amount_capturable", "amount_received", "amount_captured",
        "amount_refunded", "captured", "paid", "refunded", "currency", "customer", "payment_method",
        "payment_intent", "charge", "latest_charge", "client_secret", "metadata", "description",
        "capture_method", "cancellation_reason", "email", "name", "type", "reason", "has_more", "url")
# Expandable fields: an expanded object is recorded as its id, with "<field>_expanded": true.
EXPANDABLE = ("customer", "payment_method", "payment_intent", "charge", "latest_charge")


def load_plan() -> list[dict]:
    return json.loads(PLAN_FILE.read_text())["steps"]


def project(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {k: body[k] for k in KEEP if k in body}
    for k in EXPANDABLE:
        if isinstance(out.get(k), dict):
            out[k] = out[k].get("id")
            out[k + "_expanded"] = True
    if isinstance(body.get("card"), dict):
        out["card"] = {k: body["card"].get(k) for k in ("last4", "brand", "exp_month", "exp_year")}
    if isinstance(body.get("data"), list):
        out["data"] = [project(item) for item in body["data"]]
        out["ids"] = [item.get("id") for item in body["data"] if isinstance(item, dict)]
        out["last_id"] = out["ids"][-1] if out["ids"] else None
    return out


def resolve(value: Any, run: str, done: dict[str, dict]) -> Any:
    """``{run}`` substituted; ``"$step.field"`` replaced by that earlier step's field."""
    if isinstance(value, dict):
        return {k: resolve(v, run, done) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, run, done) for v in value]
    if isinstance(value, str):
        if value.startswith("$"):
            step, _, field = value[1:].partition(".")
            found = ((done.get(step) or {}).get("body") or {}).get(field)
            return found if isinstance(found, str) and found else f"missing_{step}_{field}"
        return value.replace("{run}", run)
    return value


def error_record(exc: BaseException) -> tuple[int | None, dict]:
    """(HTTP status, error fields) of a stripe SDK error (11.x and 16.x alike), or of any other exception."""
    status = getattr(exc, "http_status", None)
    body = getattr(exc, "json_body", None)
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return status, {"type": "exception", "message": f"{type(exc).__name__}: {exc}"[:500]}
    out = {k: err.get(k) for k in ("type", "code", "decline_code", "param", "message")}
    pi = err.get("payment_intent")
    out["payment_intent"] = project(pi) if isinstance(pi, dict) else None
    return status, out


# call(endpoint, key_kind, id_or_None, params) -> (status, answer dict); raises on an error answer.
Call = Callable[[str, str, "str | None", dict], "tuple[int | None, dict]"]


def run_plan(call: Call, run: str, emit: Callable[[dict], None] = lambda rec: None,
             steps: list[dict] | None = None) -> list[dict]:
    """Run every step in order (a failed step does not stop the run; later steps see missing_* ids)."""
    done: dict[str, dict] = {}
    records = []
    for step in steps if steps is not None else load_plan():
        ident = resolve(step["id"], run, done) if "id" in step else None
        params = resolve(step.get("params", {}), run, done)
        rec: dict[str, Any] = {"step": step["step"], "endpoint": step["endpoint"]}
        try:
            status, answer = call(step["endpoint"], step["key"], ident, params)
            rec.update(ok=True, status=status, body=project(answer), error=None)
        except Exception as exc:  # every failure is a record: the test judges it
            status, err = error_record(exc)
            rec.update(ok=False, status=status, body=None, error=err)
        done[step["step"]] = rec
        records.append(rec)
        emit(rec)
    return records
