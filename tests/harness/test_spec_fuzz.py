"""Property-based fuzzing of the loaders: whatever the file holds, the answer
is a SpecError with located issues, never a traceback."""

from __future__ import annotations

import copy
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from harness.errors import SpecError
from harness.spec import load_contract, load_scenario, load_target
from harness.spec.source import parse_document

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "scenarios/standard/card-timeouts.yaml"
TARGET = REPO / "scenarios/targets/reference.yaml"
CONTRACT = REPO / "scenarios/contracts/reference.yaml"

_yaml = YAML(typ="safe", pure=True)
BASE = {p: _yaml.load(p.read_text()) for p in (SCENARIO, TARGET, CONTRACT)}
LOADERS = {SCENARIO: load_scenario, TARGET: load_target, CONTRACT: load_contract}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["1.5", "-1", "2s", "500ms", "1 fortnight", "status", "latency", "visa", "{order.id}", "{nope}"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


def _dump(data) -> str:
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    return buf.getvalue()


def _assert_clean(path: Path, loader) -> None:
    try:
        loader(path)
    except SpecError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.file == str(path)
            assert issue.message.strip()
            assert "Traceback" not in issue.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from(sorted(LOADERS, key=str)), value=values)
def test_mutated_documents_never_crash(tmp_path_factory, data, which: Path, value) -> None:
    doc = copy.deepcopy(BASE[which])
    paths = list(_paths(doc))
    where = data.draw(st.sampled_from(paths))
    doc = _set(doc, where, value)
    path = tmp_path_factory.mktemp("fuzz") / which.name
    path.write_text(_dump(doc))
    _assert_clean(path, LOADERS[which])


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_document(text, "x.yaml")
    except SpecError as exc:
        assert all(i.file == "x.yaml" and i.message for i in exc.issues)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!,#|>'\"\n %@`?\t")), max_size=120))
def test_yaml_punctuation_soup_never_crashes(text: str) -> None:
    try:
        doc = parse_document(text, "x.yaml")
    except SpecError as exc:
        assert all(i.message for i in exc.issues)
    else:
        assert doc.file == "x.yaml"
