"""The target config: how to start the system under test and how to talk to it.

Any HTTP API shape is expressible: requests are templates (method, path, JSON
body or form) over the order's fields, and outcomes are read from a response
field and/or the HTTP status.
"""

from __future__ import annotations

import re
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
    """How paychaos starts the service. ``${VAR}`` and ``${VAR:-default}`` in
    command, env, cwd and before are expanded from paychaos's environment."""

    command: list[str] = Field(min_length=1)
    cwd: str = "."
    env: dict[str, str] = Field(default_factory=dict)
    before: list[list[str]] = Field(default_factory=list, description="commands run first (seed a database...); "
                                    "each must exit 0")
    before_timeout_s: Seconds = 60.0
    stop_timeout_s: Seconds = 5.0

    @field_validator("command", "env", "cwd", "before")
    @classmethod
    def _placeholders(cls, v: Any) -> Any:
        return _check_placeholders(v, START_FIELDS)

    @field_validator("before")
    @classmethod
    def _steps(cls, v: list[list[str]]) -> list[list[str]]:
        for i, step in enumerate(v):
            if not step:
                raise ValueError(f"item {i} is an empty command; give the program and its arguments as a list")
        return v


class CredentialValue(Strict):
    """A credential the service keeps itself (in its database, its config): the
    provider instance is told to accept exactly this value; nothing is set in
    the service's environment."""

    value: str = Field(min_length=1)


class ProviderBinding(Strict):
    """One provider instance the target talks to: its type, how the target
    finds it, and where its requests carry the order.

    The instance name is the key in ``providers:``; ``type`` defaults to it
    (``cardpay: {...}`` is an instance named cardpay of type cardpay).
    """

    type: str | None = Field(None, min_length=1, description="provider type; default: the instance name")
    url_env: str = Field(min_length=1, description="env var the harness sets to the instance's base URL")
    credentials: dict[str, str | CredentialValue] = Field(
        default_factory=dict, description="credential name (from the provider's profile) -> env var to set it in, "
        "or {value: ...} when the service already has one")
    api_key_env: str | None = Field(None, min_length=1, description="short for credentials: {api_key: ENV}")
    order_ref: str | None = Field(None, min_length=1, description="request field carrying the order reference; "
                                  "default: the provider profile's")
    correlate: list[Correlation] = Field(default_factory=list, description="more ways to tie provider traffic to "
                                         "orders, read from the service's answers")
    unattributed_max: float = Field(0.02, ge=0, le=1, description="share of provider requests or ledger entries that "
                                    "may stay unattributed before verdicts are refused")

    @model_validator(mode="after")
    def _one_api_key(self) -> "ProviderBinding":
        if self.api_key_env is not None and "api_key" in self.credentials:
            raise ValueError("give api_key_env or credentials.api_key, not both")
        return self

    def credential_envs(self) -> dict[str, str]:
        """Credential name -> the env var the harness sets it in (minted credentials)."""
        out = {k: v for k, v in self.credentials.items() if isinstance(v, str)}
        if self.api_key_env is not None:
            out["api_key"] = self.api_key_env
        return out

    def credential_values(self) -> dict[str, str]:
        """Credentials the service already holds: the instance must accept these."""
        return {k: v.value for k, v in self.credentials.items() if isinstance(v, CredentialValue)}

    def credential_names(self) -> set[str]:
        return set(self.credential_envs()) | set(self.credential_values())


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


