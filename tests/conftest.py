"""Fixtures for the project's own tests."""

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WBEMCONFORM_SHARED", REPO.parent / "shared"))
SPEC = SHARED / "spec" / "writing-an-association-provider-for-interop.md"

WIN32_PROCESSES = """
instance of Win32_Process
{
    CSCreationClassName = "Win32_ComputerSystem"; CSName = "TESTHOST";
    OSCreationClassName = "Win32_OperatingSystem"; OSName = "Windows";
    CreationClassName = "Win32_Process"; Handle = "%(handle)s"; Name = "p%(handle)s.exe";
};
"""


def spec_mof_blocks():
    """Every code block of the spec, verbatim, in order (skips without ../shared)."""
    if not SPEC.is_file():
        pytest.skip(f"the spec is not available at {SPEC} (../shared is only beside CI clones)")
    text = SPEC.read_text(encoding="utf-8")
    blocks = re.findall(r"^[ \t]*```syntax\n(.*?)^[ \t]*```", text, flags=re.S | re.M)
    assert len(blocks) == 5, f"expected the spec's 5 MOF blocks, found {len(blocks)}"
    return blocks


def processes_mof(handles):
    return "".join(WIN32_PROCESSES % {"handle": h} for h in handles)


@pytest.fixture
def spec_mof(tmp_path):
    """Write the spec's MOF (blocks concatenated unchanged) plus processes.

    Returns a function: spec_mof(edit=None, handles=(...)) -> path. ``edit``
    may change the concatenated text (for negative cases).
    """
    def make(edit=None, handles=("100", "200", "300"), name="spec.mof"):
        mof = "\n".join(spec_mof_blocks())
        if edit:
            mof = edit(mof)
        # the last block leaves the pragma at root\cimv2: processes go there
        mof += processes_mof(handles)
        path = tmp_path / name
        path.write_text(mof, encoding="utf-8")
        return path
    return make


def pytest_terminal_summary(terminalreporter):
    """The defect zoo's table, when its test ran."""
    import sys
    module = sys.modules.get("test_defect_zoo")
    rows = getattr(module, "TABLE", None)
    if not rows:
        return
    tr = terminalreporter
    tr.section("defect zoo: defect -> expected ids -> failed ids")
    for name, expected, failed in sorted(rows):
        mark = "ok " if expected == failed else "MISMATCH"
        tr.write_line(f"{mark} {name:40} {', '.join(expected) or '-':45} {', '.join(failed) or '-'}")
