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
from collections import Counter
from pathlib import Path

import pytest

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
                PROFILE_DEFS)
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
        self.interrupted = False
        self.written, self.write_problems = [], []

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
        profiles=opt(PROFILE), allow_writes=opt(ALLOW_WRITES),
        profile_defs=_abspath(opt(PROFILE_DEFS)))


def _command_options(config):
    """The conformance options as given (paths absolute, secrets never):
    the JSON document records them and Reproduce commands are built from them."""
    out = {}
    for action in config._parser.getgroup("wbemconform").options:
        name = action.names()[0]
        if name in SECRET_OPTIONS:
            continue
        value = config.getoption(name)
        if value in (None, [], False) or value == action.attrs().get("default"):
            continue
        if name in PATH_OPTIONS:
            value = [_abspath(v) for v in value] if isinstance(value, list) else _abspath(value)
        if name == URL:
            value = redact_url(value) if "://" in value else value
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
    try:
        options.timeout = check_positive_seconds(TIMEOUT, opt(TIMEOUT))
        run.run_timeout = check_positive_seconds(RUN_TIMEOUT, opt(RUN_TIMEOUT))
        validate_options(options)
        if run.waivers_path:
            session.waivers = load_waivers(run.waivers_path)
    except (ValueError, TargetSetupError, WaiverError) as exc:
        # one line, and the results files (if asked for) say ABORTED and why
        session.abort(f"bad option: {exc}")
        session.write_outputs()
        raise pytest.UsageError(session.scrub(str(exc))) from None
    from .hypothesis_profiles import PROFILES, load_default
    prof = opt(HYPOTHESIS_PROFILE)
    if prof and prof not in PROFILES:
        raise pytest.UsageError(f"{HYPOTHESIS_PROFILE} {prof!r}: unknown; known: "
                                + ", ".join(PROFILES))
    load_default(prof)


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


def pytest_unconfigure(config):
    state = config.stash.get(_STATE, None)
    if state in _CURRENT:
        _CURRENT.remove(state)


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


def pytest_sessionfinish(session, exitstatus):
    """Decide the gate, write the results files, set the exit status."""
    state = _state(session.config)
    if not state.active:
        return
    s = state.session
    if state.interrupted:
        s.abort("interrupted (Ctrl-C) before the run finished")
    for nodeid in state.collect_errors:
        s.abort(f"collection failed: {nodeid}")
    if exitstatus in _ABORTING_EXITS:
        s.abort(_ABORTING_EXITS[exitstatus])
    elif exitstatus == pytest.ExitCode.INTERRUPTED and not s.abort_reasons:
        s.abort("the run was interrupted")
    gate = s.gate()
    written, problems = s.write_outputs()
    state.written, state.write_problems = written, problems
    if gate.passed:
        if session.exitstatus == pytest.ExitCode.TESTS_FAILED and \
                _only_conformance_failures(session) and not problems:
            session.exitstatus = pytest.ExitCode.OK  # only SHOULD/MAY requirements failed
    elif session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
