"""Fixtures for the project's own tests."""

import logging
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the project's tests load hundreds of MOF variants: their mock cache entries go
# to a folder of this test run (inherited by the runs the tests start), not
# into the user's cache; the folder goes when the test run ends
if "WBEMCONFORM_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile
    os.environ["WBEMCONFORM_CACHE"] = tempfile.mkdtemp(prefix="wbemconform-test-cache-")
    atexit.register(shutil.rmtree, os.environ["WBEMCONFORM_CACHE"], ignore_errors=True)
# hypothesis keeps caches of its own (constants, unicode data) in a .hypothesis
# folder of the working directory even without an example database: this test
# run's go to a folder of its own (inherited by the runs the tests start),
# removed when the run ends
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    import atexit
    import shutil
    import tempfile
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(
        prefix="wbemconform-test-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"],
                    ignore_errors=True)
# the defect zoo's entries include shared MOF from tests/defects/_common: the
# include search path says so (inherited by the runs the tests start)
os.environ.setdefault("WBEMCONFORM_MOF_INCLUDE_PATH", str(REPO / "tests" / "defects"))
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


SPEC_BLOCKS = REPO / "tests" / "data" / "spec-blocks.mof"


def spec_mof_blocks():
    """Every MOF code block of the spec, verbatim, in order (the project's copy,
    tests/data/spec-blocks.mof; tests/test_spec_blocks.py checks it)."""
    text = SPEC_BLOCKS.read_text(encoding="utf-8")
    blocks = re.split(r"^// ---- block \d+\n", text, flags=re.M)[1:]
    assert len(blocks) == 5, f"expected the spec's 5 MOF blocks, found {len(blocks)}"
    return blocks


def spec_blocks_from_the_spec():
    """The blocks as the spec document has them (skips, saying why, without it)."""
    if not SPEC.is_file():
        pytest.skip("needs Microsoft's spec document from ../shared/spec, which only CI "
                    f"clones have beside them (expected at {SPEC})")
    text = SPEC.read_text(encoding="utf-8")
    return [b.rstrip("\n") + "\n" for b in
            re.findall(r"^[ \t]*```syntax\n(.*?)^[ \t]*```", text, flags=re.S | re.M)]


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


@pytest.fixture(scope="session")
def openpegasus(tmp_path_factory):
    """The OpenPegasus 2.14.4 of this session (tests/openpegasus.py's
    ``Served``: ``.url``, ``.mode`` live/record/replay): the running one
    WBEMCONFORM_OPENPEGASUS_URL names, one started from WBEMCONFORM_SHARED's
    start script, or the recording in tests/recordings replayed on 127.0.0.1
    (WBEMCONFORM_REPLAY=1: always that); WBEMCONFORM_RECORD=1 records a live
    one. Skips, saying why, where there is none."""
    import openpegasus as pegasus
    why = None
    try:
        with pegasus.served(tmp_path_factory.mktemp("openpegasus")) as served:
            yield served
    except (pegasus.Unavailable, ValueError) as exc:
        why = exc
    if isinstance(why, pegasus.Unavailable):
        pytest.skip(str(why))
    if why is not None:  # WBEMCONFORM_RECORD/REPLAY asking for what cannot be
        pytest.fail(str(why), pytrace=False)


_ZOO_TABLE = []  # (name, expected ids, failed ids) of each zoo entry that ran


def pytest_runtest_logreport(report):
    """Collect the defect zoo's rows (test_defect_zoo records each as the
    property "zoo"): reports reach this process from pytest-xdist's workers too."""
    if report.when == "call":
        _ZOO_TABLE.extend(value for key, value in report.user_properties if key == "zoo")


def pytest_terminal_summary(terminalreporter):
    """The defect zoo's table, when its test ran."""
    if not _ZOO_TABLE:
        return
    tr = terminalreporter
    tr.section("defect zoo: defect -> expected ids -> failed ids")
    for name, expected, failed in sorted(_ZOO_TABLE):
        mark = "ok " if expected == failed else "MISMATCH"
        tr.write_line(f"{mark} {name:40} {', '.join(expected) or '-':45} {', '.join(failed) or '-'}")


@pytest.fixture
def no_tracebacks():
    """Fails the test if any log record carries exception information (a
    traceback in the served mock's log)."""
    records = []

    class Catch(logging.Handler):
        def emit(self, record):
            if record.exc_info or record.exc_text or record.stack_info:
                records.append(record)

    handler = Catch(level=logging.DEBUG)
    watched = [logging.getLogger(n) for n in ("", "wbemconform.server", "asyncio", "cheroot")]
    levels = [lg.level for lg in watched]
    for lg in watched:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield records
    finally:
        logging.getLogger().removeHandler(handler)
        for lg, level in zip(watched, levels):
            lg.setLevel(level)
    assert not records, [(r.name, r.getMessage(), r.exc_info and r.exc_info[1])
                         for r in records]
