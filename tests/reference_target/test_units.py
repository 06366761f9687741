"""Pure pieces: backoff arithmetic, classification tables, settings, the bug catalogue, the CLI."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from examples.reference_target.__main__ import is_loopback, main
from examples.reference_target.backoff import EqualJitterBackoff, nominal_delay, parse_retry_after
from examples.reference_target.bugs import SEEDED_BUGS, SeededBug, UnknownBugError, parse_bugs
from examples.reference_target.config import ConfigError, Settings
from examples.reference_target.outcomes import Kind, classify_exception, classify_response
from examples.reference_target.user_errors import from_card_error

# ---- backoff ---------------------------------------------------------------


@given(
    k=st.integers(min_value=1, max_value=80),
    initial=st.floats(min_value=0.001, max_value=5.0),
    cap=st.floats(min_value=0.001, max_value=30.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_equal_jitter_stays_within_half_and_full_nominal(k, initial, cap, seed):
    wait = EqualJitterBackoff(initial, cap, random.Random(seed))
    nominal = min(cap, initial * 2 ** min(k - 1, 64))
    assert nominal_delay(k, initial, cap) == nominal
    assert nominal / 2 <= wait.jittered(k) <= nominal


def test_nominal_delay_doubles_then_caps():
    assert [nominal_delay(k, 0.2, 2.0) for k in range(1, 7)] == pytest.approx([0.2, 0.4, 0.8, 1.6, 2.0, 2.0])
    with pytest.raises(ValueError, match="k=0 is invalid"):
        nominal_delay(0, 0.2, 2.0)


def test_jitter_actually_spreads():
    wait = EqualJitterBackoff(0.2, 2.0, random.Random(1))
    assert len({round(wait.jittered(3), 9) for _ in range(20)}) > 10


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), ("inf", None)],
)
def test_parse_retry_after_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date():
    now = datetime(2026, 11, 24, 4, 0, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=3), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(3.0)


# ---- classification ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "ambiguous"),
    [
        (409, Kind.TRANSIENT, True),
        (500, Kind.TRANSIENT, True),
        (504, Kind.TRANSIENT, True),
        (429, Kind.TRANSIENT, False),
        (502, Kind.TRANSIENT, False),
        (503, Kind.TRANSIENT, False),
        (402, Kind.DECLINED, False),
        (400, Kind.FATAL, False),
        (401, Kind.FATAL, False),
        (403, Kind.FATAL, False),
        (404, Kind.FATAL, False),
        (501, Kind.FATAL, True),
    ],
)
def test_status_classes(status, kind, ambiguous):
    result = classify_response(httpx.Response(status, json={"error": {"type": "api_error"}}))
    assert (result.kind, result.ambiguous) == (kind, ambiguous)


def test_400_rate_limit_is_a_rate_limit():
    result = classify_response(httpx.Response(400, json={"error": {"code": "rate_limit"}}))
    assert (result.kind, result.ambiguous) == (Kind.TRANSIENT, False)


def test_retry_after_is_read_from_the_response():
    result = classify_response(httpx.Response(429, headers={"Retry-After": "2"}, json={}))
    assert result.retry_after_s == 2.0


@pytest.mark.parametrize(
    ("exc", "kind", "ambiguous"),
    [
        (httpx.ConnectError("refused"), Kind.TRANSIENT, False),
        (httpx.ConnectTimeout("slow"), Kind.TRANSIENT, False),
        (httpx.PoolTimeout("busy"), Kind.TRANSIENT, False),
        (httpx.ReadTimeout("silent"), Kind.TRANSIENT, True),
        (httpx.WriteTimeout("stuck"), Kind.TRANSIENT, True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), Kind.TRANSIENT, True),
        (httpx.ReadError("reset"), Kind.TRANSIENT, True),
        (httpx.UnsupportedProtocol("ftp"), Kind.FATAL, False),
    ],
)
def test_exception_classes(exc, kind, ambiguous):
    result = classify_exception(exc)
    assert (result.kind, result.ambiguous) == (kind, ambiguous)
    assert result.exception.startswith(type(exc).__name__)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ({"code": "card_declined", "decline_code": "do_not_honor"}, "generic_decline"),
        ({"code": "card_declined", "decline_code": "pickup_card"}, "generic_decline"),
        ({"code": "card_declined", "decline_code": "issuer_not_available"}, "processing_error"),
        ({"code": "expired_card", "decline_code": "expired_card"}, "expired_card"),
        ({"code": "invalid_cvc"}, "incorrect_cvc"),
        ({}, "generic_decline"),
        (None, "generic_decline"),
    ],
)
def test_card_error_mapping(error, code):
    mapped = from_card_error(error)
    assert mapped.code == code
    assert mapped.message and mapped.action


# ---- settings ------------------------------------------------------------------


def test_settings_defaults():
    settings = Settings.from_env({"CARDPAY_BASE_URL": "http://127.0.0.1:9/"})
    assert settings.cardpay_base_url == "http://127.0.0.1:9"
    assert (settings.timeout_s, settings.max_attempts) == (1.0, 3)
    assert (settings.backoff_initial_s, settings.backoff_max_s) == (0.2, 2.0)
    assert (settings.reconcile_interval_s, settings.reconcile_window_s) == (1.0, 8.0)
    assert settings.retry_after_max_s == 2.0
    assert settings.contact == "support@shop.example, +1-555-0100"
    assert settings.db_path == "reference.sqlite3"
    assert settings.capture == "automatic"
    assert not settings.bugs


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "CARDPAY_BASE_URL is not set"),
        ({"CARDPAY_BASE_URL": "cardpay:80"}, "CARDPAY_BASE_URL='cardpay:80' is invalid: it must start with http://"),
        ({"REFTARGET_TIMEOUT_S": "0"}, "REFTARGET_TIMEOUT_S='0' is invalid: it must be a number of seconds > 0"),
        ({"REFTARGET_TIMEOUT_S": "fast"}, "REFTARGET_TIMEOUT_S='fast' is invalid"),
        ({"REFTARGET_MAX_ATTEMPTS": "0"}, "REFTARGET_MAX_ATTEMPTS='0' is invalid: it must be an integer >= 1"),
        (
            {"REFTARGET_BACKOFF_MAX_S": "-1"},
            "REFTARGET_BACKOFF_MAX_S='-1' is invalid: it must be a number of seconds >= 0",
        ),
        ({"REFTARGET_BUG": "no-retry,typo"}, "names unknown seeded bug(s) typo; known bugs: double-charge-on-timeout"),
        ({"REFTARGET_CAPTURE": "later"}, "REFTARGET_CAPTURE='later' is invalid: it must be one of automatic, manual"),
    ],
)
def test_settings_errors_name_the_variable_and_the_fix(env, message):
    env = {"CARDPAY_BASE_URL": "http://127.0.0.1:9", **env} if env else env
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert message in str(info.value)


def test_budget_covers_attempts_sleeps_and_lookup():
    settings = Settings(cardpay_base_url="http://x", retry_after_max_s=0.0)
    # 3 attempts x 1 s + sleeps 0.2 + 0.4 (nominal) + one 1 s lookup
    assert settings.request_budget_s() == pytest.approx(4.6)
    # Defaults: each sleep may stretch to a 2 s Retry-After -> within the contract's 8 s.
    assert Settings(cardpay_base_url="http://x").request_budget_s() == pytest.approx(8.0)


# ---- bug catalogue --------------------------------------------------------------


def test_catalogue_is_the_documented_one():
    assert set(SEEDED_BUGS) == {
        "no-retry",
        "retry-declines",
        "unbounded-retry",
        "no-backoff",
        "new-key-per-attempt",
        "ignore-retry-after",
        "double-charge-on-timeout",
        "vague-errors",
        "no-client-timeout",
        "fail-on-ambiguous",
        "succeed-on-ambiguous",
        "guess-on-unknown",
        "forget-unpaid",
        "reconcile-new-key",
        "reconcile-hammer",
        "legacy-charges-api",
        "hold-left-open",
    }
    for bug in SEEDED_BUGS.values():
        assert bug.__doc__ and "Breaks:" in bug.__doc__, bug.name
        assert bug.breaks


def test_catalogue_is_read_only_and_rejects_duplicates():
    with pytest.raises(TypeError):
        SEEDED_BUGS["x"] = SeededBug  # type: ignore[index]
    with pytest.raises(TypeError, match="registered twice"):

        class Again(SeededBug):
            name = "no-retry"
            breaks = "x"


def test_parse_bugs():
    bugs = parse_bugs(" no-retry , vague-errors ,")
    assert "no-retry" in bugs and "vague-errors" in bugs and "no-backoff" not in bugs
    assert not parse_bugs("")
    with pytest.raises(UnknownBugError, match="Unset REFTARGET_BUG for the correct service"):
        parse_bugs("retry-forever")


# ---- command line -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host, ok):
    assert is_loopback(host) is ok


def test_non_loopback_host_is_refused(capsys):
    assert main(["--host", "0.0.0.0", "--port", "8000"]) == 2
    assert "--host=0.0.0.0 is refused" in capsys.readouterr().err


def test_unknown_bug_refuses_to_start(capsys, monkeypatch):
    monkeypatch.setenv("CARDPAY_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REFTARGET_BUG", "nope")
    assert main(["--port", "8000"]) == 2
    err = capsys.readouterr().err
    assert "reference target not started: REFTARGET_BUG='nope' names unknown seeded bug(s) nope" in err


def test_missing_provider_url_refuses_to_start(capsys, monkeypatch):
    monkeypatch.delenv("CARDPAY_BASE_URL", raising=False)
    assert main(["--port", "8000"]) == 2
    assert "CARDPAY_BASE_URL is not set" in capsys.readouterr().err


def test_public_surface():
    import examples.reference_target as package

    assert sorted(package.__all__) == ["ConfigError", "SEEDED_BUGS", "Settings", "create_app"]
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        package.nothing_here  # noqa: B018


def test_each_bug_names_the_check_that_catches_it():
    # The check ids of scenarios/contracts/reference.yaml (harness/checks/*).
    assert {name: bug.breaks for name, bug in SEEDED_BUGS.items()} == {
        "no-retry": "retry.transient",
        "retry-declines": "retry.never_retry",
        "unbounded-retry": "retry.max_attempts",
        "no-backoff": "retry.backoff",
        "new-key-per-attempt": "idempotency.same_key_across_retries",
        "ignore-retry-after": "retry.honour_retry_after",
        "double-charge-on-timeout": "money.no_double_charge",
        "vague-errors": "errors.required",
        "fail-on-ambiguous": "money.no_orphan_capture",
        "succeed-on-ambiguous": "money.state_matches_ledger",
        "guess-on-unknown": "money.unknown_resolved",
        "forget-unpaid": "money.all_final",
        "no-client-timeout": "degradation.max_response_ms",
        "reconcile-new-key": "reconcile.replay",
        "reconcile-hammer": "reconcile.max_requests",
        "legacy-charges-api": "integration.api",
        "hold-left-open": "money.no_orphan_capture",
    }
