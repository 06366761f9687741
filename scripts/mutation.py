#!/usr/bin/env python3
"""Mutation score of the checks and the evidence builder against the fast unit tests.

    .venv/bin/python scripts/mutation.py                       # every mutant, 2 workers
    .venv/bin/python scripts/mutation.py --module money --show-survivors
    .venv/bin/python scripts/mutation.py --sample 60 --seed 3  # a quick look
    .venv/bin/python scripts/mutation.py --list --module collect

Each mutant is one small change to one line of ``harness/checks/*.py``,
``harness/evidence/collect.py`` or ``mock_providers/core/profile.py``
(``ProviderProfile.classify`` and the ``AnswerRule.matches`` it calls): a
comparison swapped (``>``/``>=``, ``<``/``<=``, ``==``/``!=``, ``in``/``not in``,
``is``/``is not``), ``and``/``or``, ``not x`` -> ``x``, ``+``/``-``, ``*``/``/``,
a number ``n`` -> ``n + 1``, ``True``/``False``, ``return x`` -> ``return None``,
``if c`` -> ``if not c`` (statements, conditional expressions and comprehension
filters). Strings (messages), docstrings, ``__all__``, logging calls and type
annotations are left alone. A line marked ``# mutation: equivalent`` is not
mutated, nor, with ``# mutation: equivalent(number)``, mutated in that way (the
kinds: compare, boolean, not, arith, number, bool, return, if): the change could
not alter behaviour. Say why next to the marker.

A mutant is *killed* when the fast unit tests that exercise these modules fail
(or time out) with it in place, and *survives* when they pass: a survivor is a
change of behaviour no test notices. The tests are the ``tests/harness`` files
that import a mutated module (or the shared builders), minus ``slow`` and
``integration`` (``--tests`` chooses others).

How it runs: the repository is copied once per worker into a temporary
folder; for each mutant the worker rewrites the one mutated file there
(``ast.unparse`` of the mutated tree), drops its cached bytecode, and runs
pytest in that copy (``cwd`` = the copy, so ``pythonpath = ["."]`` and pytest's
root insertion put the copy's ``harness`` first, ahead of the editable install
of this checkout). Before any mutant, a baseline run must pass (tests that
already fail without a mutation are deselected and listed), and a *canary* per
module (the module replaced by ``raise RuntimeError``) must fail: proof that the
tests import the copy's module and not this checkout's.

What keeps a run at about a second: each worker forks its test runs from a
server that has imported pytest and the third-party libraries once (never a
project module, so the mutated one is always imported afresh); bytecode caches
are on even under ``PYTHONDONTWRITEBYTECODE``; and the pytest plugins the
project's settings do not need (hypothesis, faker, anyio, respx) are left out
when the baseline passes the same tests without them.

Why not mutmut or cosmic-ray: mutmut skips decorated functions, and every check
is a function decorated with ``@register``; cosmic-ray brings a session
database, a config file and its own operator set for what is a few hundred
lines of ``ast`` here, with exactly the operators above and the equivalent-line marker.
Nothing is installed: it runs on the project's venv.

Exit status: 0 whatever the score (it reports, it does not gate), unless
``--fail-under P`` is given and the score is below P (exit 1); 2 when the tool
itself cannot run (a baseline that fails everywhere, a canary that survives).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# What is mutated: path glob -> the functions (qualified names) mutated in it; None: the whole module.
TARGETS: dict[str, frozenset[str] | None] = {
    "harness/checks/*.py": None,
    "harness/evidence/collect.py": None,
    "mock_providers/core/profile.py": frozenset({"ProviderProfile.classify", "AnswerRule.matches"}),
}
TEST_DIR = "tests/harness"
# A test file exercises the mutated code when it imports one of these (or the shared builders).
TEST_IMPORTS = re.compile(r"^\s*(from|import)\s+(harness\.checks|harness\.evidence\.collect"
                          r"|mock_providers\.(core|cardpay)\.profile|tests\.harness\.builders)\b", re.M)
# `# mutation: equivalent` spares every mutant of its line; `# mutation: equivalent(number)` only those
# of the named kinds (compare, boolean, not, arith, number, bool, return, if; comma-separated).
MARKER = re.compile(r"#\s*mutation:\s*equivalent(?:\(([a-z, ]+)\))?")
IGNORE_COPY = shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis",
                                     "reports", "tools", "*.egg-info", ".paychaos", "build", "dist")
LOGGERS = {"log", "logger", "logging", "_log", "LOG", "warnings"}


def _markers(source: str) -> dict[int, frozenset[str] | None]:
    """Line -> the mutant kinds its equivalent marker spares (None: all of them)."""
    out: dict[int, frozenset[str] | None] = {}
    for n, text in enumerate(source.splitlines(), 1):
        m = MARKER.search(text)
        if m:
            out[n] = frozenset(k.strip() for k in m.group(1).split(",")) if m.group(1) else None
    return out


class ToolError(Exception):
    """The tool cannot produce a score (not a verdict on the tests)."""


# --------------------------------------------------------------------------- mutants


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository
    index: int  # the n-th mutation site of the module, in walk order
    line: int
    kind: str  # compare, boolean, not, arith, number, bool, return, if
    before: str
    after: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def describe(self) -> str:
        return f"{self.where}  {_clip(self.before)}  ->  {_clip(self.after)}"


def _clip(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


_SWAP_CMP = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_NEGATING = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)  # their swap already is `not`
_SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


class _Sites:
    """Walks a module in a fixed order, calling ``visit(kind, line, apply)`` for each mutation
    site; ``apply()`` mutates the tree in place and returns (before, after, undo)."""

    def __init__(self, functions: frozenset[str] | None, marked: dict[int, frozenset[str] | None]) -> None:
        self.functions = functions
        self.marked = marked

    def walk(self, tree: ast.Module, visit) -> None:
        self.visit = visit
        self._body(tree.body, (), self.functions is None)

    # statements ---------------------------------------------------------------------
    def _body(self, stmts: list[ast.stmt], scope: tuple[str, ...], active: bool) -> None:
        for stmt in stmts:
            self._stmt(stmt, scope, active)

    def _stmt(self, s: ast.stmt, scope: tuple[str, ...], active: bool) -> None:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = (*scope, s.name)
            on = active or (self.functions is not None and ".".join(inner) in self.functions)
            if on:
                for d in s.decorator_list:
                    self._expr(d, on)
                if not isinstance(s, ast.ClassDef):
                    for default in [*s.args.defaults, *(d for d in s.args.kw_defaults if d is not None)]:
                        self._expr(default, on)
            body = s.body
            if body and isinstance(body[0], ast.Expr) and _is_text(body[0].value):
                body = body[1:]  # the docstring
            self._body(body, inner, on)
            return
        if not active:
            if isinstance(s, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
                for block in _blocks(s):
                    self._body(block, scope, False)
            return
        if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return
            if isinstance(s, ast.AugAssign) and type(s.op) in _SWAP_BIN and not _is_text(s.value):
                self._site("arith", s, lambda s=s: _swap_op(s, "op", _SWAP_BIN))
            for t in targets:
                if not isinstance(t, ast.Name):
                    self._expr(t, True)
            if s.value is not None:  # AnnAssign: the annotation is skipped
                self._expr(s.value, True)
            return
        if isinstance(s, ast.Expr):
            if _is_text(s.value) or _is_log_call(s.value):
                return
            self._expr(s.value, True)
            return
        if isinstance(s, ast.Return):
            if s.value is not None and not (isinstance(s.value, ast.Constant) and s.value.value in (None, False)):
                self._site("return", s, lambda s=s: _return_none(s))
            if s.value is not None:
                self._expr(s.value, True)
            return
        if isinstance(s, (ast.If, ast.While)):
            if isinstance(s, ast.If) and _is_type_checking(s.test):
                return
            if isinstance(s, ast.If) and not _negation_is_redundant(s.test):
                self._site("if", s.test, lambda s=s: _negate(s, "test"))
            self._expr(s.test, True)
            self._body(s.body, scope, True)
            self._body(s.orelse, scope, True)
            return
        if isinstance(s, ast.For):
            self._expr(s.iter, True)
            self._body(s.body, scope, True)
            self._body(s.orelse, scope, True)
            return
        if isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)):
            return
        # with, try, raise, assert, delete...: their expressions and blocks
        for _, value in ast.iter_fields(s):
            if isinstance(value, ast.expr):
                self._expr(value, True)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        self._expr(item, True)
                    elif isinstance(item, ast.withitem):
                        self._expr(item.context_expr, True)
                    elif isinstance(item, ast.ExceptHandler):
                        self._body(item.body, scope, True)
                if value and isinstance(value[0], ast.stmt):
                    self._body(value, scope, True)

    # expressions --------------------------------------------------------------------
    def _expr(self, e: ast.expr, active: bool) -> None:
        if not active or e is None:
            return
        if isinstance(e, ast.Compare):
            for k, op in enumerate(e.ops):
                if type(op) in _SWAP_CMP:
                    anchor = e.comparators[k]
                    self._site("compare", e, lambda e=e, k=k: _swap_cmp(e, k), line=anchor.lineno)
        elif isinstance(e, ast.BoolOp):
            self._site("boolean", e, lambda e=e: _swap_bool(e))
        elif isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            self._site("not", e, lambda e=e: _drop_not(e))
        elif isinstance(e, ast.BinOp) and type(e.op) in _SWAP_BIN and not (_is_text(e.left) or _is_text(e.right)):
            self._site("arith", e, lambda e=e: _swap_op(e, "op", _SWAP_BIN))
        elif isinstance(e, ast.Constant):
            if isinstance(e.value, bool):
                self._site("bool", e, lambda e=e: _flip_bool(e))
            elif isinstance(e.value, (int, float)):
                self._site("number", e, lambda e=e: _bump(e))
            return
        elif isinstance(e, ast.IfExp):
            if not _negation_is_redundant(e.test):
                self._site("if", e.test, lambda e=e: _negate(e, "test"))
        elif isinstance(e, ast.Call) and _is_log_call(e):
            return
        elif isinstance(e, ast.FormattedValue):
            self._expr(e.value, True)  # the format spec is text
            return
        elif isinstance(e, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for gen in e.generators:
                for j, cond in enumerate(gen.ifs):
                    if not _negation_is_redundant(cond):
                        self._site("if", cond, lambda gen=gen, j=j: _negate_item(gen.ifs, j))
        elif isinstance(e, ast.Lambda):
            self._expr(e.body, True)
            return
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                self._expr(child, True)
            elif isinstance(child, ast.comprehension):
                self._expr(child.iter, True)
                for cond in child.ifs:
                    self._expr(cond, True)
            elif isinstance(child, ast.keyword):
                self._expr(child.value, True)

    def _site(self, kind: str, node: ast.AST, apply, line: int | None = None) -> None:
        line = line or node.lineno
        if line in self.marked and (self.marked[line] is None or kind in self.marked[line]):
            return
        self.visit(kind, line, apply)


def _blocks(s: ast.stmt) -> list[list[ast.stmt]]:
    out = [getattr(s, "body", []), getattr(s, "orelse", []), getattr(s, "finalbody", [])]
    out += [h.body for h in getattr(s, "handlers", [])]
    return out


def _is_log_call(e: ast.expr) -> bool:
    if not isinstance(e, ast.Call):
        return False
    f = e.func
    return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in LOGGERS


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _negation_is_redundant(test: ast.expr) -> bool:
    """``not (a == b)`` is the ``!=`` mutant again, ``not not x`` the ``not x`` -> ``x`` one."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    return isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], _NEGATING)


