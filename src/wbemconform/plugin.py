"""The wbemconform pytest plugin (the ``pytest11`` entry point).

A thin adapter between pytest and the run engine
(:class:`wbemconform.session.Session`): options, collection, markers,
fixtures and the terminal are pytest's business and live here; verdicts,
waivers, the gate and the results files are the engine's. The suites
(``suites/``) stay thin::

    @pytest.mark.requirement("TR-1")
    def test_forward_traversal(verdict):
        verdict.expect()

The ``verdict`` fixture asks the engine to judge the test's requirement on
its subject -- the target, a discovered registered profile or a discovered
association, by the catalog's ``subject`` -- during *setup*, so a check that
could not run makes the test an ERROR, never a FAIL. Conformance tests are
those under the ``wbemconform_suites`` ini paths; each must carry exactly
one ``requirement`` marker naming a catalog id (a collection error
otherwise).

Each hook does one job; the options are wbemconform.options' table. The
plugin does nothing unless asked: importing it imports no pywbem, requests or
hypothesis, and a run builds the engine only when a wbemconform option is
given or conformance tests are collected (wbemconform.plugin_run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import _pytest_adapter as internals
from . import interrupts
from .gate import GATE_ABORTED, GATE_FAILED, GATE_PASSED
from .options import (HYPOTHESIS_PROFILE, HYPOTHESIS_SEED, JSON, OPERATION_LOG, PASSWORD,
                      REPORT, RUN_TIMEOUT, STRICT, TIMEOUT, WAIVERS, add_pytest_options,
                      check_positive_seconds, recorded, target_options)
from .plugin_run import RunState, abspath
from .plugin_terminal import STATE as _STATE, VerdictView, summary

__all__ = ["SUBJECT_FIXTURES", "EXIT_STATUS"]

#: the exit status of a conformance run is its gate's (README, "Verdicts and the gate")
EXIT_STATUS = {GATE_PASSED: 0, GATE_FAILED: 1, GATE_ABORTED: 2}

SUBJECT_FIXTURES = ("profile", "association")  # fixture names = catalog subject kinds
_EARLY_ERRORS = pytest.StashKey()  # collection errors before the run was known
_REQ = pytest.StashKey()  # an item's catalog Requirement


def pytest_addoption(parser):
    """The plugin's options: one table, wbemconform.options (the CLI, the
    report's Reproduce commands and the tests read the same table)."""
    add_pytest_options(parser.getgroup("wbemconform", "wbemconform conformance target and "
                                                      "results"))
    parser.addini("wbemconform_suites", "paths whose tests are conformance tests",
                  type="paths", default=[])


def _state(config) -> RunState | None:
    """The run's state, or None while the run is not (yet) a conformance run."""
    return config.stash.get(_STATE, None)


def _options_given(config):
    """Whether the command line gives any option of the plugin's own."""
    return bool(recorded(config.getoption)) or config.getoption(PASSWORD) is not None


def _start(config) -> RunState:
    """This pytest run is a conformance run: build the engine's session (the
    first time pywbem is imported), validate the options, pick the hypothesis
    profile of the property-based checks. A bad option is one line, with
    ABORTED results written."""
    from .hypothesis_profiles import PROFILES, use
    from .session import RunOptions, Session
    from .targets import TargetSetupError, validate_options
    from .waivers import WaiverError, load_waivers
    opt = config.getoption
    run = RunOptions(json_path=abspath(opt(JSON)), report_path=abspath(opt(REPORT)),
                     oplog_path=abspath(opt(OPERATION_LOG)),
                     waivers_path=abspath(opt(WAIVERS)))
    options = target_options(config.getoption)
    session = Session(options, run=run, command_options=recorded(config.getoption),
                      context={"rootdir": str(config.rootpath), "cwd": os.getcwd()})
    state = config.stash[_STATE] = RunState(session)
    state.collect_errors.extend(config.stash.get(_EARLY_ERRORS, []))
    _CURRENT.append(state)
    if config.option.debug:
        internals.scrub_debug_log(config, session.secrets.scrub)
    try:
        options.timeout = check_positive_seconds(TIMEOUT, opt(TIMEOUT))
        run.run_timeout = check_positive_seconds(RUN_TIMEOUT, opt(RUN_TIMEOUT))
        validate_options(options)
        state.check_outputs(config)
        if run.waivers_path:
            session.waivers = load_waivers(run.waivers_path)
        prof = opt(HYPOTHESIS_PROFILE)
        if prof and prof not in PROFILES:
            raise ValueError(f"{HYPOTHESIS_PROFILE} {prof!r}: unknown; known: "
                             + ", ".join(PROFILES))
    except (ValueError, TargetSetupError, WaiverError) as exc:
        # one line, and the results files (if asked for) say ABORTED and why
        session.abort(f"bad option: {exc}")
        state.write_aborted_early(config)
        raise pytest.UsageError(session.scrub(str(exc))) from None
    # for this run's property-based checks only, never the process default
    use(prof, seed=opt(HYPOTHESIS_SEED))
    return state


