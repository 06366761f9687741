"""One scenario, end to end: bring up providers, fault proxies and the target;
run the workload and the fault timeline together; drain; collect evidence;
check; tear everything down, always (Ctrl-C and crashes included)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import time
from contextlib import AsyncExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.checks import CheckContext, Verdict, run_checks
from harness.clock import REAL_CLOCK, Clock
from harness.errors import InfrastructureError, PaychaosError
from harness.evidence.collect import build_evidence
from harness.evidence.journal import ScenarioResult, TargetInfo
from harness.evidence.model import Evidence
from harness.evidence.sink import EvidenceSink, open_sink
from harness.run.drain import drain
from harness.run.layers import LayerEnv
from harness.run.observer import RunObserver, SafeObserver
from harness.run.ports import check_target_host, free_port
from harness.run.process import TargetProcess, run_step
from harness.run.timeline import Timeline
from harness.spec import catalog
from harness.spec.loader import Inputs, LoadedScenario
from harness.spec.templates import render_value
from harness.workload.client import TargetClient
from harness.workload.engines import ENGINES, EngineContext
from harness.workload.orders import OrderFactory

__all__ = ["RunOptions", "TargetInfo", "ScenarioResult", "run_scenario", "scenario_seed"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DRAIN_CONCURRENCY = 32
JOURNAL_PAGE = 5000


class RunOptions(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    seed: int
    report_dir: Path
    fault_backend: str | None = None
    allow_hosts: list[str] = Field(default_factory=list)
    journal_capacity: int = 100_000
    evidence_sink: str = "jsonl"
    clock: Clock = Field(default=REAL_CLOCK, exclude=True)


def scenario_seed(run_seed: int, scenario: LoadedScenario) -> int:
    """A scenario's own ``seed:`` pins it; otherwise one derived from the run seed."""
    if scenario.spec.seed is not None:
        return scenario.spec.seed
    digest = hashlib.blake2b(f"{run_seed}:{scenario.spec.name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def run_scenario(inputs: Inputs, scenario: LoadedScenario, opts: RunOptions,
                       observer: RunObserver | None = None) -> ScenarioResult:
    """Run one scenario. Never raises for the target's misbehaviour or an
    infrastructure failure: both end up in the returned result."""
    return await ScenarioRun(inputs, scenario, opts, SafeObserver(observer)).run()


