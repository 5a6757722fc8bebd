"""The wbemconform pytest plugin (the ``pytest11`` entry point).

Options live here, in one group; the suites (``suites/``) stay thin:

    @pytest.mark.requirement("TR-1")
    def test_forward_traversal(verdict):
        verdict.expect()

The ``verdict`` fixture runs the requirement's check against the test's
subject -- the target, a discovered registered profile or a discovered
association class, by the catalog's ``subject`` -- during *setup*, so a
server that misbehaves makes the test an ERROR, never a FAIL. Conformance
tests are those under the ``wbemconform_suites`` ini paths; each must carry
exactly one ``requirement`` marker naming a catalog id (a collection error
otherwise).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from .catalog import catalog
from .checks import Verdict, run_check
from .observe import Observations
from .results import TARGET_SUBJECT, Results
from .target import (WRITE_OPERATIONS, ServerError, TargetOptions, TargetSetupError,
                     WriteRefused, open_target, redact_url)
from .waivers import WaiverError, find_waiver, load_waivers

SUBJECT_FIXTURES = ("profile", "association")  # fixture names = catalog subject kinds
_STATE = pytest.StashKey()
_REQ = pytest.StashKey()  # an item's catalog Requirement


def pytest_addoption(parser):
    g = parser.getgroup("wbemconform", "wbemconform conformance target and results")
    g.addoption("--wbem-url", metavar="URL",
                help="WBEM server to test (http[s]://host[:port]); absent: the embedded mock")
    g.addoption("--wbem-user", metavar="USER", help="user name for the server")
    g.addoption("--wbem-password", metavar="PASSWORD",
                help="password (default: $WBEM_PASSWORD); never echoed")
    g.addoption("--wbem-no-verify", action="store_true",
                help="do not verify the server's TLS certificate")
    g.addoption("--wbem-ca-certs", metavar="PATH", help="CA bundle to verify the server with")
    g.addoption("--wbem-timeout", metavar="SECONDS", type=float, default=30.0,
                help="timeout of every operation (default 30)")
    g.addoption("--wbem-interop-namespace", metavar="NS",
                help="the interop namespace (default: discovered)")
    g.addoption("--wbem-mock-mof", metavar="PATH", action="append", default=[],
                help="MOF for the embedded mock, instead of the example profiles (repeatable)")
    g.addoption("--wbem-mock-provider", metavar="NAME=FILE.py:CLASS", action="append",
                default=[], help="a Python provider for the mock's provider NAME (repeatable)")
    g.addoption("--wbem-mock-quirk", metavar="NAME", action="append", default=[],
                help="switch on a seeded broker defect in the mock (negative controls; "
                     "see wbemconform.mock.broker.QUIRKS)")
    g.addoption("--wbem-flavor", choices=("auto", "wmi", "dmtf"), default="auto",
                help="which requirements apply: wmi (Windows-style), dmtf, or auto (default)")
    g.addoption("--wbem-profile", metavar="NAME[:VERSION]", action="append", default=[],
                help="check only these registered profiles (repeatable)")
    g.addoption("--wbem-allow-writes", action="store_true",
                help="allow write operations against --wbem-url (PR-5 needs them)")
    g.addoption("--wbem-hypothesis-profile", metavar="NAME", default=None,
                help="hypothesis profile for the property-based suites (bounds operations)")
    g.addoption("--wbem-operation-log", metavar="PATH",
                help="write every operation issued (JSON lines) to PATH")
    g.addoption("--conformance-json", metavar="PATH", help="write the results as JSON to PATH")
    g.addoption("--conformance-report", metavar="PATH",
                help="write the HTML conformance report to PATH")
    g.addoption("--conformance-waivers", metavar="FILE",
                help="TOML or YAML waivers: listed failures become xfail")
    parser.addini("wbemconform_suites", "paths whose tests are conformance tests",
                  type="paths", default=[])


class State:
    """Per-session state: target, observations, results (created lazily)."""

    def __init__(self, config):
        self.config = config
        self.results = Results()
        self._target = None
        self._obs = None
        self.setup_error = None
        self.used = False
        self.server_errors = {}  # message -> number of checks it ended
        self.waivers = []
        path = config.getoption("--conformance-waivers")
        if path:
            try:
                self.waivers = load_waivers(path)
            except WaiverError as exc:
                raise pytest.UsageError(str(exc)) from None

    def options(self):
        c = self.config
        return TargetOptions(
            url=c.getoption("--wbem-url"), user=c.getoption("--wbem-user"),
            password=c.getoption("--wbem-password"), no_verify=c.getoption("--wbem-no-verify"),
            ca_certs=c.getoption("--wbem-ca-certs"), timeout=c.getoption("--wbem-timeout"),
            interop_namespace=c.getoption("--wbem-interop-namespace"),
            mock_mof=c.getoption("--wbem-mock-mof"),
            mock_providers=c.getoption("--wbem-mock-provider"),
            mock_quirks=c.getoption("--wbem-mock-quirk"), flavor=c.getoption("--wbem-flavor"),
            profiles=c.getoption("--wbem-profile"),
            allow_writes=c.getoption("--wbem-allow-writes"))

    @property
    def observations(self) -> Observations:
        """Connect and discover (once); raises SetupFailed with one clear line."""
        if self.setup_error:
            raise SetupFailed(self.setup_error)
        if self._obs is None:
            self.used = True
            try:
                opts = self.options()
                self._target = open_target(opts)
                obs = Observations(self._target, opts.interop_namespace, opts.flavor,
                                   opts.profiles)
                obs.interop_ns, obs.flavor, obs.associations  # discovery, now
                self._obs = obs
            except (TargetSetupError, ServerError) as exc:
                self.setup_error = _scrub(str(exc), self.config)
                self.results.setup_error = self.setup_error
                raise SetupFailed(self.setup_error) from None
        return self._obs

    def subjects(self, kind):
        return self.observations.subjects(kind)


class SetupFailed(Exception):
    """The target could not be used: reported once, as one line."""


def _scrub(text, config):
    """Remove the password from any text we print or write."""
    secrets = [config.getoption("--wbem-password"), os.environ.get("WBEM_PASSWORD")]
    url = config.getoption("--wbem-url")
    if url:
        text = text.replace(url, redact_url(url))
    for s in secrets:
        if s:
            text = text.replace(s, "********")
    return text


def _state(config) -> State:
    return config.stash[_STATE]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requirement(id): the catalog requirement a conformance test checks")
    config.stash[_STATE] = State(config)
    prof = config.getoption("--wbem-hypothesis-profile", default=None)
    if prof:
        from hypothesis import settings
        settings.load_profile(prof)


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
    kinds = [k for k in SUBJECT_FIXTURES if k in metafunc.fixturenames]
    if not kinds:
        return
    state = _state(metafunc.config)
    try:
        found = state.subjects(kinds[0])
    except SetupFailed:
        found = []
    if not found:
        # one test that reports not-applicable (or the setup error), not an empty set
        metafunc.parametrize(kinds[0], [None], ids=[f"no-{kinds[0]}"])
        return
    metafunc.parametrize(kinds[0], [s for _, s in found], ids=[label for label, _ in found])


def pytest_collection_modifyitems(session, config, items):
    conformance = [i for i in items if _is_conformance(i)]
    if _state(config).setup_error and conformance:
        # the target is unusable: one error line (pytest_collection_finish),
        # not one identical error per test
        drop = set(map(id, conformance))
        config.hook.pytest_deselected(items=conformance)
        items[:] = [i for i in items if id(i) not in drop]
        conformance = []
    for item in conformance:
        req = _requirement_of(item)
        item.stash[_REQ] = req
        item.user_properties.append(("requirement", req.id))
        item.user_properties.append(("level", req.level))
    # write probes (PR-5) change what they touch: run them last
    items.sort(key=lambda i: i.stash.get(_REQ, None) is not None and i.stash[_REQ].id == "PR-5")



def pytest_collection_finish(session):
    state = _state(session.config)
    if state.setup_error:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr:
            tr.write_line(f"wbemconform: ERROR: {state.setup_error}", red=True, bold=True)


class VerdictView:
    """What a conformance test asserts on."""

    def __init__(self, req, subject_label, verdict: Verdict, waiver):
        self.requirement = req
        self.subject = subject_label
        self.verdict = verdict
        self.waiver = waiver

    def expect(self):
        v = self.verdict
        if v.status == "pass":
            return
        if v.status in ("not-applicable", "skip"):
            pytest.skip(f"{self.requirement.id} not applicable: {v.message}")
        detail = v.message
        if v.problems and len(v.problems) > 1:
            detail += "\n  - " + "\n  - ".join(v.problems[:20])
        if v.evidence:
            detail += "\nevidence:\n" + "\n".join(
                f"  {c.operation}({_args(c.args)}) -> {c.summary}" for c in v.evidence[:10])
        if self.waiver is not None and not self.waiver.expired():
            pytest.xfail(f"waived: {self.waiver.reason}")
        pytest.fail(f"{self.requirement.id} [{self.requirement.level}] {self.subject}: {detail}",
                    pytrace=False)


def _args(args):
    return ", ".join(f"{k}={v}" for k, v in args.items())


@pytest.fixture
def verdict(request):
    """Run this test's requirement check against its subject (during setup)."""
    return _verdict(request, run_check, "")


