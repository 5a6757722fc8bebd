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

Each hook does one job; option names are the constants below.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from . import _pytest_adapter as internals
from .atomic import probe, write_text
from .catalog import catalog
from .checks import has_check
from .results import TARGET_SUBJECT
from .session import (PROPERTY_VARIANT, RunOptions, Session, SetupFailed,
                      check_positive_seconds)
from .target import (DEFAULT_WORKERS, TargetOptions, TargetSetupError, redact_url,
                     validate_options)
from .transport import DEFAULT_MAX_RESPONSE_BYTES
from .waivers import WaiverError, load_waivers

__all__ = ["SUBJECT_FIXTURES"]

# option names (the constants the rest of the plugin uses)
URL = "--wbem-url"
USER = "--wbem-user"
PASSWORD = "--wbem-password"
NO_VERIFY = "--wbem-no-verify"
CA_CERTS = "--wbem-ca-certs"
TIMEOUT = "--wbem-timeout"
RUN_TIMEOUT = "--wbem-run-timeout"
MAX_RESPONSE = "--wbem-max-response-bytes"
WORKERS = "--wbem-workers"
INTEROP = "--wbem-interop-namespace"
MOCK_MOF = "--wbem-mock-mof"
MOCK_PROVIDER = "--wbem-mock-provider"
MOCK_QUIRK = "--wbem-mock-quirk"
MOCK_SCHEMA = "--wbem-mock-schema"
MOCK_DIALECT = "--wbem-mock-dialect"
MOCK_INCLUDE_ROOT = "--wbem-mock-include-root"
MOCK_INCLUDE_ANYWHERE = "--wbem-mock-include-anywhere"
FLAVOR = "--wbem-flavor"
PROFILE = "--wbem-profile"
PROFILE_DEFS = "--wbem-profile-defs"
ALLOW_WRITES = "--wbem-allow-writes"
HYPOTHESIS_PROFILE = "--wbem-hypothesis-profile"
OPERATION_LOG = "--wbem-operation-log"
JSON = "--conformance-json"
REPORT = "--conformance-report"
WAIVERS = "--conformance-waivers"
#: options whose values are paths (recorded absolute, for Reproduce commands)
PATH_OPTIONS = (CA_CERTS, MOCK_MOF, MOCK_SCHEMA, OPERATION_LOG, JSON, REPORT, WAIVERS,
                PROFILE_DEFS, MOCK_INCLUDE_ROOT)
#: options never recorded anywhere
SECRET_OPTIONS = (PASSWORD,)

SUBJECT_FIXTURES = ("profile", "association")  # fixture names = catalog subject kinds
_STATE = pytest.StashKey()
_REQ = pytest.StashKey()  # an item's catalog Requirement


