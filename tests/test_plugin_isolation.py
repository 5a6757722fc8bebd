"""The installed plugin leaves other projects alone (issue 19): a project
that merely has wbemconform installed in its environment keeps its own
hypothesis profile and fixtures, and its plain pytest runs import nothing of
wbemconform's stack (pywbem, requests, urllib3)."""

import os
import subprocess
import sys
import textwrap

import pytest

CONFTEST = """
from hypothesis import settings
settings.register_profile("ci", max_examples=7)
settings.load_profile("ci")
"""

TESTS = '''
import sys

import pytest
from hypothesis import given, settings, strategies as st

RUNS = []


def test_my_hypothesis_profile_is_in_force():
    assert settings.default.max_examples == 7, settings.default.max_examples


@given(st.integers())
def test_my_property_runs_my_number_of_examples(n):
    RUNS.append(n)


def test_that_was_seven_examples():
    assert len(RUNS) == 7, len(RUNS)


def test_nothing_of_wbemconform_s_stack_is_imported():
    heavy = {"pywbem", "requests", "urllib3", "wbemconform.session"} & set(sys.modules)
    assert not heavy, heavy


@pytest.fixture
def profile():
    return "mine"


def test_my_own_fixture_named_profile_is_not_parametrized(profile):
    assert profile == "mine"
'''


@pytest.mark.parametrize("ci", [False, True], ids=["plain", "CI=true"])
def test_a_project_with_wbemconform_installed_sees_no_change(tmp_path, ci):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_other.py").write_text(textwrap.dedent(TESTS))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    if ci:
        env["CI"] = "true"
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p",
                          "no:randomly", "-v", str(tmp_path)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert "wbemconform" in out.split("collected")[0]  # the plugin is installed and loaded
    assert run.returncode == 0, out
    assert "5 passed" in out, out
