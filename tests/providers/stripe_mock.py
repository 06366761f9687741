"""stripe-mock as a reference for cardpay: the process, its spec, a shape comparator.

stripe-mock (github.com/stripe/stripe-mock, installed by `make stripe-mock`)
answers every Stripe v1 route with a fixture shaped by Stripe's OpenAPI spec
and validates requests against that spec. It is stateless: any id works in a
path. We use it two ways: its answers are the reference SHAPE of each object
(every field it returns, with its JSON type), and its 400s tell which requests
are malformed.

- ``StripeMock``: one process on loopback ports the system picks (``-http-addr
  127.0.0.1:0``; ``-http-port`` would bind every interface, and without
  ``-https-addr`` it also opens HTTPS on 0.0.0.0:12112), in its own process group.
- ``need_stripe_mock()``: the binary and spec, or a skip (locally) / failure
  (``PAYCHAOS_REQUIRE_STRIPE_MOCK=1``, CI).
- ``Spec``: spec3.json's ``components.schemas`` with ``$ref``/``anyOf`` resolved.
- ``compare(reference, candidate, spec, schema)``: every field of the reference
  present in the candidate with the same JSON type, recursively; a null on
  either side only where the spec says ``nullable``; a field that is "an id or
  the expanded object" (``anyOf`` string or object) may take either shape.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests

__all__ = ["BINARY", "SECRET_KEY", "SPEC", "SKIP_REASON", "Mismatch", "Spec", "StripeMock", "StripeMockError",
           "check_types", "compare", "json_type", "need_stripe_mock", "render"]

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "tools" / "bin" / "stripe-mock"
SPEC = ROOT / "tools" / "stripe-mock" / "spec3.json"
SKIP_REASON = ("stripe-mock not installed (tools/bin/stripe-mock, tools/stripe-mock/spec3.json): "
               "run make stripe-mock")
SECRET_KEY = "sk_test_paychaos"  # stripe-mock accepts any sk_test_ key, and refuses pk_ keys

_LISTENING = re.compile(r"Listening for HTTP at address: (\S+)")


class StripeMockError(RuntimeError):
    """stripe-mock did not start, or did not answer in time."""


def stripe_mock_required() -> bool:
    return os.environ.get("PAYCHAOS_REQUIRE_STRIPE_MOCK", "") not in ("", "0", "false", "no")


def need_stripe_mock() -> Path:
    """The binary, or skip (locally) / fail (when required)."""
    if not (os.access(BINARY, os.X_OK) and SPEC.is_file()):
        if stripe_mock_required():
            pytest.fail(f"PAYCHAOS_REQUIRE_STRIPE_MOCK is set but {SKIP_REASON}", pytrace=False)
        pytest.skip(SKIP_REASON)
    return BINARY


class StripeMock:
    """One stripe-mock process. ``start()`` returns once it answers an API call."""

    def __init__(self, binary: Path, log_path: Path):
        self.binary, self.log_path = binary, log_path
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 20.0) -> str:
        # Output goes to a file, not a pipe: nobody reads a pipe after start-up,
        # and a full one would block the server.
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            self.url = self._wait_for_address(deadline)
            self._wait_until_answering(deadline)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace").strip() or "(no output)"
        except OSError:
            return "(no output)"

    def _wait_for_address(self, deadline: float) -> str:
        while True:
            found = _LISTENING.search(self._log())
            if found:
                return f"http://{found.group(1)}"
            if self.proc.poll() is not None:
                raise StripeMockError(f"{self.binary} exited with status {self.proc.returncode} before "
                                      f"listening: {self._log()}")
            if time.monotonic() > deadline:
                raise StripeMockError(f"{self.binary} printed no HTTP address in time; output: {self._log()}")
            time.sleep(0.02)

    def _wait_until_answering(self, deadline: float) -> None:
        last: object = None
        with requests.Session() as session:
            while time.monotonic() < deadline:
                try:
                    resp = session.get(f"{self.url}/v1/customers/cus_ready", timeout=2,
                                       headers={"Authorization": f"Bearer {SECRET_KEY}"})
                    if resp.status_code == 200:
                        return
                    last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                except requests.RequestException as exc:
                    last = exc
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        raise StripeMockError(f"stripe-mock at {self.url} did not answer GET /v1/customers/cus_ready "
                              f"(last: {last}); output: {self._log()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


# --- the spec ---------------------------------------------------------------

class Spec:
    """components.schemas of spec3.json. Nodes are the spec's own dicts."""

    def __init__(self, document: dict):
        self.document = document
        self.schemas: dict[str, dict] = document["components"]["schemas"]

    @classmethod
    @cache
    def load(cls, path: Path = SPEC) -> "Spec":
        return cls(json.loads(Path(path).read_text()))

    def deref(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def alternatives(self, node: dict) -> list[dict]:
        """The concrete schemas a value of ``node`` may take (anyOf flattened, refs resolved)."""
        node = self.deref(node)
        if "anyOf" not in node:
            return [node]
        return [alt for branch in node["anyOf"] for alt in self.alternatives(branch)]

    @staticmethod
    def nullable(node: dict | None) -> bool:
        return bool(node and node.get("nullable"))

    def response(self, method: str, route: str) -> dict:
        """The 200 schema of an operation, e.g. ("get", "/v1/payment_intents/{intent}")."""
        op = self.document["paths"][route][method.lower()]
        return op["responses"]["200"]["content"]["application/json"]["schema"]

    def _owner(self, node: dict, key: str, like: Any) -> dict | None:
        """The object alternative of ``node`` defining ``key``; the one most like ``like`` first."""
        objects = [alt for alt in self.alternatives(node) if "properties" in alt]
        if isinstance(like, dict) and len(objects) > 1:
            objects.sort(key=lambda alt: -len(alt["properties"].keys() & like.keys()))
        return next((alt for alt in objects if key in alt["properties"]), None)

    def property(self, node: dict, key: str, like: Any = None) -> dict | None:
        """The schema of ``node``'s field ``key``."""
        owner = self._owner(node, key, like)
        return owner["properties"][key] if owner else None

    def is_required(self, node: dict, key: str, like: Any = None) -> bool:
        """Stripe lists in ``required`` the fields every answer has; the others it may leave out
        (``total_count`` of a search without ``expand[]=total_count``)."""
        owner = self._owner(node, key, like)
        return owner is None or key in owner.get("required", ())

    def items(self, node: dict) -> dict | None:
        for alt in self.alternatives(node):
            if "items" in alt:
                return alt["items"]
        return None

    def at(self, schema: str, path: str) -> dict | None:
        """The schema at a dotted path: ``spec.at("payment_intent", "payment_method_options.card")``.
        ``[]`` steps into array items: ``spec.at("charge", "refunds.data[].amount")``."""
        node: dict | None = self.schemas[schema]
        for step in path.split("."):
            key, arrays = step.rstrip("[]"), step.count("[]")
            node = self.property(node, key) if node is not None else None
            for _ in range(arrays):
                node = self.items(node) if node is not None else None
        return node

    def is_nullable(self, schema: str, path: str) -> bool:
        return self.nullable(self.at(schema, path))

    def is_free_map(self, node: dict | None) -> bool:
        """metadata-like objects: keys are the user's, not the spec's."""
        alts = self.alternatives(node) if node is not None else []
        return bool(alts) and all("properties" not in a and a.get("additionalProperties") for a in alts)

    def is_expandable(self, node: dict | None) -> bool:
        """An id or the object it names (``customer``, ``latest_charge``, ...)."""
        alts = self.alternatives(node) if node is not None else []
        return any(a.get("type") == "string" for a in alts) and any("properties" in a for a in alts)

    def allows_number(self, node: dict | None) -> bool:
        return node is not None and any(a.get("type") == "number" for a in self.alternatives(node))


# --- the comparator ---------------------------------------------------------

def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


@dataclass(frozen=True)
class Mismatch:
    path: str
    expected: str  # stripe-mock's JSON type (or the spec's types)
    actual: str  # cardpay's JSON type, or "missing"
    why: str
    against: str = "stripe-mock"

    def __str__(self) -> str:
        return f"{self.path}: {self.against} {self.expected}, cardpay {self.actual} ({self.why})"


def compare(reference: Any, candidate: Any, spec: Spec, schema: dict | None, path: str) -> list[Mismatch]:
    """Where ``candidate`` lacks the shape of ``reference``; [] when it has it.

    ``path`` names the root, e.g. "payment_intent"; mismatches are reported as
    "payment_intent.latest_charge", "list.data[].amount". Array elements: the
    reference's first element against each of the candidate's.
    """
    found: dict[Mismatch, None] = {}  # ordered, without repeats from array elements
    _compare(reference, candidate, spec, schema, path, found)
    return list(found)


def _compare(ref: Any, got: Any, spec: Spec, node: dict | None, path: str, found: dict) -> None:
    rtype, gtype = json_type(ref), json_type(got)
    if ref is None or got is None:
        if ref is not got and not spec.nullable(node):
            found[Mismatch(path, rtype, gtype, "null, and the spec does not say nullable")] = None
        return
    if rtype != gtype:
        if spec.is_expandable(node) and {rtype, gtype} == {"string", "object"}:
            return
        if {rtype, gtype} == {"integer", "number"} and spec.allows_number(node):
            return
        found[Mismatch(path, rtype, gtype, "different JSON type")] = None
        return
    if rtype == "object":
        if spec.is_free_map(node):
            return
        for key, value in ref.items():
            child = spec.property(node, key, like=ref) if node is not None else None
            if key not in got:
                optional = node is not None and not spec.is_required(node, key, like=ref)
                why = "field absent; the spec marks it optional" if optional else "field absent"
                found[Mismatch(f"{path}.{key}", json_type(value), "missing", why)] = None
            else:
                _compare(value, got[key], spec, child, f"{path}.{key}", found)
    elif rtype == "array" and ref and got:
        child = spec.items(node) if node is not None else None
        for element in got:
            _compare(ref[0], element, spec, child, f"{path}[]", found)


def check_types(value: Any, spec: Spec, node: dict, path: str) -> list[Mismatch]:
    """Where ``value`` disagrees with the spec itself, for the fields it has (no reference value:
    stripe-mock never answers 402, so a card error's envelope is judged by the spec alone)."""
    found: dict[Mismatch, None] = {}
    _check_types(value, spec, node, path, found)
    return list(found)


def _check_types(value: Any, spec: Spec, node: dict, path: str, found: dict) -> None:
    alts = spec.alternatives(node)
    allowed = {a.get("type", "object") for a in alts if "type" in a or "properties" in a}
    expected, vtype = "|".join(sorted(allowed)), json_type(value)
    if value is None:
        if not spec.nullable(node):
            found[Mismatch(path, expected, "null", "the spec does not say nullable", "spec")] = None
    elif allowed and vtype not in allowed and not (vtype == "integer" and "number" in allowed):
        found[Mismatch(path, expected, vtype, "type not allowed by the spec", "spec")] = None
    elif isinstance(value, dict) and not spec.is_free_map(node):
        for key, child_value in value.items():
            child = spec.property(node, key, like=value)
            if child is None:
                found[Mismatch(f"{path}.{key}", "absent", json_type(child_value), "not a field in the spec",
                               "spec")] = None
            else:
                _check_types(child_value, spec, child, f"{path}.{key}", found)
    elif isinstance(value, list):
        child = spec.items(node)
        for element in value:
            if child is not None:
                _check_types(element, spec, child, f"{path}[]", found)


def render(mismatches: list[Mismatch], what: str) -> str:
    lines = [f"{what}: {len(mismatches)} field(s) where cardpay differs from stripe-mock or the spec"]
    lines += [f"  {m}" for m in mismatches]
    return "\n".join(lines)