def pytest_addoption(parser):
    g = parser.getgroup("wbemconform", "wbemconform conformance target and results")
    g.addoption(URL, metavar="URL",
                help="WBEM server to test (http[s]://host[:port]); absent: the embedded mock")
    g.addoption(USER, metavar="USER", help="user name for the server")
    g.addoption(PASSWORD, metavar="PASSWORD",
                help="password (default: $WBEM_PASSWORD); never echoed")
    g.addoption(NO_VERIFY, action="store_true",
                help="do not verify the server's TLS certificate")
    g.addoption(CA_CERTS, metavar="PATH", help="CA bundle to verify the server with")
    g.addoption(TIMEOUT, metavar="SECONDS", default="30",
                help="bound on each whole operation: connect, send, receive, parse "
                     "(default 30)")
    g.addoption(RUN_TIMEOUT, metavar="SECONDS", default=None,
                help="bound on the whole run; once spent, nothing more is sent and the "
                     "run is ABORTED (default: none)")
    g.addoption(MAX_RESPONSE, metavar="BYTES", default=None,
                help="largest answer accepted from --wbem-url (bytes; K, M, G = 1024-based; "
                     "default 16M); a bigger one is a transport error, read no further")
    g.addoption(WORKERS, metavar="N", type=int, default=DEFAULT_WORKERS,
                help=f"operations a URL target may have under way at once, over separate "
                     f"connections (default {DEFAULT_WORKERS}; 1: one at a time); the verdicts, "
                     "the evidence and the operation log are the same whatever N")
    g.addoption(INTEROP, metavar="NS", help="the interop namespace (default: discovered)")
    g.addoption(MOCK_MOF, metavar="PATH", action="append", default=[],
                help="MOF for the embedded mock, instead of the example profiles (repeatable)")
    g.addoption(MOCK_PROVIDER, metavar="NAME=FILE.py:CLASS", action="append",
                default=[], help="a Python provider for the mock's provider NAME (repeatable)")
    g.addoption(MOCK_QUIRK, metavar="NAME", action="append", default=[],
                help="switch on a seeded broker defect in the mock (negative controls; "
                     "see wbemconform.mock.broker.QUIRKS)")
    g.addoption(MOCK_SCHEMA, metavar="PATH",
                help="the mock takes classes from this DMTF CIM schema release (the "
                     "cim_schema_X.Y.ZFinal-MOFs.zip DMTF publishes, or its unpacked folder) "
                     "instead of its built-in subset")
    g.addoption(MOCK_DIALECT, choices=("wmi", "dmtf"), default="wmi",
                help="how the mock reads MOF: wmi (default: undeclared qualifiers accepted, a "
                     "reference to a class that exists nowhere is a warning) or dmtf (both "
                     "are errors)")
    g.addoption(MOCK_INCLUDE_ROOT, metavar="FOLDER", action="append", default=[],
                help="a folder whose files the mock's #pragma include may read too (repeatable; "
                     "by default an include stays inside the MOF file's folder tree, the "
                     "schema folders and the current folder)")
    g.addoption(MOCK_INCLUDE_ANYWHERE, action="store_true",
                help="let the mock's #pragma include read any file (its text is never shown "
                     "in an error)")
    g.addoption(FLAVOR, choices=("auto", "wmi", "dmtf"), default="auto",
                help="which requirements apply: wmi (Windows-style), dmtf, or auto (default)")
    g.addoption(PROFILE, metavar="NAME[:VERSION]", action="append", default=[],
                help="check only these registered profiles (repeatable)")
    g.addoption(PROFILE_DEFS, metavar="FILE",
                help="a TOML profile knowledge base (central class, scoping class and path, "
                     "autonomous or component) read before the built-in one")
    g.addoption(ALLOW_WRITES, action="store_true",
                help="allow write operations against --wbem-url (PR-5 needs them)")
    g.addoption(HYPOTHESIS_PROFILE, metavar="NAME", default=None,
                help="hypothesis profile for the property-based suites (bounds operations): "
                     "ci (60 examples, the same every run), dev (30), thorough (2000); "
                     "default: $HYPOTHESIS_PROFILE, else ci when $CI is set, else dev")
    g.addoption(OPERATION_LOG, metavar="PATH",
                help="write every operation issued (JSON lines) to PATH")
    g.addoption(JSON, metavar="PATH", help="write the results as JSON to PATH")
    g.addoption(REPORT, metavar="PATH", help="write the HTML conformance report to PATH")
    g.addoption(WAIVERS, metavar="FILE",
                help="TOML or YAML waivers: listed failures become xfail (errors cannot "
                     "be waived)")
    parser.addini("wbemconform_suites", "paths whose tests are conformance tests",
                  type="paths", default=[])


class _State:
    """The pytest side of a run: the engine's session plus what pytest saw."""

    def __init__(self, session: Session):
        self.session = session
        self.collected = 0  # conformance tests collected (before deselection)
        self.selected = 0  # ... and selected
        self.collect_errors = []  # node ids whose collection failed
        self.deselected = 0  # conformance tests deselected (-k, -m, --deselect, --lf, --sw)
        self.interrupted = False
        self.terminated = False  # SIGTERM arrived
        self.budget_fired = False  # the run budget's watchdog ended the run
        self.finished = False
        self.stopping = False  # a signal is ending the run
        self.written, self.write_problems = [], []
        self._signals = {}  # signal number -> the handler before ours
        self._watchdog = None
        self._junit = None  # (LogXML, final path, temporary path)

    @property
    def active(self):
        """Whether this pytest run is a conformance run at all."""
        return self.collected > 0 or self.session.setup_error is not None or \
            self.session.touched


