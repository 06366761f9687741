"""sample_checkout (tests/fixtures/sample_checkout.py): a checkout shaped like
Stripe's open-source samples, judged as it is, without a patch for paychaos.
It sends the provider NO order reference (no metadata) and charges a fixed
1400 usd whatever the order says. Its target file
(tests/fixtures/sample_suite/target.yaml) pays as Stripe's samples do: the
customer's browser first tokenizes the card at the provider with the
publishable key (Stripe.js createPaymentMethod: a step ``to: provider:cardpay``,
POST /v1/payment_methods, capturing ``pm``), then POST /pay with that
PaymentMethod. One PaymentMethod per checkout, so ``order_ref: payment_method``
and ``correlate: [{capture: pm, as: reference}, ...]`` tie every PaymentIntent
to its order, even one whose reply was lost; the PaymentIntent ids in the
service's answers tie the rest, and ``amount: {fixed: 1400}`` says what it
charges.

- The correct service passes the whole standard suite, two seeds: nothing fails,
  every provider request (the browser's tokenizations included) and ledger entry
  is tied to an order, and each check says what it should (table below).
- Seeded bug SAMPLE_BUG=double-charge (a new idempotency key after a lost
  reply) on lost-reply: exit 1, money.no_double_charge failing with "captured
  28.00 USD for an order of 14.00 USD (2 captures: cardpay:pi_...)" and
  idempotency.same_key_across_retries failing, nothing else. The first charge
  of a lost reply, whose PaymentIntent id never reached the service, is tied to
  its order by its PaymentMethod.

The real CLI in a subprocess; everything is read back from the report dir.
HTTP faults are drawn per order reference, here the PaymentMethod id. The mock
provider names its objects with a prefix it draws at random each time it
starts (IntentStore), and concurrent customers tokenize in whatever order they
get there, so which order a per-request fault hits, and how many orders it
hits, is NOT fixed by the seed (seed 7's lost-reply: 8 to 13 orders dropped
before running, over four runs). Where a check's status depends on that, both
statuses are allowed and the table says why; everywhere else one status.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.suites import (NO_ERROR_ANSWER, NO_LATE_CHARGE, NO_LATE_REQUEST, NO_NEVER_RETRY_FAILURE,
                              NO_RETRY_AFTER_PROMISE, PASS, REPO, SCENARIOS, STANDARD, SuiteRun, run_suite)
from tests.fixtures.sample_checkout import AMOUNT, CURRENCY, MAX_NETWORK_RETRIES, RECONCILE_DELAYS_S, SDK_TIMEOUT_S

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SUITE = REPO / "tests" / "fixtures" / "sample_suite"
SEEDS = (7, 13)
BUG_SEED = 7

# -- what each check must say --------------------------------------------------------------------------
# "pass" (judged > 0, or a money check), or "skipped: <a fragment of the true reason>"; a tuple where
# either is right, only where the draws decide (see the module docstring; said why where it is used).
GATES = {"integration.api": PASS, "attribution.coverage": PASS}
MONEY = {
    "money.no_double_charge": PASS,
    "money.no_orphan_capture": PASS,
    "money.state_matches_ledger": PASS,
    "money.all_final": PASS,
}
RETRIED = {
    "retry.max_attempts": PASS,
    "retry.transient": PASS,
    "retry.never_retry": PASS,
    "retry.backoff": PASS,
    # stripe-python never reads Retry-After, and the contract says so.
    "retry.honour_retry_after": NO_RETRY_AFTER_PROMISE,
    "idempotency.same_key_across_retries": PASS,
}
EXPECTED: dict[str, dict[str, str | tuple[str, ...]]] = {
    "card-declines": {
        **GATES, **MONEY, **RETRIED,
        "errors.required": PASS,  # every decline answers {"error": {"type": "card_error", "code", "message"}}
        # The occasional 503 (10% per request, drawn per PaymentMethod: not fixed by the seed) is what gets
        # retried: with ~64 creates, hitting none is rare (about 0.1%; one run of seed 7 hit a single one).
        "retry.transient": (PASS, "skipped: no payment attempt met a transient failure"),
        "retry.backoff": (PASS, "skipped: no payment was retried"),
        "idempotency.same_key_across_retries": (PASS, "skipped: no payment was attempted twice"),
    },
    "card-timeouts": {
        **GATES, **MONEY, **RETRIED,
        "retry.never_retry": NO_NEVER_RETRY_FAILURE,  # every card is visa; 503s and 409s are retried
        # Payments the 503s outlast are answered processing and replayed: nothing is declined or failed.
        "errors.required": NO_ERROR_ANSWER,
        "degradation.max_response_ms": PASS,
        # A payment is left processing when the 503s outlast its 3 attempts (first_n 4 on a quarter of
        # the orders arriving after 5.5 s, or 3 draws in a row in the 40% burst of the first 3 s): drawn
        # per PaymentMethod and bounded by the clock, so a run where none was is possible (under 1%).
        "reconcile.replay": (PASS, NO_LATE_CHARGE),
        "reconcile.max_requests": (PASS, NO_LATE_REQUEST),
    },
    "lost-reply": {
        **GATES, **MONEY, **RETRIED,
        "errors.required": PASS,
        # A fifth of the orders lose every in-call attempt: answered processing, replayed after the answer
        # (none of 40 selected: 0.8**40, about 1e-4).
        "reconcile.replay": PASS,
        "reconcile.max_requests": PASS,
    },
    "network-flaky": {**GATES, **MONEY, **RETRIED, "errors.required": PASS, "degradation.max_response_ms": PASS},
    "rate-limited": {
        **GATES, **MONEY,
        "retry.max_attempts": PASS,
        # A plain 429 has no Stripe-Should-Retry and the SDK does not retry it; the contract calls it
        # neither transient nor never-retried (the hint decides). Nothing else fails here, so nothing is
        # retried in the call: the throttled payments are answered processing and replayed afterwards.
        "retry.transient": "skipped: no payment attempt met a transient failure",
        # The declines (a tenth of the cards), not retried in the call; but a decline whose order drew
        # the 429 is answered processing and declined by the replay after the answer, which this clause
        # does not judge: with a few declines per run, whether all of them were throttled is a matter of
        # the PaymentMethod draws (seed 13 gave both statuses over four runs; seed 7's one decline was
        # throttled in each of four: skipped).
        "retry.never_retry": (PASS, NO_NEVER_RETRY_FAILURE),
        "retry.backoff": "skipped: no payment was retried",
        "retry.honour_retry_after": NO_RETRY_AFTER_PROMISE,
        "idempotency.same_key_across_retries": "skipped: no payment was attempted twice",
        "errors.required": PASS,
    },
    "slow-provider": {
        **GATES, **MONEY, **RETRIED,
        "retry.never_retry": NO_NEVER_RETRY_FAILURE,  # every card is visa; the provider only goes silent
        # Every payment commits (the replies are held, not the requests) and ends succeeded.
        "errors.required": NO_ERROR_ANSWER,
        "degradation.max_response_ms": PASS,
        "reconcile.replay": PASS,  # the payments answered processing are replayed once the provider speaks
        "reconcile.max_requests": PASS,
    },
}
# Checks that must pass, judged, in at least one scenario of every run: the suite exercises each.
EXERCISED = ("integration.api", "attribution.coverage", "money.no_double_charge", "money.no_orphan_capture",
             "money.state_matches_ledger", "money.all_final", "retry.max_attempts", "retry.transient",
             "retry.never_retry", "retry.backoff", "idempotency.same_key_across_retries", "errors.required",
             "degradation.max_response_ms", "reconcile.replay", "reconcile.max_requests")


def run_sample(report_dir: Path, seed: int, *scenarios: Path, bug: str | None = None) -> SuiteRun:
    # the target inherits paychaos's environment: the bug reaches it that way
    return run_suite(report_dir, seed, SUITE / "target.yaml", SUITE / "contract.yaml", *scenarios,
                     env={"SAMPLE_BUG": bug})


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def run(request, tmp_path_factory) -> SuiteRun:
    return run_sample(tmp_path_factory.mktemp(f"sample-{request.param}"), request.param)


@pytest.fixture(scope="module")
def double_charge(tmp_path_factory) -> SuiteRun:
    return run_sample(tmp_path_factory.mktemp("sample-double-charge"), BUG_SEED, STANDARD / "lost-reply.yaml",
                      bug="double-charge")


# -- the correct service passes the standard suite ------------------------------------------------------


def test_the_standard_suite_passes(run: SuiteRun) -> None:
    assert run.code == 0, run
    assert set(run.scenarios) == set(SCENARIOS), run
    for name, scenario in run.scenarios.items():
        assert scenario["status"] == "passed", (name, run.statuses(name))
        assert not run.failing(name), (name, run.failing(name))
        assert scenario["target"]["command"][1:3] == ["-m", "tests.fixtures.sample_checkout"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_check_says_what_it_should(run: SuiteRun, scenario: str) -> None:
    wrong = run.wrong_verdicts(scenario, EXPECTED[scenario])
    assert not wrong, (run.seed, scenario, wrong)


def test_every_clause_is_exercised(run: SuiteRun) -> None:
    for check in EXERCISED:
        judged = {name: run.verdicts(name)[check]["judged"] for name in SCENARIOS
                  if run.verdicts(name).get(check, {}).get("status") == "pass"}
        assert any(n > 0 for n in judged.values()), (check, judged)
    # Money is judged in every scenario, on every charge.
    for name in SCENARIOS:
        v = run.verdicts(name)["money.no_double_charge"]
        assert v["status"] == "pass" and v["judged"] == run.scenarios[name]["summary"]["final_states"]["succeeded"]


# -- no order reference, a fixed amount: tied by the browser's PaymentMethod and the service's answers ----


def _payment_methods(run: SuiteRun, scenario: str) -> dict[str, str]:
    """The PaymentMethod each order's browser created (from its captured ``pm``), by order id."""
    pms = {}
    for c in run.calls(scenario):
        if c["kind"] == "pay" and "pm" in (c.get("refs") or {}):
            pms[c["order_id"]] = c["refs"]["pm"]
    return pms


