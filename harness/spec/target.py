"""The target config: how to start the system under test and how to talk to it.

Any HTTP API shape is expressible: requests are templates (method, path, JSON
body or form) over the order's fields, and outcomes are read from a response
field and/or the HTTP status.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.spec.templates import ORDER_FIELDS, START_FIELDS, unknown_placeholders
from harness.spec.types import Seconds, Strict

__all__ = ["Target", "StartSpec", "ReadySpec", "ProviderBinding", "RequestTemplate", "ResponseSpec", "OUTCOMES"]

OUTCOMES = ("succeeded", "declined", "failed", "pending")


def _check_placeholders(value: Any, known: frozenset[str]) -> Any:
    bad = unknown_placeholders(value, known)
    if bad:
        raise ValueError(
            f"unknown placeholder {{{bad[0]}}}; known: " + ", ".join("{" + k + "}" for k in sorted(known))
        )
    return value


class ReadySpec(Strict):
    """Readiness probe: the target is ready when GET path answers 2xx."""

    path: str = "/healthz"
    timeout_s: Seconds = Field(20.0, description="give up (exit 3) after this long")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(f"must start with / (got {v!r})")
        return v


class StartSpec(Strict):
    command: list[str] = Field(min_length=1)
    cwd: str = "."
    env: dict[str, str] = Field(default_factory=dict)
    stop_timeout_s: Seconds = 5.0

    @field_validator("command", "env")
    @classmethod
    def _placeholders(cls, v: Any) -> Any:
        return _check_placeholders(v, START_FIELDS)


class ProviderBinding(Strict):
    """One provider instance the target talks to: its type, how the target
    finds it, and where its requests carry the order.

    The instance name is the key in ``providers:``; ``type`` defaults to it
    (``cardpay: {...}`` is an instance named cardpay of type cardpay).
    """

    type: str | None = Field(None, min_length=1, description="provider type; default: the instance name")
    url_env: str = Field(min_length=1, description="env var the harness sets to the instance's base URL")
    credentials: dict[str, str] = Field(
        default_factory=dict, description="credential name (from the provider's profile) -> env var to set it in")
    api_key_env: str | None = Field(None, min_length=1, description="short for credentials: {api_key: ENV}")
    order_ref: str | None = Field(None, min_length=1, description="request field carrying the order reference; "
                                  "default: the provider profile's")

    @model_validator(mode="after")
    def _one_api_key(self) -> "ProviderBinding":
        if self.api_key_env is not None and "api_key" in self.credentials:
            raise ValueError("give api_key_env or credentials.api_key, not both")
        return self

    def credential_envs(self) -> dict[str, str]:
        out = dict(self.credentials)
        if self.api_key_env is not None:
            out["api_key"] = self.api_key_env
        return out


class RequestTemplate(Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str
    json_body: Any = Field(None, alias="json")
    form: dict[str, Any] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: Seconds = 30.0

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(f"must start with / (got {v!r})")
        return _check_placeholders(v, ORDER_FIELDS)

    @field_validator("json_body", "form", "headers")
    @classmethod
    def _body(cls, v: Any) -> Any:
        return _check_placeholders(v, ORDER_FIELDS)

    @model_validator(mode="after")
    def _one_body(self) -> "RequestTemplate":
        if self.json_body is not None and self.form is not None:
            raise ValueError("give either json or form, not both")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0 (got {self.timeout_s})")
        return self


class Requests(Strict):
    pay: RequestTemplate
    lookup: RequestTemplate | None = None


class OutcomeSpec(Strict):
    """Where the outcome is: a response field mapped to outcomes, or HTTP status."""

    field: str | None = "status"
    map: dict[Literal["succeeded", "declined", "failed", "pending"], list[str]] = Field(
        default_factory=lambda: {o: [o] for o in OUTCOMES}
    )
    by_status: dict[int, Literal["succeeded", "declined", "failed", "pending"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _some_source(self) -> "OutcomeSpec":
        if not self.field and not self.by_status:
            raise ValueError("give a field to read the outcome from, or a by_status table, or both")
        seen: dict[str, str] = {}
        for outcome, values in self.map.items():
            for v in values:
                if v in seen and seen[v] != outcome:
                    raise ValueError(f"value {v!r} is mapped to both {seen[v]} and {outcome}")
                seen[v] = outcome
        return self


class ErrorFields(Strict):
    """Dotted paths into the response body (``error.action``)."""

    type: str | None = None
    code: str | None = None
    message: str | None = None
    action: str | None = None
    contact: str | None = None


class ResponseSpec(Strict):
    outcome: OutcomeSpec = Field(default_factory=OutcomeSpec)
    error: ErrorFields = Field(default_factory=ErrorFields)


class Target(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    start: StartSpec | None = None
    base_url: str = "http://127.0.0.1:{port}"
    ready: ReadySpec = Field(default_factory=ReadySpec)
    providers: dict[str, ProviderBinding] = Field(min_length=1)
    requests: Requests
    response: ResponseSpec = Field(default_factory=ResponseSpec)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https:// (got {v!r})")
        return _check_placeholders(v, frozenset({"port"})).rstrip("/")

    @model_validator(mode="after")
    def _port_needs_start(self) -> "Target":
        if "{port}" in self.base_url and self.start is None:
            raise ValueError("base_url uses {port} but there is no start section; give a fixed URL or a start command")
        return self