def _state(config) -> _State:
    return config.stash[_STATE]


def _abspath(path):
    return os.path.abspath(os.path.expanduser(path)) if path else path


def _target_options(config) -> TargetOptions:
    opt = config.getoption
    return TargetOptions(
        url=opt(URL), user=opt(USER), password=opt(PASSWORD), no_verify=opt(NO_VERIFY),
        ca_certs=_abspath(opt(CA_CERTS)), timeout=opt(TIMEOUT),
        max_response_bytes=opt(MAX_RESPONSE) or DEFAULT_MAX_RESPONSE_BYTES,
        workers=opt(WORKERS),
        interop_namespace=opt(INTEROP), mock_mof=[_abspath(p) for p in opt(MOCK_MOF)],
        mock_providers=opt(MOCK_PROVIDER), mock_quirks=opt(MOCK_QUIRK),
        mock_schema=_abspath(opt(MOCK_SCHEMA)), mock_dialect=opt(MOCK_DIALECT), flavor=opt(FLAVOR),
        mock_include_roots=[_abspath(p) for p in opt(MOCK_INCLUDE_ROOT)],
        mock_include_anywhere=opt(MOCK_INCLUDE_ANYWHERE),
        profiles=opt(PROFILE), allow_writes=opt(ALLOW_WRITES),
        profile_defs=_abspath(opt(PROFILE_DEFS)))


def _command_options(config):
    """The conformance options as given (paths absolute, secrets never):
    the JSON document records them and Reproduce commands are built from them."""
    out = {}
    for action in internals.plugin_options(config, "wbemconform"):
        name = action.names()[0]
        if name in SECRET_OPTIONS:
            continue
        value = config.getoption(name)
        if value in (None, [], False) or value == action.attrs().get("default"):
            continue
        if name in PATH_OPTIONS:
            value = [_abspath(v) for v in value] if isinstance(value, list) else _abspath(value)
        if name == URL:
            value = redact_url(value)
        out[name] = value
    return out


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requirement(id): the catalog requirement a conformance test checks")
    opt = config.getoption
    run = RunOptions(json_path=_abspath(opt(JSON)), report_path=_abspath(opt(REPORT)),
                     oplog_path=_abspath(opt(OPERATION_LOG)),
                     waivers_path=_abspath(opt(WAIVERS)))
    options = _target_options(config)
    session = Session(options, run=run, command_options=_command_options(config),
                      context={"rootdir": str(config.rootpath), "cwd": os.getcwd()})
    config.stash[_STATE] = _State(session)
    _CURRENT.append(config.stash[_STATE])
    if config.option.debug:
        internals.scrub_debug_log(config, session.secrets.scrub)
    try:
        options.timeout = check_positive_seconds(TIMEOUT, opt(TIMEOUT))
        run.run_timeout = check_positive_seconds(RUN_TIMEOUT, opt(RUN_TIMEOUT))
        validate_options(options)
        _check_outputs(config, session)
        if run.waivers_path:
            session.waivers = load_waivers(run.waivers_path)
    except (ValueError, TargetSetupError, WaiverError) as exc:
        # one line, and the results files (if asked for) say ABORTED and why
        session.abort(f"bad option: {exc}")
        _write_usable_outputs(session, config)
        raise pytest.UsageError(session.scrub(str(exc))) from None
    from .hypothesis_profiles import PROFILES, load_default
    prof = opt(HYPOTHESIS_PROFILE)
    if prof and prof not in PROFILES:
        raise pytest.UsageError(f"{HYPOTHESIS_PROFILE} {prof!r}: unknown; known: "
                                + ", ".join(PROFILES))
    load_default(prof)


def _outputs(config, session):
    """[(option, path)] of every file the run writes, JUnit included."""
    out = list(session.outputs())
    if getattr(config.option, "xmlpath", None):
        out.append(("--junitxml", _abspath(config.option.xmlpath)))
    return out