class Capture(Strict):
    """Where a step's answer holds a value later steps (and the lookup) use as
    ``{name}``: a JSON path, a header, an HTML form field (a CSRF token), or a
    cookie; ``pattern`` (group 1, or the whole match) cuts a part out of it."""

    json_path: str | None = Field(None, alias="json")
    header: str | None = None
    form_field: str | None = None
    cookie: str | None = None
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        return _regex(v)

    @model_validator(mode="after")
    def _one_source(self) -> "Capture":
        given = [n for n in ("json_path", "header", "form_field", "cookie") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of json, header, form_field, cookie")
        return self


class Step(RequestTemplate):
    """One request of a multi-step checkout. ``to: provider:<instance>`` sends it
    to a provider instead of the service, as the customer's browser would (a
    Stripe.js confirmation); those attempts are the customer's, never judged as
    the service's retries."""

    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]+$")
    to: str = Field("service", pattern=r"^(service|provider:[A-Za-z0-9_-]+)$")
    capture: dict[str, Capture] = Field(default_factory=dict)
    pays: bool = False  # the step whose timing and outcome are the payment's
    expect_status: list[int] | None = Field(None, description="statuses that let the sequence go on "
                                            "(default: 2xx and 3xx); any other stops it")

    @field_validator("capture")
    @classmethod
    def _names(cls, v: dict[str, Capture]) -> dict[str, Capture]:
        for name in v:
            if not name.replace("_", "").isalnum() or "." in name:
                raise ValueError(f"capture name {name!r} must be letters, digits and _ (it is used as {{{name}}})")
        return v

    @property
    def provider(self) -> str | None:
        return self.to.split(":", 1)[1] if self.to.startswith("provider:") else None


class Sequence(Strict):
    """``pay: {steps: [...]}``: a checkout in several calls sharing a cookie jar."""

    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_payer(self) -> "Sequence":
        payers = [i for i, s in enumerate(self.steps) if s.pays]
        if len(payers) > 1:
            raise ValueError(f"steps {payers} all say pays: true; one step pays")
        if not payers and all(s.provider for s in self.steps):
            raise ValueError("no step goes to the service; mark the step whose answer is the payment's with pays: true")
        return self

    @property
    def payer(self) -> int:
        """The index of the step that pays: the marked one, else the last step to the service."""
        for i, s in enumerate(self.steps):
            if s.pays:
                return i
        return max(i for i, s in enumerate(self.steps) if s.provider is None)

    def captures(self) -> list[str]:
        return [name for s in self.steps for name in s.capture]


class Requests(Strict):
    pay: RequestTemplate | Sequence
    lookup: RequestTemplate | Sequence | None = None


Outcome = Literal["succeeded", "declined", "failed", "pending"]


def _regex(v: str | None) -> str | None:
    import re

    if v is not None:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"{v!r} is not a valid regular expression: {exc}") from None
    return v