def _ensure(config) -> RunState:
    return _state(config) or _start(config)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requirement(id): the catalog requirement a conformance test checks")
    if _options_given(config):
        _start(config)


def pytest_sessionstart(session):
    """Before collection (which discovers the target): when the options ask for
    a conformance run, arm the signals and the budget and replace stale
    results at once (wbemconform.plugin_run)."""
    state = _state(session.config)
    if state is not None:
        state.arm()
        state.write_pending(session.config)


def pytest_deselected(items):
    """Count deselected conformance tests: their pairs are not judged."""
    if _CURRENT:
        _CURRENT[-1].deselected += sum(1 for i in items if _is_conformance(i))


def _is_conformance(item):
    roots = item.config.getini("wbemconform_suites")
    path = Path(str(item.path)).resolve()
    return any(path.is_relative_to(Path(r).resolve()) for r in roots) or \
        item.get_closest_marker("requirement") is not None


def _requirement_of(item):
    from .catalog import catalog
    marks = list(item.iter_markers("requirement"))
    if len(marks) != 1 or len(marks[0].args) != 1:
        raise pytest.UsageError(
            f"{item.nodeid}: a conformance test needs exactly one "
            "@pytest.mark.requirement(\"ID\") marker")
    rid = marks[0].args[0]
    if rid not in catalog():
        raise pytest.UsageError(f"{item.nodeid}: requirement {rid!r} is not in the catalog")
    return catalog()[rid]


def pytest_generate_tests(metafunc):
    """Parametrize by what discovery finds on the target."""
    kinds = [k for k in SUBJECT_FIXTURES if k in metafunc.fixturenames]
    if not kinds or not _is_conformance(metafunc.definition):
        return  # another project's fixture of that name is its own business
    state = _ensure(metafunc.config)
    state.arm()  # discovery starts: a conformance run
    found = state.session.subjects(kinds[0])
    if not found:
        # one test that reports not-applicable (or the setup error), not an empty set
        metafunc.parametrize(kinds[0], [None], ids=[f"no-{kinds[0]}"])
        return
    metafunc.parametrize(kinds[0], [s for _, s in found], ids=[label for label, _ in found])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Mark conformance tests with their requirement; writes last."""
    conformance = [i for i in items if _is_conformance(i)]
    if not conformance and _state(config) is None:
        return
    state = _ensure(config)
    state.arm()
    state.collected = len(conformance)
    if state.session.setup_error and conformance:
        # the target is unusable: one error line (pytest_collection_finish),
        # not one identical error per test
        drop = set(map(id, conformance))
        config.hook.pytest_deselected(items=conformance)
        items[:] = [i for i in items if id(i) not in drop]
        return
    for item in conformance:
        req = _requirement_of(item)
        item.stash[_REQ] = req
        item.user_properties.append(("requirement", req.id))
        item.user_properties.append(("level", req.level))
    items.sort(key=lambda i: i.stash[_REQ].writes if _REQ in i.stash else False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A Ctrl-C or SIGTERM that no operation has raised yet is raised before
    the next test (wbemconform.interrupts); a no-op unless a run is armed."""
    interrupts.checkpoint()