def _check_outputs(config, session):
    """Before anything runs: no two outputs share a file, and each can be
    written where it is asked for (its folder is created). ValueError, one line."""
    outputs = _outputs(config, session)
    for i, (opt_a, path_a) in enumerate(outputs):
        for opt_b, path_b in outputs[i + 1:]:
            if internals.same_file(path_a, path_b):
                raise ValueError(f"{opt_a} and {opt_b} name the same file {path_a}: each "
                                 "result needs a file of its own")
        if session.run_options.waivers_path and \
                internals.same_file(path_a, session.run_options.waivers_path):
            raise ValueError(f"{opt_a} {path_a} is the --conformance-waivers file: "
                             "it would be overwritten")
    for option, path in outputs:
        why = probe(path)
        if why:
            raise ValueError(f"{option} {path}: cannot write there: {why}")


def _write_usable_outputs(session, config):
    """Write the results files of a run aborted before it started where that is
    possible -- JUnit too, which pytest does not write then."""
    written, _ = session.write_outputs()
    junit = getattr(config.option, "xmlpath", None)
    if junit and not any(internals.same_file(junit, p) for _, p in session.outputs()):
        try:
            write_text(_abspath(junit), _junit_placeholder("; ".join(session.gate().reasons)))
        except OSError:
            pass
    return written


def _conformance_asked(config):
    """Whether the command line asks for a conformance run by its options."""
    return bool(_state(config).session.command_options)


# -- signals and the run budget -------------------------------------------------------

#: seconds after the run budget is spent before the watchdog interrupts the run
#: (nothing is sent after the budget; this bounds what a check computes)
BUDGET_GRACE = 2.0


def _arm(state):
    """A conformance run is under way: SIGTERM (what CI job timeouts send) ends
    it like Ctrl-C -- ABORTED results written -- and the run budget has a
    watchdog. Only in the main thread, once."""
    if state._signals or threading.current_thread() is not threading.main_thread():
        return

    def on_term(signum, frame):
        if state.finished or state.stopping:
            return  # the run is ending already, or its results are being written
        state.stopping = True
        state.terminated = not state.budget_fired
        raise KeyboardInterrupt
    try:
        state._signals[signal.SIGTERM] = signal.signal(signal.SIGTERM, on_term)
    except (ValueError, OSError):
        return
    deadline = state.session.deadline
    if deadline is None:
        return
    main = threading.main_thread().ident

    def fire():
        if state.finished:
            return
        state.budget_fired = True
        state.session.budget_spent()
        signal.pthread_kill(main, signal.SIGTERM)
    state._watchdog = threading.Timer(max(0.0, deadline - time.monotonic()) + BUDGET_GRACE,
                                      fire)
    state._watchdog.daemon = True
    state._watchdog.start()


def _disarm(state):
    if state._watchdog is not None:
        state._watchdog.cancel()
    for signum, previous in state._signals.items():
        try:
            signal.signal(signum, previous)
        except (ValueError, OSError, TypeError):
            pass
    state._signals.clear()


def pytest_sessionstart(session):
    """Before collection (which discovers the target): arm the signals and the
    budget when the options ask for a conformance run, and replace stale
    results at once (see :func:`_pending`)."""
    state = _state(session.config)
    if _conformance_asked(session.config):
        _arm(state)
        _pending(session.config, state)


PENDING = ("the run has not finished: it is still running, or it was killed before it "
           "could write its results")


def _pending(config, state):
    """Results files that say ABORTED until the run writes its own: a run
    killed outright (SIGKILL, a machine gone) never leaves an earlier run's
    PASSED behind. pytest's JUnit file is redirected to a temporary file that
    is renamed into place at the end (:func:`pytest_sessionfinish`)."""
    state.session.write_outputs(pending=PENDING)
    xml = internals.junit_xml(config)
    if xml is None:
        return
    final = _abspath(xml.logfile)
    temporary = os.path.join(os.path.dirname(final),
                             f".{os.path.basename(final)}.{os.getpid()}.tmp")
    internals.redirect_junit(xml, temporary)
    state._junit = (xml, final, temporary)
    config.pluginmanager.register(_JunitFinisher(state), "wbemconform-junit")
    try:
        write_text(final, _junit_placeholder(PENDING))
    except OSError:
        pass