class ScenarioRun:
    def __init__(self, inputs: Inputs, scenario: LoadedScenario, opts: RunOptions, obs: SafeObserver):
        self.inputs = inputs
        self.scenario = scenario
        self.target = inputs.target.spec
        self.opts = opts
        self.obs = obs
        self.clock = opts.clock
        self.name = scenario.spec.name
        self.seed = scenario_seed(opts.seed, scenario)
        self.instances = dict(scenario.instances)  # provider instance -> type
        self.profiles = {i: catalog.profile(t) for i, t in self.instances.items()}
        # Credentials come from each instance's profile, fixed by the seed.
        self.credentials = {i: {**p.mint_credentials(self.seed, i), **self.target.providers[i].credential_values()}
                            for i, p in self.profiles.items()}
        self.run_dir = (opts.report_dir / "runs" / self.name).resolve()
        self.result = ScenarioResult(name=self.name, file=str(scenario.path), seed=self.seed,
                                     instances=dict(self.instances), engine=scenario.spec.workload.engine)
        self.proc: TargetProcess | None = None
        self.routes: dict[str, list[str]] = {}

    async def run(self) -> ScenarioResult:
        result = self.result
        result.started = _now()
        started = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.obs.scenario_started(self.name, self.seed, self.scenario.spec.workload.orders)
        try:
            async with AsyncExitStack() as stack:
                await self._bring_up_and_run(stack)
        except asyncio.CancelledError:
            # Teardown has already run (the exit stack unwound). Return what we
            # have so the journal and reports are still written.
            result.status = "interrupted"
            result.error = "interrupted before the scenario finished (Ctrl-C or SIGTERM); teardown done"
        except PaychaosError as exc:
            result.status = "error"
            result.error = str(exc)
        finally:
            if self.proc is not None:  # stopped by now: the exit stack always unwinds first
                result.target.exit_status = self.proc.exit_status
                result.target.log_tail = self.proc.output_tail()
                result.target.killed_by_fault = self.proc.killed_by_fault
                result.target.restarts = self.proc.restarts
            result.ended = _now()
            result.duration_s = round(time.monotonic() - started, 3)
            self.obs.scenario_done(result)
        return result

    async def _bring_up_and_run(self, stack: AsyncExitStack) -> None:
        from mock_providers.host import ProviderHost

        spec, result, obs, name, clock = self.scenario.spec, self.result, self.obs, self.name, self.clock
        obs.phase(name, "starting providers")
        host = ProviderHost(providers=list(self.instances), types=self.instances, seed=self.seed,
                            journal_dir=self.run_dir / "providers", journal_capacity=self.opts.journal_capacity)
        await stack.enter_async_context(host)
        controls = {i: host.control(i) for i in self.instances}
        for i, control in controls.items():
            binding = self.target.providers[i]
            await control.configure(seed=self.seed, order_ref_field=binding.order_ref or self.profiles[i].order_ref_default,
                                    credentials=self.credentials[i])
        urls = dict(host.urls)
        result.providers = dict(urls)
        backend, proxies = await self._fault_proxies(stack, urls)

        obs.phase(name, "starting target")
        base_url = await self._start_target(stack, urls)

        sink = open_sink(self.opts.evidence_sink, self.run_dir / "evidence")
        stack.callback(sink.close)
        env = LayerEnv(controls=controls, backend=backend, proxies=proxies, target=self.proc, clock=clock)
        timeline = Timeline(list(self.scenario.faults), env, on_change=lambda e: obs.fault_changed(name, e))
        factory = OrderFactory(spec.workload, list(self.instances.values()), self.seed,
                               run_tag=f"{self.seed % 0xFFFFFF:06x}")
        # Never fewer connections than calls in flight: a call queued inside the
        # client would count its wait as the target's answer time.
        w = spec.workload
        in_flight = w.max_in_flight if w.rate is not None else w.workers
        # Steps a customer's browser sends to a provider go to it directly, not through the service's network.
        client = TargetClient(self.target, base_url, max_connections=max(in_flight, DRAIN_CONCURRENCY), clock=clock,
                              provider_urls=dict(host.urls), credentials=self.credentials)
        await stack.enter_async_context(client)
        engine = ENGINES[w.engine]()
        ctx = EngineContext(target=self.target, base_url=base_url, workload=w, orders=factory.orders(), client=client,
                            sink=sink, clock=clock, on_call=lambda c: obs.call_done(name, c))

        obs.phase(name, "workload")
        t0 = clock.now()
        timeline.start(t0)
        try:
            run = await engine.run(ctx)
        finally:
            await timeline.stop()
            for control in controls.values():
                await control.clear_faults()
            if backend is not None:
                await backend.reset()
            result.faults = list(timeline.events.values())
        if timeline.failure is not None:
            raise InfrastructureError(f"a fault could not be applied or lifted: {timeline.failure}")

        obs.phase(name, "drain")
        await drain(client, run.orders, run.last_outcome, self.inputs.contract.spec.money.final_states, spec.drain,
                    concurrency=DRAIN_CONCURRENCY, on_call=ctx.record, clock=clock)

        obs.phase(name, "collecting evidence")
        dropped = await self._collect(controls, sink)
        if backend is not None:
            for i, proxy in proxies.items():
                records = backend.deliveries(proxy)
                if records is not None:
                    sink.deliveries(i, records)
        if self.proc is not None and self.proc.exited() and not self.proc.killed_by_fault:
            result.target.died_during_run = True
        evidence = self._evidence(sink, result, dropped, run.not_submitted, t0)

        obs.phase(name, "checks")
        ctx_checks = CheckContext(contract=self.inputs.contract, scenario=self.scenario, target=self.target)
        result.verdicts = run_checks(self.scenario.checks, evidence, ctx_checks)
        result.summary = summarise(evidence, run.t_end - run.t0)
        if run.stats:
            result.summary["engine"] = run.stats
        result.evidence_file = _write_evidence(self.run_dir, evidence)
        result.status = _status(result.verdicts)
        obs.phase(name, "teardown")

    async def _collect(self, controls: dict[str, Any], sink: EvidenceSink) -> int:
        """Every instance's journal, page by page into the sink, and its ledger.
        Returns how many journal entries the providers had to drop."""
        dropped = 0
        for i, control in controls.items():
            health = await control.health()
            self.routes[i] = [f"{r['method']} {r['path']}" for r in health.get("routes", [])]
            after = 0
            while True:
                page = await control.journal(after, JOURNAL_PAGE)
                sink.journal_page(i, page["entries"])
                dropped += int(page.get("dropped", 0)) if after == 0 else 0
                if len(page["entries"]) < JOURNAL_PAGE:
                    break
                after = page["next"]
            sink.ledger(i, await control.ledger())
        return dropped

    def _evidence(self, sink: EvidenceSink, result: ScenarioResult, dropped: int, not_submitted: int,
                  t0: float) -> Evidence:
        rec = sink.read()
        currencies = {o.currency for o in rec.orders}
        currencies |= {e.get("currency", "") for led in rec.ledgers.values() for e in led.get("entries", [])}
        exponents = {}
        for cur in sorted(c for c in currencies if c):
            exponents[cur] = next(iter(self.profiles.values())).exponent(cur)
            for p in self.profiles.values():  # an instance that names this currency's exponent wins
                if cur in p.currency_exponents:
                    exponents[cur] = p.exponent(cur)
        result.currency_exponents = exponents
        ev = build_evidence(rec.orders, rec.calls, rec.journals, rec.ledgers, result.faults, journal_dropped=dropped,
                            not_submitted=not_submitted, t0=t0, instances=self.instances, exponents=exponents,
                            correlations={i: b.correlate for i, b in self.target.providers.items()},
                            amount=self.target.amount, deliveries=rec.deliveries)
        ev.routes = self.routes
        return ev

    async def _fault_proxies(self, stack: AsyncExitStack, urls: dict[str, str]) -> tuple[Any, dict[str, str]]:
        """A proxy in front of each provider instance that has network faults; the
        target is given the proxy's address instead of the provider's."""
        wanted = sorted({f.provider for f in self.scenario.faults if f.layer == "network" and f.provider})
        if not wanted:
            return None, {}
        from harness.faults import open_backend

        self.obs.phase(self.name, "starting fault proxies")
        backend = open_backend(self.opts.fault_backend, seed=self.seed)
        stack.push_async_callback(backend.close)
        await backend.start()
        self.result.fault_backend = backend.describe()
        proxies = {}
        for p in wanted:
            proxies[p] = f"{self.name}-{p}"
            listen = await backend.create_proxy(proxies[p], urls[p].split("://", 1)[1])
            urls[p] = f"http://{listen}"
            self.result.providers[f"{p} (via {backend.name} proxy)"] = urls[p]
        return backend, proxies

    async def _start_target(self, stack: AsyncExitStack, urls: dict[str, str]) -> str:
        target, info = self.target, self.result.target
        target_dir = self.inputs.target.path.resolve().parent
        port = free_port() if target.start is not None else 0
        base_url = target.base_url.replace("{port}", str(port))
        check_target_host(base_url, self.opts.allow_hosts)
        info.base_url = base_url
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        for i, binding in target.providers.items():
            if i in urls:
                env[binding.url_env] = urls[i]
                for cred, env_name in binding.credential_envs().items():
                    env[env_name] = self.credentials[i][cred]
        if target.start is None:  # an already running target: only probe it
            probe = TargetProcess([], target_dir, env, self.run_dir / "target.log")
            info.ready_s = round(await probe.wait_ready(base_url + target.ready.path, target.ready.timeout_s), 3)
            return base_url
        ctx = {"python": sys.executable, "port": port, "run_dir": str(self.run_dir), "target_dir": str(target_dir),
               "repo_root": str(REPO_ROOT)}
        command = [str(render_value(part, ctx)) for part in target.start.command]
        env.update({k: str(render_value(v, ctx)) for k, v in target.start.env.items()})
        cwd = (target_dir / str(render_value(target.start.cwd, ctx))).resolve()
        for step in target.start.before:
            await run_step([str(render_value(part, ctx)) for part in step], cwd, env, self.run_dir / "target.log",
                           target.start.before_timeout_s)
        self.proc = proc = TargetProcess(command, cwd, env, self.run_dir / "target.log")
        info.command, info.cwd, info.log_file = command, str(cwd), str(proc.log_path)
        stack.push_async_callback(proc.stop, target.start.stop_timeout_s)
        await proc.start()
        info.pid = proc.pid
        proc.ready_url, proc.ready_timeout_s = base_url + target.ready.path, target.ready.timeout_s
        info.ready_s = round(await proc.wait_ready(proc.ready_url, target.ready.timeout_s), 3)
        return base_url