def _journaled_as(journaled: str, value: str) -> bool:
    """The provider's journal masks any Luhn-valid run of 13 to 19 digits in a parameter as a possible
    card number, and the digits of an object id (pm_<6 hex><14 digits>) can be one: ``value``, or it with
    some of its digits starred."""
    return len(journaled) == len(value) and all(j in (v, "*") and (j == v or v.isdigit())
                                                for j, v in zip(journaled, value))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_provider_never_sees_the_order(run: SuiteRun, scenario: str) -> None:
    entries = run.provider_journal(scenario)
    tokens = [e for e in entries if e["endpoint"] == "payment_methods.create"]
    creates = [e for e in entries if e["endpoint"] == "payment_intents.create"]
    assert tokens and creates and len(tokens) + len(creates) == len(entries), \
        Counter(e["endpoint"] for e in entries)
    # Nobody sends metadata: not the service, not the browser.
    assert not [k for e in entries for k in e["params"] if k.startswith("metadata")], entries
    # The browser: one card tokenized per checkout, with the publishable key, under no order reference.
    orders = run.orders(scenario)
    assert len(tokens) == len(orders), (len(tokens), len(orders))
    created = {}
    for e in tokens:
        assert (e["role"], e["order_ref"], e["idempotency_key"]) == ("token", None, None), e
        assert e["headers"]["authorization"] == "Bearer pk_****" and e["response"]["status"] == 200, e
        assert set(e["params"]) == {"type", "card[number]", "card[exp_month]", "card[exp_year]", "card[cvc]"}, \
            e["params"]
        created[e["response"]["object_id"]] = e
    assert len(created) == len(tokens) and all(re.fullmatch(r"pm_\w+", pm) for pm in created), sorted(created)
    # The service: only what the sample sends, its fixed amount, the browser's payment method, confirm. No
    # metadata, no description; the provider files each create under its PaymentMethod.
    for e in creates:
        assert e["role"] == "charge" and e["headers"]["authorization"] == "Bearer sk_test_****", e
        assert set(e["params"]) == {"amount", "currency", "payment_method", "confirm"}, e["params"]
        assert (e["params"]["amount"], e["params"]["currency"]) == (str(AMOUNT), CURRENCY), e["params"]
        assert e["order_ref"] in created and _journaled_as(e["params"]["payment_method"], e["order_ref"]), e
        assert re.fullmatch(r"pay-[0-9a-f]{32}", e["idempotency_key"]), e["idempotency_key"]
    # So the only order reference the provider ever holds is a PaymentMethod a customer's browser created,
    # and that is the one each order's own checkout captured: never our order id.
    refs = {e["order_ref"] for e in entries} - {None}
    ledger = run.ledger(scenario)
    refs |= {x["order_ref"] for x in ledger["entries"] + ledger["objects"]}
    assert refs <= set(created), refs - set(created)
    assert set(_payment_methods(run, scenario).values()) == set(created)
    order_ids = {o["id"] for o in orders}
    assert not refs & order_ids
    assert not any(oid in json.dumps(e) for e in entries for oid in order_ids)
    assert not any(oid in json.dumps(x) for x in ledger["entries"] + ledger["objects"] for oid in order_ids)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_request_and_charge_is_tied_to_its_order(run: SuiteRun, scenario: str) -> None:
    summary = run.scenarios[scenario]["summary"]
    stats = summary["attribution"]["cardpay"]
    # Every request, the browser's tokenizations included, and every ledger entry; none tied by guesswork.
    want = {"requests": len(run.provider_journal(scenario)), "unattributed": 0,
            "ledger": len(run.ledger(scenario)["entries"]), "ledger_unattributed": 0, "inferred": 0}
    assert {k: stats.get(k) for k in want} == want, summary["attribution"]
    coverage = run.verdicts(scenario)["attribution.coverage"]
    assert coverage["status"] == "pass" and coverage["offenders"] == 0, coverage
    # The service charged 1400 for each paid cart, whatever the order asked; paychaos expected 1400.
    paid = summary["final_states"].get("succeeded", 0)
    assert summary["captured"] == ({"usd": AMOUNT * paid} if paid else {}), summary
    ev = run.evidence(scenario)
    pms = _payment_methods(run, scenario)
    assert set(pms) == set(ev["orders"]) and len(set(pms.values())) == len(pms), "one PaymentMethod per order"
    for oid, h in ev["orders"].items():
        pm = pms[oid]
        # Its browser's tokenization, then the service's creates, all filed under its PaymentMethod.
        tokens = [a for a in h["attempts"] if a["role"] == "token"]
        assert [(a["phase"], a["object_id"]) for a in tokens] == [("customer", pm)], (oid, tokens)
        charges = [a for a in h["attempts"] if a["role"] == "charge"]
        assert charges and {a["order_ref"] for a in charges} == {pm}, (oid, charges)
        assert {a["role"] for a in h["attempts"]} == {"token", "charge"} and not any(a["inferred"] for a in
                                                                                       h["attempts"]), oid
        captured = [e for e in h["ledger"] if e["kind"] == "charge"]
        assert [e["amount"] for e in captured] == ([AMOUNT] if h["final"] == "succeeded" else []), oid
        assert all(e["order_ref"] == pm and not e["inferred"] for e in captured), (oid, captured)
        assert h["expected_amount"] == AMOUNT, (oid, h["expected_amount"])
    if scenario == "card-timeouts":  # amounts 5.00 to 200.00 in the orders, 14.00 charged
        assert len({o["amount"] for o in run.orders(scenario)}) > 10