def _junit_placeholder(reason):
    from xml.sax.saxutils import quoteattr
    return ('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite '
            'name="wbemconform" tests="1" errors="1" failures="0" skipped="0">'
            '<properties><property name="wbemconform_gate" value="aborted"/>'
            f'<property name="wbemconform_gate_reasons" value={quoteattr(reason)}/>'
            '</properties><testcase classname="wbemconform" name="conformance gate">'
            f'<error message={quoteattr(reason)}/></testcase></testsuite></testsuites>\n')


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
    if not kinds:
        return
    _arm(_state(metafunc.config))  # discovery starts: a conformance run
    found = _state(metafunc.config).session.subjects(kinds[0])
    if not found:
        # one test that reports not-applicable (or the setup error), not an empty set
        metafunc.parametrize(kinds[0], [None], ids=[f"no-{kinds[0]}"])
        return
    metafunc.parametrize(kinds[0], [s for _, s in found], ids=[label for label, _ in found])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Mark conformance tests with their requirement; writes last."""
    state = _state(config)
    conformance = [i for i in items if _is_conformance(i)]
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


def pytest_collection_finish(session):
    """Say at once when nothing will be checked."""
    state = _state(session.config)
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
        _state(collector.config).collect_errors.append(report.nodeid or collector.nodeid)
    return report


def pytest_keyboard_interrupt(excinfo):
    """Ctrl-C: remembered; pytest_sessionfinish aborts the run with it."""
    if _CURRENT:
        _CURRENT[-1].interrupted = True


#: the states of the configs in this process (pytest_keyboard_interrupt gets no config)
_CURRENT: list = []


class VerdictView:
    """What a conformance test asserts on: the engine's record of its verdict."""

    def __init__(self, req, subject_label, record, level=None):
        self.requirement = req
        self.subject = subject_label
        self.record = record
        self.level = level or req.level

    @property
    def verdict(self):
        return self.record.verdict

    def expect(self):
        rec = self.record
        if rec.verdict == "pass":
            return
        if rec.verdict in ("not-applicable", "skip"):
            pytest.skip(f"{self.requirement.id} not applicable: {rec.message}")
        if rec.waived:
            pytest.xfail(f"waived: {rec.waiver['reason']}")
        # a short first line (pytest's summary shows it beside the test id,
        # which names the subject already); the details below it
        first = (rec.problems or [rec.message])[0]
        more = f" (+{len(rec.problems) - 1} more)" if len(rec.problems) > 1 else ""
        head = f"{self.requirement.id} [{self.level}]: {_clip(first, 110)}{more}"
        detail = f"{self.subject}: {rec.message}"
        if len(rec.problems) > 1:
            detail += "\n  - " + "\n  - ".join(rec.problems[:20])
        if rec.evidence:
            detail += "\nevidence:\n" + "\n".join(
                f"  {e['operation']}({_args(e['arguments'])}) -> {e['result']}"
                for e in rec.evidence[:10])
        pytest.fail(f"{head}\n{detail}", pytrace=False)


def _clip(text, limit):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _args(args):
    return ", ".join(f"{k}={v}" for k, v in args.items())


@pytest.fixture
def verdict(request):
    """Judge this test's requirement on its subject (during setup)."""
    return _verdict(request, "")


@pytest.fixture
def property_verdict(request):
    """Judge this test's requirement with its property-based (hypothesis) check."""
    return _verdict(request, PROPERTY_VARIANT)


def _verdict(request, variant):
    state = _state(request.config)
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


@pytest.fixture(scope="session")
def wbem_observations(request):
    """The session's Observations (connects on first use)."""
    try:
        return _state(request.config).session.observations
    except SetupFailed as exc:
        pytest.fail(str(exc), pytrace=False)


