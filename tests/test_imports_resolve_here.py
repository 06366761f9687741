"""The tests import the code beside them.

Not the checkout the virtualenv was installed from (its editable install puts
THAT checkout on sys.path), and never a test folder named like the package it
tests: ``tests/harness`` is a plain folder, not a package, so even where
``tests/`` itself is on sys.path (a tool run from there) ``import harness``
finds the real package (a regular package beats a namespace portion wherever
it sits on the path). pyproject's ``pythonpath = ["."]`` puts this checkout
first for pytest, from whatever directory it is started.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["harness", "mock_providers", "examples"]


@pytest.mark.parametrize("name", PACKAGES)
def test_the_code_under_test_is_this_checkouts(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve() == REPO / name / "__init__.py", (
        f"{name} was imported from {module.__file__}, not from the checkout these tests are in ({REPO})")


@pytest.mark.parametrize("name", PACKAGES)
def test_no_test_folder_is_a_package_named_like_the_code(name: str) -> None:
    assert not (REPO / "tests" / name / "__init__.py").exists(), (
        f"tests/{name}/__init__.py makes tests/{name} a package that shadows {name} wherever tests/ is on "
        "sys.path; leave the folder a plain one")


def test_import_from_the_tests_folder_finds_the_real_package() -> None:
    """As a script or tool run with tests/ as its working directory (first on sys.path) imports it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", "import harness, mock_providers; "
                          "print(harness.__file__); print(mock_providers.__file__)"],
                         cwd=REPO / "tests", env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(REPO / "harness" / "__init__.py"), str(REPO / "mock_providers" / "__init__.py")]


@pytest.mark.parametrize("cwd", ["tests", "/"])
def test_pytest_started_from_elsewhere_still_tests_this_checkout(cwd: str) -> None:
    """``pytest path/to/a/test`` from another directory: rootdir and pythonpath still come from this
    checkout's pyproject.toml."""
    node = f"{Path(__file__).resolve()}::test_the_code_under_test_is_this_checkouts"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                         cwd=REPO / cwd if cwd != "/" else "/", env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "3 passed" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