# -- the stories, in the SDK's numbers ---------------------------------------------------------------------


def test_retries_are_the_sdks(run: SuiteRun) -> None:
    for scenario in ("card-timeouts", "lost-reply", "network-flaky", "slow-provider"):
        figures = run.verdicts(scenario)["retry.backoff"]["figures"]
        assert figures["retries"] > 0 and figures["min_gap_ms"] >= 490, (scenario, figures)  # never under 0.5 s
        assert run.verdicts(scenario)["retry.max_attempts"]["figures"]["max_seen"] <= MAX_NETWORK_RETRIES + 1
    assert run.verdicts("slow-provider")["retry.max_attempts"]["figures"]["max_seen"] == MAX_NETWORK_RETRIES + 1
    # Silent provider: 3 attempts of 2 s plus 0.5 s and at most 1 s of waits, then "processing".
    slowest = run.verdicts("slow-provider")["degradation.max_response_ms"]["figures"]["slowest_ms"]
    assert 3 * SDK_TIMEOUT_S * 1000 <= slowest <= 8500, slowest
    for scenario in ("card-timeouts", "lost-reply", "slow-provider"):
        v = run.verdicts(scenario)["reconcile.max_requests"]
        if v["status"] == "pass":
            assert v["figures"]["max_seen"] <= 3 * len(RECONCILE_DELAYS_S), (scenario, v["figures"])