_ABORTING_EXITS = {
    pytest.ExitCode.USAGE_ERROR: "a usage error stopped the run",
    pytest.ExitCode.INTERNAL_ERROR: "an internal error stopped the run",
}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Decide the gate, write the results files, set the exit status (before
    pytest writes JUnit, which then carries the gate)."""
    state = _state(session.config)
    if not state.active:
        _finish_junit(state)
        return
    state.finished = True
    if state._watchdog is not None:
        state._watchdog.cancel()
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
        s.abort_if_partial(_partial_cause(session, state))
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
    if gate.passed:
        if session.exitstatus == pytest.ExitCode.TESTS_FAILED and \
                _only_conformance_failures(session) and not problems:
            session.exitstatus = pytest.ExitCode.OK  # only SHOULD/MAY requirements failed
    elif session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if state.budget_fired and session.exitstatus == pytest.ExitCode.INTERRUPTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the budget, not a person


def _partial_cause(session, state):
    """Why pytest did not run every conformance test, as far as it says."""
    causes = []
    stopped = session.shouldfail or session.shouldstop
    if stopped:
        causes.append(f"pytest stopped early: {stopped} (-x, --maxfail, --sw)")
    if state.deselected:
        causes.append(f"{state.deselected} conformance test(s) deselected (-k, -m, "
                      "--deselect, --lf, --sw)")
    if state.interrupted or state.terminated or state.budget_fired:
        causes.append("the run ended early")
    return "; ".join(causes) or "tests not collected or not run"


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    _finish_junit(state)
    _disarm(state)
    if state in _CURRENT:
        _CURRENT.remove(state)


class _JunitFinisher:
    """Runs after pytest's JUnit writer, before the terminal summary (which
    names the file): moves the JUnit file into place."""

    def __init__(self, state):
        self.state = state

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        _finish_junit(self.state)


def _finish_junit(state):
    """pytest has written its JUnit file to the temporary path: rename it into
    place (once; where pytest wrote nothing, the placeholder stays)."""
    if state._junit is None:
        return
    xml, final, temporary = state._junit
    state._junit = None
    internals.restore_junit(xml, final)
    if os.path.exists(temporary):
        try:
            os.replace(temporary, final)
        except OSError as exc:
            state.write_problems.append(f"--junitxml {final}: cannot write: "
                                        f"{exc.strerror or exc}")


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
    if not state.active:
        return
    s = state.session
    tr = terminalreporter
    results = s.results
    tr.section("wbemconform conformance")
    for msg, count in s.server_errors.items():
        tr.write_line(f"wbemconform: ERROR: {msg} ({count} check(s) could not run)",
                      red=True, bold=True)
    if s.target is not None:
        ops = s.operations()
        obs = s._obs
        line = (f"target: {s.description()}   flavor: {obs.flavor if obs else '?'}   "
                f"operations: {ops['total']}")
        tls = getattr(s.target, "tls_description", None)
        tr.write_line(line + (f"   {tls}" if tls else ""))
    if any(results.records.values()):
        tr.write_line(f"{'id':6} {'level':6} {'verdict':15} pass fail err  n/a  skip waived")
        for rid, req in catalog().items():
            subjects = results.records[rid].values()
            if not subjects:
                continue
            c = Counter("waived" if r.waived else r.verdict for r in subjects)
            overall = results.overall(rid)
            level = results.level(rid)
            line = (f"{rid:6} {level:6} {overall:15} {c['pass']:4} {c['fail']:4} "
                    f"{c['error']:4} {c['not-applicable']:4} {c['skip']:4} {c['waived']:6}")
            bad = overall in ("fail", "error")
            gating = results.gating(rid) or overall == "error"
            tr.write_line(line, red=bad and gating, yellow=bad and not gating)
    for w in s.waivers:
        if w.expired():
            tr.write_line(f"expired waiver: {w.requirement} {w.profile or ''} "
                          f"({w.expires}; it no longer waives): {w.reason}", yellow=True)
        elif not w.used:
            tr.write_line(f"unused waiver (no failure matches it): {w.requirement} "
                          f"{w.profile or ''}: {w.reason}", yellow=True)
    gate = s.gate()
    tr.write_line(f"conformance gate: {gate.summary()}", green=gate.passed,
                  red=not gate.passed, bold=True)
    shown = {s.run_options.json_path: "results", s.run_options.report_path: "report",
             s.run_options.oplog_path: "operation log"}
    for path in state.written:
        tr.write_line(f"{shown.get(path, 'written')}: {path}")
    for problem in state.write_problems:
        tr.write_line(f"wbemconform: ERROR: {problem}", red=True)