def _status(verdicts: list[Verdict]) -> str:
    if any(v.status == "fail" for v in verdicts):
        return "failed"
    if any(v.status == "error" for v in verdicts):
        return "error"
    return "passed"


def summarise(ev: Evidence, duration_s: float) -> dict[str, Any]:
    from harness.evidence.money import add_amounts

    finals: dict[str, int] = {}
    for h in ev.histories():
        key = h.final or "unknown"
        finals[key] = finals.get(key, 0) + 1
    pay_calls = [c for h in ev.histories() for c in h.calls if c.kind == "pay"]
    answers: dict[str, int] = {}
    for c in pay_calls:
        key = c.outcome or ("no answer" if c.status is None else f"HTTP {c.status} unreadable")
        answers[key] = answers.get(key, 0) + 1
    attempts = [a for h in ev.histories() for a in h.attempts]
    latencies = sorted(c.elapsed for c in pay_calls)
    by_instance: dict[str, int] = {}
    for a in attempts:
        by_instance[a.provider] = by_instance.get(a.provider, 0) + 1
    return {
        "t0": ev.t0,
        "orders": ev.submitted,
        "not_submitted": ev.not_submitted,
        "workload_s": round(duration_s, 3),
        "pay_answers": answers,
        "final_states": finals,
        "provider_requests": ev.provider_requests,
        "attributed_requests": len(attempts),
        "provider_requests_by_instance": by_instance,
        "provider_attempt_classes": {k: sum(1 for a in attempts if a.klass == k) for k in ("ok", "failed", "unknown")},
        "faults_fired": sum(1 for a in attempts if a.fault),
        "network_affected": sum(1 for a in attempts if a.network_fault),
        "unattributed_attempts": ev.unattributed_attempts,
        "attribution": ev.attribution,
        "unattributed_charges": len([e for e in ev.unattributed_ledger if e.kind == "charge"]),
        "captured": add_amounts({h.order.currency: h.net_captured} for h in ev.histories()),
        "pay_p50_ms": _pct(latencies, 0.50),
        "pay_p99_ms": _pct(latencies, 0.99),
    }


def _pct(sorted_s: list[float], q: float) -> float | None:
    if not sorted_s:
        return None
    return round(sorted_s[min(len(sorted_s) - 1, int(q * len(sorted_s)))] * 1000, 1)


def _write_evidence(run_dir: Path, evidence: Evidence) -> str:
    path = run_dir / "evidence.json"
    path.write_text(evidence.model_dump_json(indent=1))
    return str(path)
