"""The run engine: options -> target -> observations -> every (requirement,
subject) -> record -> gate.

One :class:`Session` is one conformance run. Everything that turns a check
into a verdict lives here, and only here: the pytest plugin
(:mod:`wbemconform.plugin`) is a thin adapter that asks the session for
subjects and for each test's record, and the in-process runner
(:func:`wbemconform.runner.run_catalog`, used by the defect zoo, the property
tests and the benchmarks) calls :meth:`Session.run_all`, which goes through
the same :meth:`Session.judge`. So what the zoo proves is what users run.

The rules the engine enforces:

* a check's answer is a :class:`~wbemconform.checks.Verdict`; anything else
  that comes out of a check -- a transport failure, a CIM error the check did
  not expect, any exception -- is the verdict ``error`` for that (requirement,
  subject), with the operations issued so far as evidence and the findings
  made so far kept;
* the gate (:meth:`Session.gate`) is ``aborted`` when the run stopped early or
  checked nothing, ``failed`` when a MUST requirement failed (unwaived) or any
  check at any level errored (errors cannot be waived), ``passed`` otherwise;
* every text the run writes is scrubbed of the secrets it was given, and
  control characters in it are escaped (:mod:`wbemconform.safe_text`): a
  target cannot write a line of its own into any output;
* two subjects never share a label (:meth:`Session.subjects` tells them apart
  by path), and a record is never overwritten;
* a run that did not judge every (requirement, subject) of its plan -- pytest
  stopped early (``-x``, ``--maxfail``, ``--sw``), deselected tests (``-k``,
  ``-m``, ``--deselect``, ``--lf``), a suite file left out -- is ``aborted``,
  naming what was not judged (:meth:`Session.unjudged`);
* once the run budget (``--wbem-run-timeout``) is spent, nothing more is sent
  and nothing more is judged (:attr:`Session.stopped`).
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from dataclasses import dataclass

from . import run_files
from .catalog import Requirement, catalog
from .gate import GATE_ABORTED, GATE_FAILED, GATE_PASSED, Gate, decide  # noqa: F401 (re-exported)
from .checks import Verdict, capture_judges, run_check, variants
from .observe import Observations
from .results import TARGET_SUBJECT, Results
from .safe_text import neutralize
from .secrets import Secrets
from .options import TargetOptions, redact_url
from .targets import open_target
from .targets.base import ServerError, TargetSetupError, WriteRefused
from .waivers import find_waiver

__all__ = ["Session", "SetupFailed", "Gate", "RunOptions", "PROPERTY_VARIANT",
           "GATE_PASSED", "GATE_FAILED", "GATE_ABORTED"]

PROPERTY_VARIANT = "property-based"
#: the collector's first threshold during a run: the checks allocate many
#: short-lived paths; collecting every 700 allocations (Python's default)
#: walks the young objects far more often than it finds garbage
GC_FIRST_THRESHOLD = 50_000
#: how many of the operations a crashed check issued are kept as its evidence
CRASH_EVIDENCE = 12
#: how many of the (requirement, subject) pairs a partial run did not judge
#: its abort reason names (the JSON lists them all)
UNJUDGED_SHOWN = 5


class SetupFailed(Exception):
    """The target could not be used: one line, said once."""


@dataclass
class RunOptions:
    """Run-level options (the target's are :class:`TargetOptions`)."""

    #: seconds the whole run may take (None: unbounded); once spent, nothing
    #: more is sent and the run is aborted
    run_timeout: float | None = None
    waivers_path: str | None = None
    json_path: str | None = None
    report_path: str | None = None
    oplog_path: str | None = None


class _RunBudget(ServerError):
    """The whole-run budget is spent: nothing more is sent."""

    def __init__(self, target, operation, seconds):
        Exception.__init__(self, f"{target}: {operation} not sent: the run budget of "
                                 f"{seconds:g} s (--wbem-run-timeout) is spent")
        self.target = target
        self.operation = operation
        self.kind = "RunBudgetExceeded"


def _keep_for_the_run():
    """Tell the collector that what is allocated now lives as long as the run.

    The mock's repository and the discovery are millions of objects the run
    keeps; the collector's full passes walked them again and again (1.2 s of
    a 10-second run at 10,000 elements), and its default first threshold (700
    allocations) walks the checks' many short-lived paths far more often than
    it finds garbage. ``gc.freeze()`` moves what exists now out of every later
    pass (it is still freed by reference counting); the threshold is raised
    for the rest of the process, never lowered.
    """
    gc.freeze()
    first, *rest = gc.get_threshold()
    if first < GC_FIRST_THRESHOLD:
        gc.set_threshold(GC_FIRST_THRESHOLD, *rest)


class Session:
    """One conformance run (see the module docstring).

    ``target`` may be given ready-made (tests and the property suites build
    their own); otherwise it is opened from ``options`` on first use.
    """

    def __init__(self, options: TargetOptions | None = None, *, run: RunOptions | None = None,
                 waivers=(), target=None, secrets: Secrets | None = None,
                 command_options=None, context=None):
        self.options = options or (target.options if target is not None else TargetOptions())
        self.run_options = run or RunOptions()
        self.waivers = list(waivers)
        self.results = Results()
        self.secrets = secrets or Secrets.from_options(self.options)
        #: the options as given (for the JSON document and Reproduce commands)
        self.command_options = command_options or {}
        #: where the run ran (e.g. pytest's rootdir): Reproduce commands need it
        self.context = dict(context or {})
        self.abort_reasons: list[str] = []
        #: what a partial run did not judge (set by abort_if_partial)
        self.not_judged: list = []
        self.setup_error: str | None = None
        self.server_errors: Counter = Counter()  # message -> checks it ended
        self.started = time.monotonic()
        self._target = target
        self._obs: Observations | None = None
        self._budget_armed = False
        #: the run budget is spent: nothing more is sent or judged
        self.stopped = False
        #: the requirement ids the plan is restricted to (None: the whole catalog)
        self.only = None
        self._subjects: dict = {}  # kind -> [(label, subject)], labels distinct
        self._labels: dict = {}  # id(subject) -> its label
        #: discovery was started (the target is being used)
        self.touched = target is not None
        self._observers: list = []  # progress displays (Target.observers)

    # -- target and discovery ---------------------------------------------------

    @property
    def target(self):
        """The open target (None until opened, or when it could not be)."""
        return self._target

    @property
    def discovered(self) -> Observations | None:
        """What discovery found, or None before discovery (or when the target
        could not be used); never starts discovery."""
        return self._obs

    @property
    def observations(self) -> Observations:
        """Connect and discover (once); SetupFailed with one clear line."""
        if self.setup_error:
            raise SetupFailed(self.setup_error)
        if self._obs is None:
            self.touched = True
            try:
                if self._target is None:
                    self._target = open_target(self.options)
                    self._target.observers.extend(self._observers)
                self._arm_budget()
                opts = self.options
                obs = Observations(self._target, opts.interop_namespace, opts.flavor,
                                   opts.profiles)
                _keep_for_the_run()  # the target (the mock's repository)
                obs.discover()
                self.results.flavor = obs.flavor
                self._obs = obs
                _keep_for_the_run()  # and what discovery found
            except (TargetSetupError, ServerError) as exc:
                self.fail_setup(str(exc))
                raise SetupFailed(self.setup_error) from None
            except Exception as exc:  # noqa: BLE001 -- a one-line error, never a traceback
                self.fail_setup(f"{self.description()}: discovery failed: "
                                f"{type(exc).__name__}: {exc}")
                raise SetupFailed(self.setup_error) from None
        return self._obs

    def observe(self, observer):
        """Have ``observer(event, detail)`` told of every operation and of
        discovery's phases (see Target.observers), from now on."""
        self._observers.append(observer)
        if self._target is not None:
            self._target.observers.append(observer)

    def fail_setup(self, message):
        """The target cannot be used: the run is aborted with this reason."""
        self.setup_error = self.scrub(message)
        self.results.setup_error = self.setup_error

    def _arm_budget(self):
        budget = self.run_options.run_timeout
        if budget is None or self._budget_armed or self._target is None:
            return
        self._budget_armed = True
        deadline = self.started + budget
        target = self._target

        def guard(operation):
            if time.monotonic() > deadline:
                self.budget_spent()
                raise _RunBudget(target.description, operation, budget)
        target.before_call = guard

    @property
    def deadline(self):
        """When the run budget is spent (``time.monotonic()``), or None."""
        budget = self.run_options.run_timeout
        return None if budget is None else self.started + budget

    def budget_spent(self):
        """The run budget is spent: the run stops (said once)."""
        self.stopped = True
        self.abort(f"the run budget of {self.run_options.run_timeout:g} s "
                   "(--wbem-run-timeout) is spent")

    def check_budget(self):
        """Stop the run when its budget is spent; whether it is stopped."""
        deadline = self.deadline
        if not self.stopped and deadline is not None and time.monotonic() > deadline:
            self.budget_spent()
        return self.stopped

    def subjects(self, kind):
        """[(label, subject)] of a subject kind, every label distinct; [] when
        the target is unusable."""
        if kind == "target":
            return [(TARGET_SUBJECT, None)]
        if kind in self._subjects:
            return self._subjects[kind]
        try:
            found = self.observations.subjects(kind)
        except SetupFailed:
            return []
        out = _distinct([(self.scrub(label), subject) for label, subject in found],
                        self.scrub)
        self._subjects[kind] = out
        self._labels.update((id(subject), label) for label, subject in out)
        return out

    def subject_label(self, subject):
        """The (distinct) label :meth:`subjects` gave ``subject``."""
        label = self._labels.get(id(subject))
        return label if label is not None else self.scrub(subject.label)

    def subject_names(self, subject, label):
        """Every name a waiver's ``profile`` may give this subject (see
        :mod:`wbemconform.waivers`)."""
        names = {label, label.rsplit(" [", 1)[0]}
        if subject is None:
            return names
        profiles = [subject] if hasattr(subject, "base_label") else []
        if hasattr(subject, "classname"):
            names.add(subject.classname)
            names.update(f"{ns}:{subject.classname}" for ns in subject.element_ns)
            if self._obs is not None:
                profiles += self._obs.linked_profiles(subject)
        for p in profiles:
            names.update((p.label, p.base_label, p.name))
        return {self.scrub(str(n)) for n in names if n}

    # -- verdicts -------------------------------------------------------------------

    def plan(self, only=None):
        """[(requirement, variant)] in the order a run checks them: catalog
        order, writes last (the catalog says which requirements write)."""
        out = [(req, variant) for req in catalog().values()
               if not only or req.id in only for variant in variants(req.id)]
        return sorted(out, key=lambda rv: rv[0].writes)

    def label(self, label, variant=""):
        return f"{label} [{variant}]" if variant else label

    def judge(self, req: Requirement, subject, *, variant="", label=None, test=None):
        """Run one check on one subject and record its verdict (see the module
        docstring for the rules); returns the :class:`~wbemconform.results.Record`."""
        try:
            obs = self.observations
        except SetupFailed as exc:
            obs, failed = None, exc
        base = self.scrub(label) if label is not None else (
            self.subject_label(subject) if subject is not None else
            (TARGET_SUBJECT if req.subject == "target" else f"no {req.subject}"))
        shown = self.label(base, variant)
        if obs is None:
            return self._record(req, shown, Verdict("error", str(failed)), test, subject)
        if subject is None and req.subject != "target":
            verdict = Verdict("not-applicable", f"the target has no {req.subject} to check "
                              f"(discovered none in {obs.interop_ns})")
        else:
            verdict = self._run_check(req, variant, obs, subject)
        return self._record(req, shown, verdict, test, subject)

    def _run_check(self, req, variant, obs, subject):
        target = obs.target
        start = len(target.calls)
        target.current_requirement = req.id
        with capture_judges() as judges:
            try:
                verdict = run_check(req, obs, subject, variant)
                if not isinstance(verdict, Verdict) or verdict.status not in \
                        ("pass", "fail", "error", "skip", "not-applicable"):
                    raise TypeError(f"the check returned {verdict!r}, not a Verdict")
            except ServerError as exc:
                self.server_errors[self.scrub(str(exc))] += 1
                if isinstance(exc, _RunBudget):
                    self.budget_spent()
                verdict = self._crashed(str(exc), target, start, judges)
            except WriteRefused as exc:
                verdict = self._crashed(f"the check tried to write: {exc}", target, start,
                                        judges)
            except Exception as exc:  # noqa: BLE001 -- anything unexpected is an error
                verdict = self._crashed(
                    f"the check could not finish: {type(exc).__name__}: {exc}",
                    target, start, judges)
            finally:
                target.current_requirement = None
        return verdict

    @staticmethod
    def _crashed(message, target, start, judges):
        """An ``error`` verdict that keeps what the check found and issued so far."""
        problems = [p for j in judges for p in j.problems]
        evidence = [c for j in judges for c in j.evidence]
        for call in target.calls[start:][-CRASH_EVIDENCE:]:
            if call not in evidence:
                evidence.append(call)
        if problems:
            message += f" (after {len(problems)} finding(s): {problems[0]})"
        return Verdict("error", message, evidence, problems)

    def _record(self, req, label, verdict, test, subject=None):
        waiver = None
        if verdict.status == "fail" and self.waivers:
            waiver = find_waiver(self.waivers, req.id, self.subject_names(subject, label))
        if waiver is not None:
            waiver.used.append(label)
        scrub = self.scrub
        return self.results.add(
            req.id, label, verdict.status, scrub(verdict.message),
            [scrub(p) for p in verdict.problems], verdict.evidence,
            waiver.as_dict() if waiver else None, test=test, scrub=scrub,
            examined=verdict.examined)

    def run_all(self, only=None) -> Results:
        """Every check of the plan on every subject (the runner's entry);
        stops when the run budget is spent."""
        self.only = set(only) if only else None
        try:
            self.observations
        except SetupFailed:
            return self.results
        for req, variant in self.plan(only):
            for label, subject in self.subjects(req.subject) or [(None, None)]:
                if self.check_budget():
                    return self.results
                self.judge(req, subject, variant=variant, label=label)
        return self.results

    def expected(self):
        """[(requirement id, label)] the plan judges: every requirement (and
        variant) of the plan on every subject of its kind."""
        out = []
        for req, variant in self.plan(self.only):
            found = self.subjects(req.subject)
            labels = [label for label, _ in found] or [f"no {req.subject}"]
            out += [(req.id, self.label(label, variant)) for label in labels]
        return out

    def unjudged(self):
        """[(requirement id, label)] of the plan that have no record: what a
        partial run did not judge ([] when the target could not be used)."""
        if self._obs is None:
            return []
        return [(rid, label) for rid, label in self.expected()
                if label not in self.results.records[rid]]

    def abort_if_partial(self, why=""):
        """Abort the run when it did not judge its whole plan, naming what
        it did not judge and, where known, ``why``; returns those pairs."""
        missing = self.unjudged()
        if missing:
            shown = "; ".join(f"{rid} {label}" for rid, label in missing[:UNJUDGED_SHOWN])
            more = f" and {len(missing) - UNJUDGED_SHOWN} more" \
                if len(missing) > UNJUDGED_SHOWN else ""
            self.abort(f"a partial run is no conformance verdict: {len(missing)} "
                       f"(requirement, subject) pair(s) were not judged"
                       + (f" ({why})" if why else "") + f": {shown}{more}")
        self.not_judged = missing
        return missing

    # -- the gate -------------------------------------------------------------------

    def abort(self, reason):
        """The run stopped early (said once per reason)."""
        reason = self.scrub(reason)
        if reason not in self.abort_reasons:
            self.abort_reasons.append(reason)

    def gate(self) -> Gate:
        """The CI gate's decision now (wbemconform.gate.decide)."""
        return decide(self.results, self.setup_error, self.abort_reasons)

    # -- output ---------------------------------------------------------------------

    def scrub(self, text):
        """``text`` as every output may show it: secrets masked, control
        characters escaped, and the made-up host of the embedded mock's paths
        (``//FakedUrl:5988/``) left out: it names no server."""
        text = neutralize(self.secrets.scrub(text))
        host = getattr(self._target, "placeholder_host", None)
        if host and isinstance(text, str):
            text = text.replace(f"//{host}/", "")
        return text

    def description(self):
        if self._target is not None:
            return self.scrub(self._target.description)
        if self.options.url:
            return self.scrub(redact_url(self.options.url))
        return "embedded mock"

    # the results files: wbemconform.run_files
    def operations(self):
        """(total, by requirement, writes sent to the target)."""
        return run_files.operations(self)

    def document(self, pending=None):
        """The ``--conformance-json`` document of this run (see run_files)."""
        return run_files.document(self, pending)

    def outputs(self):
        """[(option, path)] of the result files this run writes."""
        return run_files.outputs(self)

    def operation_log(self):
        return run_files.operation_log(self)

    def write_outputs(self, pending=None):
        """Write the results files (see run_files.write); (written, problems)."""
        return run_files.write(self, pending)


def _distinct(found, scrub):
    """``[(label, subject)]`` with every label distinct: subjects that share
    a label are told apart by their path, and where even that is the same
    (a server listing one path twice) by their place in the listing."""
    by_label = Counter(label for label, _ in found)
    if all(n == 1 for n in by_label.values()):
        return found
    out = []
    for label, subject in found:
        if by_label[label] > 1:
            path = getattr(subject, "path", None)
            label = f"{label} [{scrub(str(path))}]" if path is not None else label
        out.append((label, subject))
    again = Counter(label for label, _ in out)
    seen = Counter()
    numbered = []
    for label, subject in out:
        if again[label] > 1:
            seen[label] += 1
            label = f"{label} (#{seen[label]} of {again[label]})"
        numbered.append((label, subject))
    return numbered