def pytest_collection_finish(session):
    """Say at once when nothing will be checked."""
    state = _state(session.config)
    if state is None:
        return
    state.selected = sum(1 for i in session.items if _REQ in i.stash)
    s = state.session
    if s.setup_error:
        _write_line(session.config, f"wbemconform: ERROR: {s.setup_error}", red=True, bold=True)
    elif state.collected and not state.selected:
        s.abort("no conformance test was selected (the -k/-m expression or the test ids "
                "given match none)")


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Remember collection errors: a conformance run that had one is aborted."""
    report = yield
    if report.failed:
        state = _state(collector.config)
        errors = state.collect_errors if state is not None else \
            collector.config.stash.setdefault(_EARLY_ERRORS, [])
        errors.append(report.nodeid or collector.nodeid)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo):
    """Ctrl-C: remembered; pytest_sessionfinish aborts the run with it. A
    Ctrl-C that lands inside a hypothesis explicit example carries that
    example as a note ("Failing explicit example: ..."), which pytest's
    terminal would print in its KeyboardInterrupt line: dropped (before the
    terminal, which runs after this, makes its copy)."""
    if _CURRENT:
        state = _CURRENT[-1]
        state.interrupted = state.stopping = True
        interrupts.acknowledge()
        if isinstance(excinfo.value, KeyboardInterrupt) and \
                getattr(excinfo.value, "__notes__", None):
            del excinfo.value.__notes__
        _drop_lineless_entries(excinfo)


def _drop_lineless_entries(excinfo):
    """A second Ctrl-C is raised wherever the main thread is, and Python 3.11
    has frames without a line number (inside ``ast``): pytest's report of such
    a traceback fails with a TypeError. Those frames are left out of it."""
    def has_line(entry):
        try:
            return entry.lineno >= 0
        except TypeError:
            return False
    try:
        excinfo.traceback = excinfo.traceback.filter(has_line)
    except (AttributeError, TypeError):  # pragma: no cover -- another pytest
        pass


#: the states of the configs in this process (pytest_keyboard_interrupt gets no config)
_CURRENT: list = []


@pytest.fixture
def verdict(request):
    """Judge this test's requirement on its subject (during setup)."""
    return _verdict(request, "")


@pytest.fixture
def property_verdict(request):
    """Judge this test's requirement with its property-based (hypothesis) check."""
    from .session import PROPERTY_VARIANT
    return _verdict(request, PROPERTY_VARIANT)


def _verdict(request, variant):
    from .checks import has_check
    from .results import TARGET_SUBJECT
    state = _ensure(request.config)
    req = request.node.stash.get(_REQ, None)
    if req is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the verdict fixture is only for "
                                "conformance tests with a requirement marker")
    if not has_check(req.id, variant):
        raise pytest.UsageError(f"{request.node.nodeid}: no {variant or 'plain'} check "
                                f"for {req.id}")
    subject = None
    for kind in SUBJECT_FIXTURES:
        if kind in request.fixturenames:
            subject = request.getfixturevalue(kind)
    session = state.session
    if session.check_budget():
        pytest.exit(f"wbemconform: the run budget of {session.run_options.run_timeout:g} s "
                    "(--wbem-run-timeout) is spent: the run stops",
                    returncode=pytest.ExitCode.TESTS_FAILED)
    label = None if subject is not None or req.subject != "target" else TARGET_SUBJECT
    record = session.judge(req, subject, variant=variant, label=label,
                           test=request.node.nodeid)
    shown = next(s for s, r in session.results.records[req.id].items() if r is record)
    if session.setup_error:
        pytest.exit(f"wbemconform: ERROR: {session.setup_error}",
                    returncode=pytest.ExitCode.TESTS_FAILED)
    request.node.user_properties.append(("subject", shown))
    if session.results.flavor is not None:  # the level may depend on the target's flavor
        request.node.user_properties[:] = [
            (k, session.results.level(req.id) if k == "level" else v)
            for k, v in request.node.user_properties]
    request.node.user_properties.append(("verdict", record.verdict))
    if record.verdict == "error":
        # during setup: the test is an ERROR, with this one line and no traceback
        pytest.fail(f"wbemconform: ERROR: {req.id} {shown}: {record.message}", pytrace=False)
    return VerdictView(req, shown, record, session.results.level(req.id))


@pytest.fixture
def profile():
    """Overridden by parametrization with each discovered registered profile."""
    return None


@pytest.fixture
def association():
    """Overridden by parametrization with each discovered association."""
    return None