@pytest.fixture
def property_verdict(request):
    """Run this test's property-based (hypothesis) check against its subject."""
    from .checks.properties import PROPERTY_CHECKS

    def run(req, obs, subject):
        if req.flavor == "wmi" and obs.flavor != "wmi":
            return Verdict("not-applicable", f"a WMI requirement; the target's flavor is "
                           f"{obs.flavor}")
        if req.id not in PROPERTY_CHECKS:
            raise pytest.UsageError(f"{request.node.nodeid}: no property-based check for {req.id}")
        return PROPERTY_CHECKS[req.id](obs, subject)
    return _verdict(request, run, " [property-based]")


def _verdict(request, run, suffix):
    state = _state(request.config)
    req = request.node.stash.get(_REQ, None)
    if req is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the verdict fixture is only for "
                                "conformance tests with a requirement marker")
    subject = None
    label = TARGET_SUBJECT
    for kind in SUBJECT_FIXTURES:
        if kind in request.fixturenames:
            subject = request.getfixturevalue(kind)
            label = subject.label if subject is not None else f"no {kind}"
    label += suffix
    try:
        obs = state.observations
    except SetupFailed as exc:
        state.results.add(req.id, label, "error", str(exc), test=request.node.nodeid)
        pytest.exit(f"wbemconform: ERROR: {exc}", returncode=pytest.ExitCode.TESTS_FAILED)
    if subject is None and req.subject != "target":
        v = Verdict("not-applicable", f"the target has no {req.subject} to check "
                    f"(discovered none in {obs.interop_ns})")
    else:
        obs.target.current_requirement = req.id
        try:
            v = run(req, obs, subject)
        except (ServerError, WriteRefused) as exc:
            msg = _scrub(str(exc), request.config)
            state.results.add(req.id, label, "error", msg, test=request.node.nodeid,
                              evidence=obs.target.calls[-1:])
            if isinstance(exc, ServerError):
                state.server_errors.setdefault(msg, 0)
                state.server_errors[msg] += 1
            # during setup: the test is an ERROR, with this one line and no traceback
            pytest.fail(f"wbemconform: ERROR: {msg}", pytrace=False)
        finally:
            obs.target.current_requirement = None
    waiver = find_waiver(state.waivers, req.id, label) if v.status == "fail" else None
    if waiver is not None:
        waiver.used.append(label)
    v.message = _scrub(v.message, request.config)
    state.results.add(req.id, label, v.status, v.message, v.problems, v.evidence,
                      waiver.as_dict() if waiver else None, test=request.node.nodeid)
    request.node.user_properties.append(("subject", label))
    request.node.user_properties.append(("verdict", v.status))
    return VerdictView(req, label, v, waiver)