def test_ambiguous_payments_are_replayed_not_guessed(run: SuiteRun) -> None:
    ev = run.evidence("lost-reply")
    never_ran, committed = [], []
    for h in ev["orders"].values():
        in_call = [a for a in h["attempts"] if a["role"] == "charge" and a["phase"] == "in_call"]
        # After the answer; a background replay that happens to start while a drain lookup is open is phased
        # in_lookup (paychaos cannot tell the two initiatives apart by time).
        late = [a for a in h["attempts"] if a["phase"] in ("after_answer", "in_lookup") and a["role"] == "charge"]
        pay = next(c for c in h["calls"] if c["kind"] == "pay")
        rules = {(a.get("fault") or {}).get("rule") for a in in_call}
        charges = [e for e in h["ledger"] if e["kind"] == "charge"]
        assert len(charges) <= 1, h["order"]["id"]
        if in_call and rules == {"dropped-before-running"}:
            # Every attempt lost: answered processing, then the same create under the same key.
            assert pay["status"] == 202 and pay["body"] == {"cartId": h["order"]["id"], "status": "processing",
                                                             "error": None}, pay
            assert len(in_call) == MAX_NETWORK_RETRIES + 1
            assert late and {a["idempotency_key"] for a in late} == {in_call[0]["idempotency_key"]}
            never_ran.append(h["final"])
        elif "commit-then-drop" in rules and h["order"]["card"]["name"] == "visa":
            committed.append((h["final"], len(charges)))
    assert never_ran and set(never_ran) <= {"succeeded", "declined"}, never_ran
    assert committed and set(committed) == {("succeeded", 1)}, committed
    # Silent provider: every payment committed; those answered processing end succeeded, charged once.
    summary = run.scenarios["slow-provider"]["summary"]
    assert summary["final_states"] == {"succeeded": 24} and summary["pay_answers"].get("pending", 0) > 0, summary


