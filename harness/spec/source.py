"""YAML documents that remember where every value came from.

ruamel.yaml's round-trip loader keeps line numbers on its containers; we turn
its tree into plain dicts and lists (what pydantic validates) plus a map from
each value's path, e.g. ``("faults", 2, "rate")``, to its 1-based line. An
error at any path is then reported at the line of the deepest part of that path
that exists in the file (a missing field is reported at its parent's line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from harness.errors import SpecError, SpecIssue

__all__ = ["Document", "load_document", "parse_document", "format_path"]

Path_ = tuple[str | int, ...]

# A document this large is not a hand-written scenario; most likely aliases
# expanding exponentially ("billion laughs"). Refuse rather than eat memory.
MAX_NODES = 200_000
MAX_BYTES = 2_000_000


@dataclass
class Document:
    """A parsed YAML file: plain data and the line of each value."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path``, or of its deepest ancestor present in the file."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return None

    def issue(self, path: Path_, message: str) -> SpecIssue:
        return SpecIssue(self.file, self.line_of(path), format_path(path), message)


def format_path(path: Path_) -> str:
    """``("faults", 2, "rate")`` -> ``faults[2].rate``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_document(path: str | Path, display: str | None = None) -> Document:
    """Read and parse one YAML file; raises SpecError (never a traceback)."""
    p = Path(path)
    name = display or str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SpecError([SpecIssue(name, None, "", "file not found; check the path")]) from None
    except IsADirectoryError:
        raise SpecError([SpecIssue(name, None, "", "is a directory, expected a YAML file")]) from None
    except OSError as exc:
        raise SpecError([SpecIssue(name, None, "", f"cannot be read: {exc.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise SpecError([SpecIssue(name, None, "", f"is {len(raw)} bytes; a spec file may be at most {MAX_BYTES}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([SpecIssue(name, None, "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None
    return parse_document(text, name)


def parse_document(text: str, file: str) -> Document:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in what or "found duplicate key" in str(exc):
            what = _duplicate_message(exc)
        raise SpecError([SpecIssue(file, line, "", f"YAML syntax error: {what}")]) from None
    except YAMLError as exc:
        raise SpecError([SpecIssue(file, None, "", f"YAML error: {exc}")]) from None
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:
        # ruamel can raise plain Python errors on pathological input (deep
        # nesting, odd tags); they are still bad input, not harness bugs.
        raise SpecError([SpecIssue(file, None, "", f"cannot be parsed as YAML: {type(exc).__name__}")]) from None
    doc = Document(file, None)
    try:
        doc.data = _plain(tree, (), doc.lines, [0], set())
    except _TooLarge:
        raise SpecError(
            [SpecIssue(file, None, "", f"expands to more than {MAX_NODES} values (aliases?); simplify it")]
        ) from None
    except _Cycle as exc:
        raise SpecError([doc.issue(exc.path, "refers to itself through a YAML alias; remove the cycle")]) from None
    except RecursionError:
        raise SpecError([SpecIssue(file, None, "", "is nested too deeply")]) from None
    return doc


def _duplicate_message(exc: MarkedYAMLError) -> str:
    text = str(exc.problem or exc)
    first = text.splitlines()[0] if text else "duplicate key"
    return f"{first}; each key may appear once in a mapping"


class _TooLarge(Exception):
    pass


class _Cycle(Exception):
    def __init__(self, path: Path_):
        self.path = path


def _plain(node: Any, path: Path_, lines: dict[Path_, int], count: list[int], stack: set[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _TooLarge
    if isinstance(node, (CommentedMap, CommentedSeq)):
        if id(node) in stack:
            raise _Cycle(path)
        stack.add(id(node))
        try:
            if isinstance(node, CommentedMap):
                return _plain_map(node, path, lines, count, stack)
            return _plain_seq(node, path, lines, count, stack)
        finally:
            stack.discard(id(node))
    if isinstance(node, dict):  # plain dicts appear for merged keys
        return {str(k): _plain(v, (*path, str(k)), lines, count, stack) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v, (*path, i), lines, count, stack) for i, v in enumerate(node)]
    if node is None or isinstance(node, (bool, int, float)):
        return _number(node)
    if isinstance(node, str):
        return str(node)  # drops ruamel's ScalarString subclasses
    # Tagged scalars (!foo bar), timestamps, bytes...: keep their text so the
    # validator says "must be a number (got '...')" instead of crashing.
    value = getattr(node, "value", None)
    return str(value if value is not None else node)


def _number(value: Any) -> Any:
    # ruamel returns ScalarFloat/ScalarInt subclasses; pydantic wants the real types.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _plain_map(node: CommentedMap, path: Path_, lines: dict, count: list[int], stack: set[int]) -> dict:
    if node.lc.line is not None:
        lines.setdefault(path, node.lc.line + 1)
    out: dict[str, Any] = {}
    for key, value in node.items():
        k = key if isinstance(key, str) else _key_text(key)
        sub = (*path, k)
        try:
            pos = node.lc.key(key)
        except (KeyError, TypeError, AttributeError):
            pos = None
        if pos:
            lines[sub] = pos[0] + 1
        out[k] = _plain(value, sub, lines, count, stack)
    return out


def _plain_seq(node: CommentedSeq, path: Path_, lines: dict, count: list[int], stack: set[int]) -> list:
    if node.lc.line is not None:
        lines.setdefault(path, node.lc.line + 1)
    out = []
    for i, value in enumerate(node):
        sub = (*path, i)
        try:
            pos = node.lc.item(i)
        except (KeyError, TypeError, AttributeError, IndexError):
            pos = None
        if pos:
            lines[sub] = pos[0] + 1
        out.append(_plain(value, sub, lines, count, stack))
    return out


def _key_text(key: Any) -> str:
    # Non-string keys (1: x, null: y, [a]: z) are kept as text; the models
    # then reject them by name like any other unknown field.
    if key is None:
        return "null"
    return str(key)
