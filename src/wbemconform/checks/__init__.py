"""Checks: plain functions from observations to a verdict, one per requirement.

Each check is registered under its requirement id with :func:`check` and
called as ``fn(observations, subject)``, where the subject is ``None``
(target-level requirements), a :class:`~wbemconform.observe.Profile` or an
:class:`~wbemconform.observe.Association`. It returns a :class:`Verdict`.
Transport errors (:class:`~wbemconform.target.ServerError`) propagate: the
runner turns them into ``error`` verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Verdict", "Judge", "check", "CHECKS", "STATUSES", "not_applicable", "run_check"]

STATUSES = ("pass", "fail", "error", "skip", "not-applicable")
CHECKS = {}


@dataclass
class Verdict:
    status: str
    message: str = ""
    evidence: list = field(default_factory=list)  # target.Call objects
    problems: list = field(default_factory=list)  # one line per problem found


def not_applicable(reason):
    return Verdict("not-applicable", reason)


class Judge:
    """Collects what a check saw and what it found wrong."""

    def __init__(self):
        self.problems = []
        self.evidence = []

    def see(self, *outcomes):
        for out in outcomes:
            call = getattr(out, "call", out)
            if call is not None and call not in self.evidence:
                self.evidence.append(call)
        return self

    def fail(self, message, *outcomes):
        self.problems.append(message)
        self.see(*outcomes)
        return self

    def failed_call(self, what, outcome):
        """Record an operation that answered with a CIM error."""
        err = outcome.error
        return self.fail(f"{what} failed: {err.status_code_name}: {err.status_description}",
                         outcome)

    def verdict(self, ok_message) -> Verdict:
        if self.problems:
            return Verdict("fail", self.problems[0] if len(self.problems) == 1 else
                           f"{len(self.problems)} problems: " + "; ".join(self.problems[:5])
                           + (" ..." if len(self.problems) > 5 else ""),
                           self.evidence, list(self.problems))
        return Verdict("pass", ok_message, self.evidence)


def check(req_id):
    def register(fn):
        if req_id in CHECKS:
            raise ValueError(f"two checks for {req_id}")
        CHECKS[req_id] = fn
        fn.requirement = req_id
        return fn
    return register


def run_check(req, obs, subject):
    """Run the check of a catalog requirement; flavor applicability first."""
    if req.flavor == "wmi" and obs.flavor != "wmi":
        return not_applicable(f"a WMI requirement; the target's flavor is {obs.flavor} "
                              f"({obs.flavor_reason})")
    return CHECKS[req.id](obs, subject)


# register the checks
from . import profiles, classes, traversal, provider  # noqa: E402,F401