def test_a_plain_rate_limit_is_not_retried_in_the_call(run: SuiteRun) -> None:
    ev = run.evidence("rate-limited")
    throttled = [h for h in ev["orders"].values()
                 if any(a["role"] == "charge" and a["status"] == 429 for a in h["attempts"])]
    assert throttled
    for h in throttled:
        in_call = [a for a in h["attempts"] if a["role"] == "charge" and a["phase"] == "in_call"]
        assert [a["status"] for a in in_call] == [429], h["order"]["id"]
        pay = next(c for c in h["calls"] if c["kind"] == "pay")
        assert pay["outcome"] == "pending" and h["final"] in ("succeeded", "declined"), (pay, h["final"])


# -- seeded bug: a new idempotency key after a lost reply ------------------------------------------------


def test_a_double_charge_is_never_passed(double_charge: SuiteRun) -> None:
    """The double charges happened, and each is tied to its order: the lost reply's charge, whose
    PaymentIntent id never reached the service, by the PaymentMethod its customer's browser created."""
    run = double_charge
    assert run.code != 0, run
    (scenario,) = run.scenarios
    assert run.scenarios[scenario]["status"] == "failed", run
    assert run.verdicts(scenario)["money.no_double_charge"]["status"] == "fail", run
    # Nothing is left untied, and nothing is tied by amount and time alone.
    coverage = run.verdicts(scenario)["attribution.coverage"]
    assert coverage["status"] == "pass" and coverage["offenders"] == 0, coverage
    stats = coverage["figures"]["cardpay"]
    assert (stats["unattributed"], stats["ledger_unattributed"], stats.get("inferred", 0)) == (0, 0, 0), stats

    # More charges of 14.00 than carts the service reports paid, and the extra ones are exactly the
    # charges whose PaymentIntent no answer of the service ever named.
    charges = [e for e in run.ledger(scenario)["entries"] if e["kind"] == "charge"]
    paid = run.scenarios[scenario]["summary"]["final_states"]["succeeded"]
    named = {c["body"].get("paymentIntentId") for c in run.calls(scenario) if isinstance(c["body"], dict)}
    unnamed = [e for e in charges if e["object_id"] not in named]
    assert len(charges) > paid and len(unnamed) == len(charges) - paid, (len(charges), paid, len(unnamed))
    assert {e["amount"] for e in charges} == {AMOUNT}
    # Each unnamed charge's key is a lost reply's (committed, no response), never replayed...
    by_key = {}
    for e in run.provider_journal(scenario):
        by_key.setdefault(e["idempotency_key"], []).append(e)
    for e in unnamed:
        attempts = by_key[e["idempotency_key"]]
        assert [(a["fault"] or {}).get("kind") for a in attempts] == ["commit_drop"], attempts
        assert attempts[0]["committed"] and attempts[0]["response"] is None
    # ... and is in the history of the order whose browser created its PaymentMethod, beside the charge the
    # service did hear of: the order is charged twice (or more), and paychaos sees it.
    pms = _payment_methods(run, scenario)
    holder = {e["object_id"]: oid for oid, h in run.evidence(scenario)["orders"].items() for e in h["ledger"]
              if e["kind"] == "charge"}
    assert set(holder) == {e["object_id"] for e in charges}
    for e in unnamed:
        oid = holder[e["object_id"]]
        assert e["order_ref"] == pms[oid], (e, oid, pms[oid])
        assert sum(1 for x in charges if x["order_ref"] == e["order_ref"]) >= 2, e


