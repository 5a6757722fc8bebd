"""The check registry: :class:`Verdict`, :class:`Judge`, the :func:`check`
decorator the check modules register with, and :func:`run_check` (flavor and
capability applicability first). The package (``wbemconform.checks``)
imports this and then every check module, so that importing the package
registers every check; the check modules import only this module, never the
package: imports run one way."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field

from ._common import lacking

__all__ = ["Verdict", "Judge", "check", "CHECKS", "REGISTRY", "STATUSES", "not_applicable",
           "run_check", "variants", "has_check", "capture_judges"]

STATUSES = ("pass", "fail", "error", "skip", "not-applicable")
#: {(requirement id, variant): check function}
REGISTRY = {}
#: {requirement id: the plain check} (variant "")
CHECKS = {}
_JUDGES = contextvars.ContextVar("wbemconform_judges", default=None)


@dataclass
class Verdict:
    status: str
    message: str = ""
    evidence: list = field(default_factory=list)  # target.Call objects
    problems: list = field(default_factory=list)  # one line per problem found
    #: what the check examined, {what: how many} (e.g. {"central instances": 3})
    examined: dict = field(default_factory=dict)


def not_applicable(reason):
    return Verdict("not-applicable", reason)


class Judge:
    """Collects what a check saw and what it found wrong."""

    def __init__(self):
        self.problems = []
        self.evidence = []
        self._decisive = []  # the calls a problem was found in, in the order found
        self._seen, self._decided = set(), set()  # ids: each call is one object
        self.counts = {}  # what -> how many were examined (see :meth:`examined`)
        seen = _JUDGES.get()
        if seen is not None:  # the engine keeps these findings if the check crashes
            seen.append(self)

    @staticmethod
    def _calls(out):
        """The calls of an outcome: every call of a pull sequence (the Open*
        and the Pull* operations that continued it, in order: a report shows
        them together), else its one call."""
        calls = getattr(out, "calls", None)
        return list(calls) if calls else [getattr(out, "call", out)]

    def see(self, *outcomes):
        for out in outcomes:
            for call in self._calls(out):
                if call is not None and id(call) not in self._seen:
                    self._seen.add(id(call))
                    self.evidence.append(call)
        return self

    def fail(self, message, *outcomes):
        self.problems.append(message)
        self.see(*outcomes)
        for out in outcomes:
            for call in self._calls(out):
                if call is not None and id(call) not in self._decided:
                    self._decided.add(id(call))
                    self._decisive.append(call)
        return self

    def examined(self, what, n=1):
        """Count what the check examined ("central instances", "sources"...).
        A check that counts and examined none of anything, and found no
        problem, is not-applicable (:meth:`verdict`): it never passes on
        nothing."""
        self.counts[what] = self.counts.get(what, 0) + n
        return self

    def examined_text(self):
        """"3 central instances, 0 sources" (in the order first counted)."""
        return ", ".join(f"{n} {what}" for what, n in self.counts.items())

    def failed_call(self, what, outcome):
        """Record an operation that answered with a CIM error."""
        err = outcome.error
        return self.fail(f"{what} failed: {err.status_code_name}: {err.status_description}",
                         outcome)

    def verdict(self, ok_message, nothing=None) -> Verdict:
        """fail with the problems found; else pass with ``ok_message`` -- or,
        where the check counted what it examined (:meth:`examined`) and every
        count is 0, not-applicable: "examined nothing (0 ...)", with
        ``nothing`` saying why where the check knows."""
        if self.problems:
            # the decisive operations first, then what was seen besides
            evidence = self._decisive + [c for c in self.evidence
                                         if id(c) not in self._decided]
            return Verdict("fail", self.problems[0] if len(self.problems) == 1 else
                           f"{len(self.problems)} problems: " + "; ".join(self.problems[:5])
                           + (" ..." if len(self.problems) > 5 else ""),
                           evidence, list(self.problems), dict(self.counts))
        if self.counts and not any(self.counts.values()):
            return Verdict("not-applicable", (f"{nothing} (examined nothing: "
                                              if nothing else "examined nothing (")
                           + f"{self.examined_text()})", self.evidence,
                           examined=dict(self.counts))
        return Verdict("pass", ok_message, self.evidence, examined=dict(self.counts))


@contextmanager
def capture_judges():
    """Collect the Judges created inside the block (the engine's view of a
    check's findings so far)."""
    judges = []
    token = _JUDGES.set(judges)
    try:
        yield judges
    finally:
        _JUDGES.reset(token)


def check(req_id, variant=""):
    """Register a check function for a requirement (and variant)."""
    def register(fn):
        if (req_id, variant) in REGISTRY:
            raise ValueError(f"two checks for {req_id} {variant}".strip())
        REGISTRY[(req_id, variant)] = fn
        if not variant:
            CHECKS[req_id] = fn
        fn.requirement = req_id
        fn.variant = variant
        return fn
    return register


def variants(req_id):
    """The variants registered for a requirement, the plain one first."""
    return sorted((v for r, v in REGISTRY if r == req_id), key=lambda v: (v != "", v))


def has_check(req_id, variant=""):
    return (req_id, variant) in REGISTRY


def run_check(req, obs, subject, variant=""):
    """Run a check of a catalog requirement; flavor applicability first."""
    if req.flavor == "wmi" and obs.flavor != "wmi":
        return not_applicable(f"a WMI requirement; the target's flavor is {obs.flavor} "
                              f"({obs.flavor_reason})")
    missing = lacking(obs, req.id)
    if missing is not None:
        return not_applicable(missing)
    return REGISTRY[(req.id, variant)](obs, subject)
