"""Settings of the reference target, read once from the environment.

Every tunable is validated before anything starts: a bad value is a
`ConfigError` whose message names `VAR=value`, states the rule and gives the
fix, and `python -m examples.reference_target` turns it into exit code 2.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .bugs import BugSet, UnknownBugError, parse_bugs

__all__ = ["ConfigError", "Settings", "DEFAULT_CONTACT"]

DEFAULT_CONTACT = "support@shop.example, +1-555-0100"
DEFAULT_API_KEY = "sk_test_reference_target"


class ConfigError(ValueError):
    """An environment variable has a value the target cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to know; build with `Settings.from_env()`."""

    cardpay_base_url: str
    cardpay_api_key: str = DEFAULT_API_KEY
    db_path: str = "reference.sqlite3"
    bugs: BugSet = BugSet()
    timeout_s: float = 1.0
    max_attempts: int = 3
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 2.0
    # A Retry-After longer than this is not waited for: the request would blow
    # its own time budget, so the payment fails fast (it was not accepted).
    # 2 s keeps the worst case (3 x 1 s + 2 x 2 s + 1 s lookup) within 8 s.
    retry_after_max_s: float = 2.0
    reconcile_interval_s: float = 1.0
    reconcile_window_s: float = 8.0
    contact: str = DEFAULT_CONTACT
    # None = jitter from the OS entropy; an int makes the jitter replayable.
    seed: int | None = None
    # "automatic": the provider captures on confirmation. "manual": the service
    # authorises (a hold on the card), then captures; a capture that cannot be
    # made is released (the hold cancelled) before the order is failed.
    capture: str = "automatic"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base_url = env.get("CARDPAY_BASE_URL", "").strip()
        if not base_url:
            raise ConfigError(
                "CARDPAY_BASE_URL is not set: the target needs the card provider's "
                "base URL, e.g. CARDPAY_BASE_URL=http://127.0.0.1:12111"
            )
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"CARDPAY_BASE_URL={base_url!r} is invalid: it must start with "
                "http:// or https://, e.g. http://127.0.0.1:12111"
            )
        try:
            bugs = parse_bugs(env.get("REFTARGET_BUG", ""))
        except UnknownBugError as exc:
            raise ConfigError(str(exc)) from exc
        return cls(
            cardpay_base_url=base_url.rstrip("/"),
            cardpay_api_key=env.get("CARDPAY_API_KEY") or DEFAULT_API_KEY,
            db_path=env.get("REFTARGET_DB") or "reference.sqlite3",
            bugs=bugs,
            timeout_s=_number(env, "REFTARGET_TIMEOUT_S", 1.0),
            max_attempts=_integer(env, "REFTARGET_MAX_ATTEMPTS", 3),
            backoff_initial_s=_number(env, "REFTARGET_BACKOFF_INITIAL_S", 0.2, allow_zero=True),
            backoff_max_s=_number(env, "REFTARGET_BACKOFF_MAX_S", 2.0, allow_zero=True),
            retry_after_max_s=_number(env, "REFTARGET_RETRY_AFTER_MAX_S", 2.0, allow_zero=True),
            reconcile_interval_s=_number(env, "REFTARGET_RECONCILE_INTERVAL_S", 1.0),
            reconcile_window_s=_number(env, "REFTARGET_RECONCILE_WINDOW_S", 8.0, allow_zero=True),
            contact=env.get("REFTARGET_CONTACT") or DEFAULT_CONTACT,
            seed=_integer(env, "REFTARGET_SEED", None, minimum=0),
            capture=_choice(env, "REFTARGET_CAPTURE", ("automatic", "manual")),
        )

    def request_budget_s(self) -> float:
        """Worst case a POST may take: attempts, the sleeps between them, one lookup
        (with automatic capture; manual capture adds the capture's own attempts).

        Used by the tests and documented for the harness's degradation clause.
        """
        sleeps = sum(
            max(min(self.backoff_max_s, self.backoff_initial_s * 2 ** (k - 1)), self.retry_after_max_s)
            for k in range(1, self.max_attempts)
        )
        return self.max_attempts * self.timeout_s + sleeps + self.timeout_s


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or "").strip()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ConfigError(
            f"{name}={raw!r} is invalid: it must be one of {', '.join(choices)}; unset it for {choices[0]}"
        )
    return raw


def _number(env: Mapping[str, str], name: str, default: float, *, allow_zero: bool = False) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    rule = ">= 0" if allow_zero else "> 0"
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(
            f"{name}={raw!r} is invalid: it must be a number of seconds {rule}; "
            f"unset it for the default {default}"
        )
    return value


def _integer(
    env: Mapping[str, str], name: str, default: int | None, *, minimum: int = 1
) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(
            f"{name}={raw!r} is invalid: it must be an integer >= {minimum}; "
            f"unset it for the default {default}"
        )
    return value