def _src(node: ast.AST) -> str:
    return ast.unparse(node)


# Each mutation changes the tree in place and returns (before, after, undo): listing the
# mutants applies and undoes each in turn on one tree; writing one applies it alone.

def _swap_cmp(e: ast.Compare, k: int):
    before, old = _src(e), e.ops[k]
    e.ops[k] = _SWAP_CMP[type(old)]()
    return before, _src(e), lambda: e.ops.__setitem__(k, old)


def _swap_bool(e: ast.BoolOp):
    before, old = _src(e), e.op
    e.op = ast.Or() if isinstance(old, ast.And) else ast.And()
    return before, _src(e), lambda: setattr(e, "op", old)


def _swap_op(node: ast.AST, attr: str, table: dict):
    before, old = _src(node), getattr(node, attr)
    setattr(node, attr, table[type(old)]())
    return before, _src(node), lambda: setattr(node, attr, old)


def _drop_not(e: ast.UnaryOp):
    e.unwrap = True  # replaced by its operand (_Unwrap) when the module is written
    return _src(e), _src(e.operand), lambda: delattr(e, "unwrap")


class _Unwrap(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node.operand if getattr(node, "unwrap", False) else node


def _flip_bool(e: ast.Constant):
    old = e.value
    e.value = not old
    return repr(old), repr(e.value), lambda: setattr(e, "value", old)


def _bump(e: ast.Constant):
    old = e.value
    e.value = old + 1
    return repr(old), repr(e.value), lambda: setattr(e, "value", old)


def _return_none(s: ast.Return):
    before, old = _src(s), s.value
    s.value = ast.Constant(None)
    return before, "return None", lambda: setattr(s, "value", old)


def _negate(node: ast.AST, attr: str):
    old = getattr(node, attr)
    setattr(node, attr, ast.UnaryOp(op=ast.Not(), operand=old))
    return _src(old), _src(getattr(node, attr)), lambda: setattr(node, attr, old)


def _negate_item(items: list[ast.expr], j: int):
    old = items[j]
    items[j] = ast.UnaryOp(op=ast.Not(), operand=old)
    return _src(old), _src(items[j]), lambda: items.__setitem__(j, old)


class _Found(Exception):
    pass


class Module:
    """One mutated file: its source, its mutants and how to write each one."""

    def __init__(self, path: str, functions: frozenset[str] | None) -> None:
        self.path = path
        self.source = (REPO / path).read_text()
        self.functions = functions
        self.marked = _markers(self.source)
        self.mutants: list[Mutant] = []

        def each(k: int, kind: str, line: int, apply) -> None:
            before, after, undo = apply()
            undo()
            self.mutants.append(Mutant(path, k, line, kind, before, after))

        self._walk(ast.parse(self.source), each)

    def _walk(self, tree: ast.Module, each) -> None:
        counter = iter(range(1 << 30))
        _Sites(self.functions, self.marked).walk(tree, lambda kind, line, apply: each(next(counter), kind, line, apply))

    def mutated(self, m: Mutant) -> str:
        """The module's source with mutant ``m`` alone applied."""
        tree = ast.parse(self.source)
        hit = []

        def each(k: int, kind: str, line: int, apply) -> None:
            if k == m.index:
                hit.append(apply())
                raise _Found  # the rest of the walk would see the mutated tree

        try:
            self._walk(tree, each)
        except _Found:
            pass
        if not hit or hit[0][1] != m.after:
            raise ToolError(f"mutant {m.where} #{m.index} is not where it was found")
        return ast.unparse(ast.fix_missing_locations(_Unwrap().visit(tree))) + "\n"

    def unparsed(self) -> str:
        """The module as the mutants are written (``ast.unparse``), unmutated: the baseline runs this."""
        return ast.unparse(ast.parse(self.source)) + "\n"


def collect_modules(only: list[str]) -> list[Module]:
    modules = []
    for pattern, functions in TARGETS.items():
        for p in sorted(REPO.glob(pattern)):
            rel = p.relative_to(REPO).as_posix()
            if only and not any(o in rel for o in only):
                continue
            mod = Module(rel, functions)
            if mod.mutants:
                modules.append(mod)
    if not modules:
        raise ToolError(f"no module matches --module {' '.join(only)}; modules: "
                        + ", ".join(p.relative_to(REPO).as_posix() for pat in TARGETS for p in sorted(REPO.glob(pat))))
    return modules


# --------------------------------------------------------------------------- running


def default_tests() -> list[str]:
    files = [p for p in sorted((REPO / TEST_DIR).glob("test_*.py")) if TEST_IMPORTS.search(p.read_text())]
    return [p.relative_to(REPO).as_posix() for p in files]


# Third-party modules a fork server imports once; each test run is a fork of it, so only the
# project's own modules (the mutated one among them) are imported afresh.
WARM = ("pytest", "_pytest.python", "_pytest.assertion.rewrite", "pydantic", "pydantic_core", "ruamel.yaml",
        "jinja2", "rich.console", "aiohttp", "httptools")

_SERVER = r"""
import json, os, signal, sys, time
from importlib.metadata import distributions
# pytest rewrites the asserts of its plugins' packages, which it cannot do once they are imported.
plugins = {f.parts[0].removesuffix(".py") for d in distributions() if any(e.group == "pytest11" for e in d.entry_points)
           for f in (d.files or ()) if f.parts and not f.parts[0].endswith("-info")}
for name in WARM:
    if name.split(".")[0] not in plugins:
        try:
            __import__(name)
        except Exception:
            pass
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("harness", "mock_providers", "tests", "examples", *plugins))
child = None

def stop(signum, frame):
    if child is not None:
        try:
            os.killpg(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(1)

signal.signal(signal.SIGTERM, stop)
print(json.dumps({"ready": True, "ours": ours}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    child = os.fork()
    if child == 0:
        os.setsid()
        os.environ.update(req["env"])
        fd = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            import pytest
            rc = int(pytest.main(req["args"]))
        except BaseException:
            import traceback
            traceback.print_exc()
            rc = 3
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    deadline = time.monotonic() + req["timeout"]
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            rc = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            try:
                os.killpg(child, signal.SIGKILL)
            except ProcessLookupError:
                os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            rc = "timeout"
            break
        time.sleep(0.01)
    child = None
    print(json.dumps({"rc": rc}), flush=True)
"""


# The plugins pyproject's settings need (asyncio_mode, timeout). The others that pytest loads by
# entry point (hypothesis, faker, anyio, respx) cost about a second per run; they are left out of
# the mutant runs when the baseline passes the same tests without them.
KEEP_PLUGINS = ("pytest_asyncio.plugin", "pytest_timeout")


@dataclass
class Runner:
    """The pytest invocation every run uses."""

    tests: list[str]
    timeout: float = 60.0
    deselect: list[str] = field(default_factory=list)
    trimmed: bool = False  # only KEEP_PLUGINS loaded

    def args(self, *, stop_first: bool = True) -> list[str]:
        args = ["-q", "-p", "no:cacheprovider", "-m", "not slow and not integration", "-o", "addopts=",
                "--no-header", "-rf"]
        if self.trimmed:
            for plugin in KEEP_PLUGINS:
                args += ["-p", plugin]
        if stop_first:
            args.append("-x")
        for node in self.deselect:
            args += ["--deselect", node]
        return args + self.tests

    def env(self) -> dict[str, str]:
        return {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} if self.trimmed else {}


def _env() -> dict[str, str]:
    # Bytecode caches on (unlike a PYTHONDONTWRITEBYTECODE shell): without them every run compiles and
    # assert-rewrites some 200 modules again, which is most of its time. Workspace.write drops the mutated
    # module's own .pyc.
    drop = ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONHASHSEED"] = "0"
    return env


def _verdict(rc: int | str) -> str:
    if rc == "timeout":
        return "timeout"
    if rc == 0:
        return "pass"
    if rc in (1, 2, 3):  # tests failed; collection (an import) failed; pytest crashed on the mutant
        return "fail"
    return f"error:{rc}"


class Workspace:
    """A copy of the repository where one module at a time is rewritten, and the
    tests run in it (through a fork server unless ``fork`` is off)."""

    def __init__(self, root: Path, name: str, fork: bool) -> None:
        self.dir = root / name
        shutil.copytree(REPO, self.dir, ignore=IGNORE_COPY, symlinks=True)
        self.out = root / f"{name}.out"
        self.server: subprocess.Popen | None = None
        self.proc: subprocess.Popen | None = None  # a plain run in progress
        if fork and hasattr(os, "fork"):
            self.server = subprocess.Popen([sys.executable, "-c", f"WARM = {WARM!r}\n{_SERVER}"], cwd=self.dir,
                                           env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                           start_new_session=True)
            hello = json.loads(self.server.stdout.readline() or "{}")
            if not hello.get("ready") or hello.get("ours"):
                raise ToolError(f"the fork server did not start cleanly ({hello}); try --no-fork")

    def write(self, rel: str, text: str) -> None:
        path = self.dir / rel
        path.write_text(text)
        # A stale .pyc of an earlier mutant with the same size and mtime second would be imported instead.
        for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
            pyc.unlink(missing_ok=True)

    def restore(self, mod: Module) -> None:
        """The module as it was when the run started (others may be editing the checkout meanwhile)."""
        self.write(mod.path, mod.source)

    def run(self, runner: Runner, *, stop_first: bool = True, timeout: float | None = None) -> tuple[str, str]:
        """("pass" | "fail" | "timeout" | "error:<rc>", pytest's output)."""
        args, limit = runner.args(stop_first=stop_first), timeout or runner.timeout
        if self.server is not None:
            self.server.stdin.write(json.dumps({"args": args, "env": runner.env(), "timeout": limit, "out": str(self.out)}) + "\n")
            self.server.stdin.flush()
            line = self.server.stdout.readline()
            if not line:
                raise ToolError("the fork server stopped; try --no-fork")
            return _verdict(json.loads(line)["rc"]), self.out.read_text(errors="replace")
        self.proc = subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=self.dir, env={**_env(), **runner.env()},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        try:
            out, _ = self.proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(self.proc, signal.SIGKILL)
            out, _ = self.proc.communicate()
            return "timeout", out
        finally:
            rc, self.proc = self.proc.returncode, None
        return _verdict(rc), out

    def close(self) -> None:
        if self.server is not None:
            _kill(self.server, signal.SIGTERM)  # it kills its test run in progress, then exits
            self.server.wait()
        if self.proc is not None:
            _kill(self.proc, signal.SIGKILL)


def _kill(proc: subprocess.Popen, sig: int) -> None:
    """One process we started (in its own session), by its id, with its group."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed | survived | timeout
    seconds: float


def baseline(ws: Workspace, runner: Runner, modules: list[Module]) -> float:
    """The unmutated (unparsed) modules must pass; tests failing anyway are deselected.
    Returns the time of one full run, as the mutant runs will make it."""
    for mod in modules:
        ws.write(mod.path, mod.unparsed())
    status, out = ws.run(runner, stop_first=False, timeout=600)
    if status == "fail":
        failing = re.findall(r"^FAILED (.+?)(?: - .*)?$", out, re.M)
        if not failing:
            raise ToolError(f"the tests fail without any mutation, and not test by test:\n{out[-3000:]}")
        print(f"warning: {len(failing)} test(s) fail without any mutation; deselected for this run:", file=sys.stderr)
        for node in failing:
            print(f"  {node}", file=sys.stderr)
        runner.deselect = failing
        status, out = ws.run(runner, stop_first=False, timeout=600)
    if status != "pass":
        raise ToolError(f"the baseline run ({status}) does not pass:\n{out[-3000:]}")
    passed = re.search(r"(\d+) passed", out)
    if passed is None:
        raise ToolError(f"the baseline ran no test:\n{out[-2000:]}")
    runner.trimmed = True
    t = time.monotonic()
    status, trimmed_out = ws.run(runner, stop_first=False, timeout=600)
    took = time.monotonic() - t
    again = re.search(r"(\d+) passed", trimmed_out)
    if status != "pass" or again is None or again.group(1) != passed.group(1):
        runner.trimmed = False
        t = time.monotonic()
        ws.run(runner, stop_first=False, timeout=600)
        took = time.monotonic() - t
    for mod in modules:
        ws.restore(mod)
    return took


def canary(ws: Workspace, runner: Runner, mod: Module) -> None:
    """A module that cannot be imported must fail the tests: else they import another copy of it."""
    ws.write(mod.path, 'raise RuntimeError("paychaos mutation canary")\n')
    try:
        status, out = ws.run(runner)
    finally:
        ws.restore(mod)
    if status == "pass":
        raise ToolError(f"the tests pass with {mod.path} replaced by `raise RuntimeError` in {ws.dir}: they do not "
                        "import the copy's module (or none of them imports it): see how they import the package "
                        "(pythonpath in pyproject.toml, the __init__.py files under tests/)")
    if "paychaos mutation canary" not in out:
        raise ToolError(f"the canary for {mod.path} failed the tests for another reason:\n{out[-2000:]}")


def run_all(modules: list[Module], mutants: list[Mutant], runner: Runner, jobs: int, verbose: bool,
            fork: bool) -> list[Result]:
    by_path = {m.path: m for m in modules}
    root = Path(tempfile.mkdtemp(prefix="paychaos-mutation-"))
    results: list[Result] = []
    lock = threading.Lock()
    spaces: list[Workspace] = []
    try:
        for i in range(jobs):
            spaces.append(Workspace(root, f"w{i}", fork))
            for mod in modules:  # the sources the mutants were made from, whatever changed since
                spaces[-1].restore(mod)
        took = baseline(spaces[0], runner, modules)
        runner.timeout = max(20.0, took * 5)
        plugins = "only " + ", ".join(KEEP_PLUGINS) if runner.trimmed else "all plugins"
        print(f"baseline: the tests pass in {took:.1f}s ({plugins}); per-mutant timeout {runner.timeout:.0f}s",
              file=sys.stderr)
        mutated = {m.path for m in mutants}
        _parallel(spaces, [mod for mod in modules if mod.path in mutated], lambda ws, mod: canary(ws, runner, mod))

        def one(ws: Workspace, m: Mutant) -> None:
            ws.write(m.path, by_path[m.path].mutated(m))
            t = time.monotonic()
            try:
                status, out = ws.run(runner)
            finally:
                ws.restore(by_path[m.path])
            if status.startswith("error"):
                raise ToolError(f"pytest {status} with the mutant {m.describe()}:\n{out[-2000:]}")
            res = Result(m, {"fail": "killed", "timeout": "timeout", "pass": "survived"}[status], time.monotonic() - t)
            with lock:
                results.append(res)
                n = len(results)
                if verbose:
                    print(f"[{n}/{len(mutants)}] {res.status:8} {res.seconds:4.1f}s {m.describe()}", file=sys.stderr)
                elif n % 25 == 0 or n == len(mutants):
                    killed = sum(r.status != "survived" for r in results)
                    print(f"[{n}/{len(mutants)}] {killed} killed so far", file=sys.stderr)

        _parallel(spaces, mutants, one)
        return sorted(results, key=lambda r: (r.mutant.path, r.mutant.line, r.mutant.index))
    finally:
        for ws in spaces:
            ws.close()
        shutil.rmtree(root, ignore_errors=True)


def _parallel(spaces: list[Workspace], items: list, fn) -> None:
    """``fn(workspace, item)`` for every item, one thread per workspace; the first exception stops them all."""
    todo: queue.Queue = queue.Queue()
    for item in items:
        todo.put(item)
    errors: list[BaseException] = []

    def work(ws: Workspace) -> None:
        while not errors:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                fn(ws, item)
            except BaseException as exc:  # noqa: BLE001 - raised in the main thread below
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(ws,), daemon=True) for ws in spaces]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------- report


def report(results: list[Result], show_survivors: bool, seconds: float) -> float:
    rows: dict[str, list[Result]] = {}
    for r in results:
        rows.setdefault(r.mutant.path, []).append(r)
    width = max([len(p) for p in rows] + [5])
    print(f"{'module':<{width}}  mutants  killed  survived  score")
    total_k = total_n = 0
    for path, rs in sorted(rows.items()):
        k = sum(r.status != "survived" for r in rs)
        total_k += k
        total_n += len(rs)
        print(f"{path:<{width}}  {len(rs):7}  {k:6}  {len(rs) - k:8}  {100 * k / len(rs):5.1f}%")
    score = 100 * total_k / total_n if total_n else 0.0
    timeouts = sum(r.status == "timeout" for r in results)
    print(f"{'TOTAL':<{width}}  {total_n:7}  {total_k:6}  {total_n - total_k:8}  {score:5.1f}%")
    print(f"mutation score {score:.1f}% ({total_k} of {total_n} mutants killed, {timeouts} by timeout) "
          f"in {seconds:.0f}s")
    if show_survivors:
        survivors = [r for r in results if r.status == "survived"]
        if survivors:
            print(f"\nsurviving mutants ({len(survivors)}):")
            for r in survivors:
                print(f"  {r.mutant.describe()}  [{r.mutant.kind}]")
    return score


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", action="append", default=[], metavar="TEXT",
                    help="only modules whose path contains TEXT (repeatable), e.g. money, collect, profile")
    ap.add_argument("--limit", type=int, metavar="N", help="only the first N mutants (in file order)")
    ap.add_argument("--sample", type=int, metavar="N", help="a random sample of N mutants")
    ap.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    ap.add_argument("--jobs", type=int, default=2, metavar="N", help="workers, each with its own copy of the repository (default 2)")
    ap.add_argument("--tests", nargs="+", metavar="PATH",
                    help=f"test files or node ids to run (default: the {TEST_DIR} files importing a mutated module)")
    ap.add_argument("--no-fork", action="store_true",
                    help="start a fresh interpreter per run instead of forking a warmed-up one (slower)")
    ap.add_argument("--show-survivors", action="store_true", help="list every surviving mutant")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit, running nothing")
    ap.add_argument("--verbose", "-v", action="store_true", help="one line per mutant as it finishes")
    ap.add_argument("--fail-under", type=float, metavar="P", help="exit 1 when the score is below P percent")
    args = ap.parse_args(argv)
    start = time.monotonic()
    try:
        modules = collect_modules(args.module)
        mutants = [m for mod in modules for m in mod.mutants]
        if args.sample is not None:
            mutants = sorted(random.Random(args.seed).sample(mutants, min(args.sample, len(mutants))),
                             key=lambda m: (m.path, m.index))
        if args.limit is not None:
            mutants = mutants[: args.limit]
        if args.list:
            for m in mutants:
                print(f"{m.describe()}  [{m.kind}]")
            print(f"{len(mutants)} mutants in {len(modules)} modules")
            return 0
        tests = args.tests or default_tests()
        if not tests:
            raise ToolError(f"no test file under {TEST_DIR} imports a mutated module")
        print(f"{len(mutants)} mutants in {len(modules)} modules; tests: {' '.join(tests)}", file=sys.stderr)
        results = run_all(modules, mutants, Runner(tests), max(1, args.jobs), args.verbose, not args.no_fork)
    except ToolError as exc:
        print(f"mutation: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mutation: interrupted", file=sys.stderr)
        return 130
    score = report(results, args.show_survivors, time.monotonic() - start)
    if args.fail_under is not None and score < args.fail_under:
        print(f"mutation score {score:.1f}% is below --fail-under {args.fail_under:g}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