class FieldTest(Strict):
    """A test on one field of the JSON answer (dotted path, ``errors.0.code``)."""

    field: str = Field(min_length=1)
    exists: bool | None = None
    equals: Any = None
    is_in: list[Any] | None = Field(None, alias="in")
    match: str | None = Field(None, description="regular expression searched in the field's text")

    @field_validator("match")
    @classmethod
    def _match(cls, v: str | None) -> str | None:
        return _regex(v)

    @model_validator(mode="after")
    def _one_test(self) -> "FieldTest":
        given = [n for n, v in (("exists", self.exists), ("equals", self.equals), ("in", self.is_in),
                                ("match", self.match)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"give one of exists, equals, in, match for field {self.field!r} (got {', '.join(given)})")
        return self

    def holds(self, body: Any) -> bool:
        import re

        from harness.spec.paths import read_path

        value = read_path(body, self.field)
        if self.exists is not None:
            return (value is not None) is self.exists
        if value is None:
            return False
        if self.equals is not None:
            return value == self.equals or str(value) == str(self.equals)
        if self.is_in is not None:
            return value in self.is_in or str(value) in [str(x) for x in self.is_in]
        if self.match is not None:
            return re.search(self.match, value if isinstance(value, str) else str(value)) is not None
        return True  # a bare field: present


class OutcomeRule(FieldTest):
    """``{status: 200, field: error, exists: true, outcome: declined}``: status and
    field tests together; ``all:`` adds tests on more fields. First match wins."""

    field: str | None = None  # type: ignore[assignment]
    status: int | list[int] | None = Field(None, description="a status or a list of statuses")
    status_range: tuple[int, int] | None = Field(None, description="[low, high], both included")
    all_of: list[FieldTest] = Field(default_factory=list, alias="all")
    outcome: Outcome

    def holds(self, status: int | None, body: Any) -> bool:  # type: ignore[override]
        if self.status is not None:
            wanted = self.status if isinstance(self.status, list) else [self.status]
            if status not in wanted:
                return False
        if self.status_range is not None and (status is None or not self.status_range[0] <= status <= self.status_range[1]):
            return False
        if self.field is not None and not FieldTest.holds(self, body):
            return False
        return all(t.holds(body) for t in self.all_of)


class OutcomeSpec(Strict):
    """Where the outcome is. Either ordered ``rules`` (first match wins, then
    ``default``), or a response ``field`` mapped to outcomes and/or a
    ``by_status`` table."""

    rules: list[OutcomeRule] = Field(default_factory=list)
    default: Outcome | None = None
    field: str | None = "status"
    map: dict[Literal["succeeded", "declined", "failed", "pending"], list[str]] = Field(
        default_factory=lambda: {o: [o] for o in OUTCOMES}
    )
    by_status: dict[int, Literal["succeeded", "declined", "failed", "pending"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _some_source(self) -> "OutcomeSpec":
        if not self.field and not self.by_status and not self.rules:
            raise ValueError("give rules, or a field to read the outcome from, or a by_status table")
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


class AmountFromResponse(Strict):
    from_response: str = Field(min_length=1, description="dotted path of the amount (minor units) in the pay answer")


class AmountFixed(Strict):
    fixed: int = Field(ge=0, description="the amount (minor units) the service always charges")


class Correlation(Strict):
    """How provider traffic is tied to orders without the service's help: read
    a value from the service's pay (or lookup) answer. ``as: object_id`` (the
    provider's object id, e.g. a PaymentIntent id inside a client secret) links
    every attempt and ledger entry of that object; ``as: reference`` (the
    service's own order code, which it sends to the provider as the order
    reference) maps that reference to the order."""

    response: str | None = Field(None, min_length=1, description="dotted path in the answer, e.g. clientSecret")
    capture: str | None = Field(None, min_length=1, description="or a value a step of the pay sequence captured "
                                "(e.g. the PaymentMethod the customer's browser created)")
    pattern: str | None = Field(None, description="regular expression; group 1 (or the whole match) is the value")
    as_: Literal["object_id", "reference"] = Field("object_id", alias="as")

    @model_validator(mode="after")
    def _one_source(self) -> "Correlation":
        if (self.response is None) == (self.capture is None):
            raise ValueError("give exactly one of response (a path in the answer) or capture (a captured value)")
        return self

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        return _regex(v)

    def extract(self, body: Any, refs: dict[str, Any] | None = None) -> str | None:
        import re

        from harness.spec.paths import read_path

        value = (refs or {}).get(self.capture) if self.capture is not None else read_path(body, self.response)
        if value is None or isinstance(value, (dict, list)):
            return None
        text = str(value)
        if self.pattern is None:
            return text
        m = re.search(self.pattern, text)
        if m is None:
            return None
        return m.group(1) if m.groups() else m.group(0)


class Target(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    start: StartSpec | None = None
    base_url: str = "http://127.0.0.1:{port}"
    ready: ReadySpec = Field(default_factory=ReadySpec)
    providers: dict[str, ProviderBinding] = Field(min_length=1)
    requests: Requests
    response: ResponseSpec = Field(default_factory=ResponseSpec)
    # What the service is expected to charge: the order's amount (default), a
    # value from its pay answer, or a fixed amount (a service that prices itself).
    amount: Literal["from_order"] | AmountFromResponse | AmountFixed = "from_order"
    # Variables of paychaos's environment that change how the service behaves
    # (feature switches, seeded bugs, its retry settings): their values go into
    # the run journal and onto the replay line. A name, or a glob (``REFTARGET_*``).
    replay_env: list[str] = Field(default_factory=list)

    @field_validator("replay_env")
    @classmethod
    def _replay_env(cls, v: list[str]) -> list[str]:
        for i, name in enumerate(v):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?", name):
                raise ValueError(f"item {i} ({name!r}) is not an environment variable name (or a NAME_* glob)")
            if re.search(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", name.upper()):
                raise ValueError(f"item {i} ({name!r}) looks like a secret, and its value would be written to the "
                                 "reports; list only settings that change behaviour, never credentials")
        return v

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