@pytest.fixture
def profile():
    """Overridden by parametrization with each discovered registered profile."""
    return None


@pytest.fixture
def association():
    """Overridden by parametrization with each discovered association class."""
    return None


@pytest.fixture(scope="session")
def wbem_observations(request):
    """The session's Observations (connects on first use)."""
    try:
        return _state(request.config).observations
    except SetupFailed as exc:
        pytest.fail(str(exc), pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    state = _state(session.config)
    if not state.used and not state.setup_error:
        return
    results = state.results
    obs = state._obs
    target = state._target
    by_req = Counter(c.requirement or "discovery" for c in target.calls) if target else Counter()
    path = session.config.getoption("--conformance-json")
    report = session.config.getoption("--conformance-report")
    if path or report:
        doc_kw = {
            "target": (target.description if target else _scrub(
                redact_url(session.config.getoption("--wbem-url") or "embedded mock"),
                session.config)),
            "flavor": obs.flavor if obs else None,
            "flavor_reason": obs.flavor_reason if obs else None,
            "interop_namespace": obs.interop_ns if obs else None,
            "server": _server_info(obs),
            "operations": {"total": sum(by_req.values()), "by_requirement": dict(by_req),
                           "writes": sum(1 for c in target.calls if c.operation in WRITE_OPERATIONS)
                           if target else 0},
            "load_failures": target.load_failures if target else (),
            "waivers": state.waivers}
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            doc = results.write_json(path, **doc_kw)
        else:
            doc = results.to_json(**doc_kw)
        if report:
            from .report import write_report
            # as the JSON reads back: the report is the same as `wbemconform report`'s
            write_report(json.loads(json.dumps(doc, default=str)), report)
    oplog = session.config.getoption("--wbem-operation-log")
    if oplog and target:
        with open(oplog, "w", encoding="utf-8") as f:
            for c in target.calls:
                f.write(json.dumps({"operation": c.operation, "arguments": c.args,
                                    "outcome": c.outcome, "result": c.summary,
                                    "requirement": c.requirement,
                                    "seconds": round(c.seconds, 6)}, default=str) + "\n")
    # The CI gate: non-zero iff a MUST requirement failed or errored.
    if state.setup_error:
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif session.exitstatus == pytest.ExitCode.TESTS_FAILED and results.gate_passed() \
            and _only_conformance_failures(session):
        session.exitstatus = pytest.ExitCode.OK  # only SHOULD/MAY requirements failed


def _only_conformance_failures(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return False
    for rep in tr.stats.get("failed", []) + tr.stats.get("error", []):
        if not any(k == "requirement" for k, _ in getattr(rep, "user_properties", [])):
            return False
    return True


def _server_info(obs):
    if obs is None:
        return {}
    try:
        out = obs.op("EnumerateInstances", "CIM_ObjectManager", namespace=obs.interop_ns)
    except (ServerError, WriteRefused):
        return {}  # the server's name is decoration: never lose the results for it
    if out.ok and out.value:
        om = out.value[0]
        return {"brand": om.get("ElementName") or om.get("Name"),
                "description": om.get("Description")}
    return {}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = _state(config)
    if not state.used and not state.setup_error:
        return
    tr = terminalreporter
    results = state.results
    tr.section("wbemconform conformance")
    if state.setup_error:
        tr.write_line(f"wbemconform: ERROR: {state.setup_error}", red=True)
        tr.write_line("conformance gate (MUST requirements): FAILED (the target could not "
                      "be used)", red=True, bold=True)
        if config.getoption("--conformance-report"):
            tr.write_line(f"report: {config.getoption('--conformance-report')}")
        return
    for msg, count in state.server_errors.items():
        tr.write_line(f"wbemconform: ERROR: {msg} ({count} check(s) could not run)",
                      red=True, bold=True)
    target = state._target
    if target is not None:
        tr.write_line(f"target: {target.description}   flavor: "
                      f"{state._obs.flavor if state._obs else '?'}   "
                      f"operations: {len(target.calls)}")
    tr.write_line(f"{'id':6} {'level':6} {'verdict':15} pass fail err  n/a  skip waived")
    for rid, req in catalog().items():
        subjects = results.records[rid].values()
        c = Counter("waived" if r.waived else r.verdict for r in subjects)
        overall = results.overall(rid)
        line = (f"{rid:6} {req.level:6} {overall:15} {c['pass']:4} {c['fail']:4} "
                f"{c['error']:4} {c['not-applicable']:4} {c['skip']:4} {c['waived']:6}")
        tr.write_line(line, red=overall in ("fail", "error") and req.gating,
                      yellow=overall in ("fail", "error") and not req.gating)
    for w in state.waivers:
        if w.expired():
            tr.write_line(f"expired waiver: {w.requirement} {w.profile or ''} ({w.expires}): "
                          f"{w.reason}", yellow=True)
        elif not w.used:
            tr.write_line(f"unused waiver (no failure matches it): {w.requirement} "
                          f"{w.profile or ''}: {w.reason}", yellow=True)
    gate = "PASSED" if results.gate_passed() else "FAILED"
    tr.write_line(f"conformance gate (MUST requirements): {gate}",
                  green=gate == "PASSED", red=gate != "PASSED", bold=True)
    path = config.getoption("--conformance-json")
    if path:
        tr.write_line(f"results: {path}")
    report = config.getoption("--conformance-report")
    if report:
        tr.write_line(f"report: {report}")