_ABORTING_EXITS = {
    pytest.ExitCode.USAGE_ERROR: "a usage error stopped the run",
    pytest.ExitCode.INTERNAL_ERROR: "an internal error stopped the run",
}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Decide the gate, write the results files, set the exit status (before
    pytest writes JUnit, which then carries the gate)."""
    state = _state(session.config)
    if state is None:
        return
    if not state.active:
        state.finish_junit()
        return
    state.finished = True
    state.stop_watchdog()
    s = state.session
    if state.terminated:
        s.abort("terminated (SIGTERM) before the run finished")
    elif state.interrupted and not state.budget_fired:
        s.abort("interrupted (Ctrl-C) before the run finished")
    for nodeid in state.collect_errors:
        s.abort(f"collection failed: {nodeid}")
    if exitstatus in _ABORTING_EXITS:
        s.abort(_ABORTING_EXITS[exitstatus])
    elif exitstatus == pytest.ExitCode.INTERRUPTED and not s.abort_reasons:
        s.abort("the run was interrupted")
    if not s.setup_error:
        s.abort_if_partial(state.partial_cause(session))
    written, problems = s.write_outputs()
    if problems:
        # results lost are no verdict: every file that was written says so too
        for problem in problems:
            s.abort(f"results not written: {problem}")
        written, _ = s.write_outputs()
    state.written, state.write_problems = written, problems
    gate = s.gate()
    xml = internals.junit_xml(session.config)
    if xml is not None:
        xml.add_global_property("wbemconform_gate", gate.status)
        if gate.reasons:
            xml.add_global_property("wbemconform_gate_reasons", "; ".join(gate.reasons))
    # the gate's exit status: passed 0, failed 1, aborted 2 (a signal, the run
    # budget, a usage or internal error: all aborted); a passed gate beside
    # failures of tests that are not conformance tests is 1 (they failed)
    status = EXIT_STATUS[gate.status]
    if gate.passed and session.exitstatus not in (pytest.ExitCode.OK,
                                                   pytest.ExitCode.NO_TESTS_COLLECTED) \
            and not _only_conformance_failures(session):
        status = pytest.ExitCode.TESTS_FAILED
    session.exitstatus = status


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A conformance test's report says what the verdict means (see the two
    helpers below)."""
    report = yield
    if item.get_closest_marker("requirement") is not None:
        _skip_at_the_test(item, report)
        _non_gating_failure_skipped(item, report)
    return report


def _skip_at_the_test(item, report):
    """A not-applicable (skipped) conformance test is located at the test
    (its requirement and subject), not at the plugin line that skipped it."""
    if report.skipped and isinstance(report.longrepr, tuple):
        _, lineno, _ = item.location
        report.longrepr = (str(item.path), (lineno or 0) + 1, report.longrepr[2])


def _non_gating_failure_skipped(item, report):
    """A failure of a requirement that does not gate (SHOULD, MAY) is a skipped
    test case, not a failed one, unless --conformance-strict: the gate passes,
    and JUnit dashboards (Jenkins, GitLab, GitHub's reporters) show a skipped
    case as not red, yet listed apart from the passes. Its properties keep
    level and verdict=fail; the reason says what failed."""
    state = _state(item.config)
    if report.when != "call" or not report.failed or _REQ not in item.stash or \
            state is None or item.config.getoption(STRICT):
        return
    rid = item.stash[_REQ].id
    props = dict(report.user_properties)
    if props.get("verdict") != "fail" or state.session.results.gating(rid):
        return
    first = str(report.longrepr).splitlines()[0] if report.longrepr else rid
    report.outcome = "skipped"
    report.longrepr = (str(item.path), (item.location[1] or 0) + 1,
                       f"{first} -- a {props.get('level', 'SHOULD')} failure: the gate does "
                       "not fail on it (--conformance-strict makes it a failure)")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    state = _state(config)
    if state is None:
        return
    from .hypothesis_profiles import use
    use(None, release=True)
    state.finish_junit()
    state.disarm()
    if state in _CURRENT:
        _CURRENT.remove(state)


def _only_conformance_failures(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return False
    for rep in tr.stats.get("failed", []) + tr.stats.get("error", []):
        if not any(k == "requirement" for k, _ in getattr(rep, "user_properties", [])):
            return False
    return True


def _write_line(config, text, **markup):
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(text, **markup)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The requirement table and the gate's decision."""
    state = _state(config)
    if state is not None and state.active:
        summary(terminalreporter, state)
