"""``paychaos``: run, validate and list resilience scenarios.

Exit codes: 0 every check passed; 1 a check failed; 2 bad input (nothing was
started); 3 the harness could not run (a target that would not start, a port
clash, a broken fault backend); 130 interrupted (reports still written).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import signal
import sys
import traceback
from pathlib import Path

from rich.console import Console

from harness.errors import DefinitionError, PaychaosError, SpecError

__all__ = ["main"]

DEFAULT_SCENARIOS = "scenarios/standard"
DEFAULT_TARGET = "scenarios/targets/reference.yaml"
DEFAULT_CONTRACT = "scenarios/contracts/reference.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paychaos", description="Chaos and resilience testing for payment systems.")
    sub = p.add_subparsers(dest="command", required=True)

    def inputs(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("paths", nargs="*", default=[DEFAULT_SCENARIOS], metavar="SCENARIO_OR_DIR",
                        help=f"scenario files or folders (default: {DEFAULT_SCENARIOS})")
        sp.add_argument("--target", default=DEFAULT_TARGET, help=f"target file (default: {DEFAULT_TARGET})")
        sp.add_argument("--contract", default=DEFAULT_CONTRACT, help=f"contract file (default: {DEFAULT_CONTRACT})")

    run = sub.add_parser("run", help="run scenarios against the target and judge it against the contract")
    inputs(run)
    run.add_argument("--seed", type=int, default=None, help="seed for orders, faults and jitter (printed for replay)")
    run.add_argument("--report-dir", default="reports/latest", help="where journal.json, junit.xml and summary.md go")
    run.add_argument("--faults", choices=("embedded", "toxiproxy"), default=None,
                     help="network fault backend (default: $PAYCHAOS_FAULT_BACKEND or embedded)")
    run.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                     help="allow a non-loopback target host (repeatable); everything else stays on 127.0.0.1")
    run.add_argument("--quiet", action="store_true", help="no live progress; just the verdicts")

    val = sub.add_parser("validate", help="check scenario, target and contract files; start nothing")
    inputs(val)

    ls = sub.add_parser("list", help="list scenarios, checks and fault kinds")
    inputs(ls)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=140)  # CI logs: no 80-column wrapping
    try:
        if args.command == "validate":
            return _validate(args, console)
        if args.command == "list":
            return _list(args, console)
        return _run(args, console, argv if argv is not None else sys.argv[1:])
    except SpecError as exc:
        # Plain lines, never wrapped: CI logs and editors jump to file:line.
        print(f"error: {len(exc.issues)} problem(s) in the input files; nothing was started.", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    except DefinitionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PaychaosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


def _load(args: argparse.Namespace):
    from harness.spec import load_inputs

    return load_inputs(args.paths, args.target, args.contract)


def _validate(args: argparse.Namespace, console: Console) -> int:
    inputs = _load(args)
    console.print(f"OK: target {inputs.target.path}, contract {inputs.contract.path}, "
                  f"{len(inputs.scenarios)} scenario(s): " + ", ".join(s.spec.name for s in inputs.scenarios))
    return 0


def _list(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from harness.checks import REGISTRY
    from harness.spec import catalog

    inputs = _load(args)
    t = Table(title="Scenarios")
    for col in ("name", "file", "providers", "orders", "faults", "checks"):
        t.add_column(col, overflow="fold")
    for s in inputs.scenarios:
        faults = ", ".join(f"{f.kind}@{f.at:g}s" for f in s.faults) or "-"
        t.add_row(s.spec.name, str(s.path), ", ".join(s.spec.providers), str(s.spec.workload.orders), faults,
                  ", ".join(c for c in s.checks))
    console.print(t)
    c = Table(title="Checks")
    c.add_column("id")
    c.add_column("clause")
    for check in REGISTRY.values():
        c.add_row(check.id + (" (always)" if check.always else ""), check.clause)
    console.print(c)
    kinds = catalog.fault_kinds()
    console.print(f"HTTP fault kinds: {', '.join(kinds['http'])}")
    console.print(f"Network fault kinds: {', '.join(kinds['network'])}")
    return 0


def _replay(args: argparse.Namespace, seed: int, backend: str, env: dict[str, str | None]) -> str:
    """The command that runs this again: every input that decides the verdicts
    (the seed, the fault backend, the environment the target reads)."""
    parts = ["paychaos", "run", *args.paths, "--target", args.target, "--contract", args.contract, "--seed", str(seed)]
    if args.faults or backend != "embedded":
        parts += ["--faults", backend]
    if args.report_dir != "reports/latest":
        parts += ["--report-dir", args.report_dir]
    unset = [p for name, value in env.items() if value is None for p in ("-u", name)]
    assigned = [f"{name}={value}" for name, value in env.items() if value is not None]
    prefix = (["env", *unset] if unset else []) + assigned
    return shlex.join([*prefix, *parts])


def _target_env(patterns: list[str]) -> dict[str, str | None]:
    """The target file's ``replay_env``: named variables (None when unset) and
    every set variable a glob matches."""
    import fnmatch

    env: dict[str, str | None] = {}
    for pattern in patterns:
        if pattern.endswith("*"):
            env.update({k: v for k, v in sorted(os.environ.items()) if fnmatch.fnmatchcase(k, pattern)})
        else:
            env[pattern] = os.environ.get(pattern)
    return env


def _run(args: argparse.Namespace, console: Console, argv: list[str]) -> int:
    from harness.evidence.journal import exit_code_for, new_journal
    from harness.report import clear_reports, write_reports
    from harness.report.terminal import TerminalObserver, print_report
    from harness.run.runner import run_all
    from harness.run.scenario_run import RunOptions

    from harness.run.ports import check_target_host

    inputs = _load(args)  # everything validated before anything starts
    check_target_host(inputs.target.spec.base_url.replace("{port}", "0"), args.allow_host)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    report_dir = Path(args.report_dir)
    backend = args.faults or os.environ.get("PAYCHAOS_FAULT_BACKEND") or "embedded"
    if backend not in ("embedded", "toxiproxy"):
        raise DefinitionError(f"PAYCHAOS_FAULT_BACKEND={backend!r} is not a fault backend; use embedded or toxiproxy")
    opts = RunOptions(seed=seed, report_dir=report_dir, fault_backend=backend, allow_hosts=args.allow_host)
    env = _target_env(inputs.target.spec.replay_env)
    replay = _replay(args, seed, backend, env)
    journal = new_journal(seed, ["paychaos", *argv], replay, _inputs_record(inputs), opts.fault_backend)
    journal.env = env
    clear_reports(report_dir)
    console.print(f"paychaos: {len(inputs.scenarios)} scenario(s) against {inputs.target.spec.name}, seed {seed}")
    observer = None if args.quiet else TerminalObserver(console)

    async def go() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            await run_all(inputs, opts, journal, observer)
        except asyncio.CancelledError:
            journal.status = "interrupted"

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        journal.status = "interrupted"
    except Exception as exc:  # a harness bug: still write what we have
        journal.status = "aborted"
        journal.message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
    journal.exit_code = exit_code_for(journal) if journal.status != "aborted" else 3
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = write_reports(journal, report_dir)
    print_report(console, journal)
    if journal.message:
        console.print(f"[yellow]{journal.message}[/]", markup=True)
    console.print("reports: " + ", ".join(str(p) for p in paths))
    return journal.exit_code


def _inputs_record(inputs) -> dict:
    return {
        "target": {"file": str(inputs.target.path), "spec": inputs.target.spec.model_dump(mode="json", by_alias=True)},
        "contract": {"file": str(inputs.contract.path), "spec": inputs.contract.spec.model_dump(mode="json")},
        "scenarios": [
            {"file": str(s.path), "name": s.spec.name, "spec": s.spec.model_dump(mode="json"), "checks": list(s.checks),
             "faults": [f.model_dump(mode="json") for f in s.faults]}
            for s in inputs.scenarios
        ],
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