def test_a_double_charge_fails_no_double_charge(double_charge: SuiteRun) -> None:
    """The issue's acceptance: exit 1, the double charge and the key change that made it, nothing else."""
    run = double_charge
    assert run.code == 1, run
    (scenario,) = run.scenarios
    # The retry under a new key is both a key change and the double charge; nothing else fails.
    assert set(run.failing(scenario)) == {"money.no_double_charge", "idempotency.same_key_across_retries"}, \
        run.failing(scenario)
    v = run.verdicts(scenario)["money.no_double_charge"]
    assert v["status"] == "fail" and v["examples"], v
    for example in v["examples"]:
        m = re.fullmatch(r"captured (\d+)\.00 USD for an order of 14\.00 USD \((\d) captures: "
                         r"(cardpay:pi_\w+(?:, cardpay:pi_\w+)+)\)", example["why"])
        assert m and int(m[1]) == 14 * int(m[2]) and m[3].count("cardpay:pi_") == int(m[2]), example["why"]

    # The figures, from the ledger: per order, every charge beyond the one 14.00 it was to pay is at risk.
    ev = run.evidence(scenario)
    counts = {oid: sum(1 for e in h["ledger"] if e["kind"] == "charge") for oid, h in ev["orders"].items()}
    charged = {oid: n for oid, n in counts.items() if n}
    twice = {oid: n for oid, n in charged.items() if n > 1}
    extra = sum(n - 1 for n in twice.values())
    assert twice and extra > 0, counts
    assert v["money_at_risk"] == {"usd": AMOUNT * extra}, (v["money_at_risk"], extra)
    assert v["measured"] == (f"{len(twice)} of {len(charged)} charged orders were charged more than once; "
                             f"{AMOUNT * extra // 100}.00 USD over-captured"), v["measured"]
    assert {e["order_id"] for e in v["examples"]} <= set(twice)
    # Those charged exactly twice read "captured 28.00 USD for an order of 14.00 USD (2 captures: ...)". Such
    # an order is in every run (about 3 in 4 of the offenders); the examples show the first, worst and last,
    # and the worst is one charged three times when there is one, so which are shown is up to the draws
    # (module docstring): the wording is checked on every example that is a double, and on one at least
    # unless the first and last offenders were both charged three times (about 1 run in 15).
    assert 2 in twice.values(), twice
    doubles = [e["why"] for e in v["examples"] if counts[e["order_id"]] == 2]
    assert all(w.startswith("captured 28.00 USD for an order of 14.00 USD (2 captures: cardpay:pi_")
               for w in doubles), doubles
    by_time = sorted(twice, key=lambda oid: _first_t(ev, oid))
    if 2 in (counts[by_time[0]], counts[by_time[-1]]):
        assert doubles, [e["why"] for e in v["examples"]]
    # The key change: every offender of the double charge changed keys (the new key is what charged again).
    keys = run.verdicts(scenario)["idempotency.same_key_across_retries"]
    assert keys["status"] == "fail" and keys["offenders"] >= len(twice), keys


def _first_t(ev: dict, oid: str) -> float:
    """When an order began, as the examples order them: its first call or provider request (the browser's)."""
    h = ev["orders"][oid]
    return min(x["t_start"] for x in h["calls"] + h["attempts"])
