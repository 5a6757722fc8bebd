"""The CI gate: one decision per run -- passed, failed or aborted -- with its
reasons (README, "Verdicts and the gate")."""

from __future__ import annotations

from dataclasses import dataclass, field

from .causes import lead_with_causes

__all__ = ["Gate", "decide", "GATE_PASSED", "GATE_FAILED", "GATE_ABORTED", "EXAMINED"]

GATE_PASSED, GATE_FAILED, GATE_ABORTED = "passed", "failed", "aborted"
#: verdicts that show a check examined the target
EXAMINED = ("pass", "fail", "error")


@dataclass
class Gate:
    """The CI gate's decision, with its reasons."""

    status: str  # passed | failed | aborted
    reasons: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # [(requirement, subject, verdict)]

    @property
    def passed(self):
        return self.status == GATE_PASSED

    def summary(self):
        if self.status == GATE_PASSED:
            return "PASSED"
        return f"{self.status.upper()}: " + "; ".join(self.reasons)

    def as_dict(self):
        return {"passed": self.passed, "status": self.status, "reasons": list(self.reasons),
                "failures": [{"requirement": r, "subject": s, "verdict": v}
                             for r, s, v in self.failures]}


def decide(results, setup_error, abort_reasons) -> Gate:
    """The gate of a run: aborted when it stopped early or checked nothing,
    failed on an unwaived MUST failure or any error, passed otherwise."""
    reasons = []
    if setup_error:
        reasons.append(f"the target could not be used: {setup_error}")
    reasons += [r for r in abort_reasons if r not in reasons]
    examined = sum(1 for recs in results.records.values()
                   for rec in recs.values() if rec.verdict in EXAMINED)
    if not reasons and examined == 0:
        reasons.append("no check examined the target (nothing ran, or every check "
                       "was skipped or not applicable)")
    failures = results.gate_failures()
    if reasons:
        return Gate(GATE_ABORTED, reasons, failures)
    if failures:
        must = sorted({r for r, _, v in failures if v == "fail"})
        errored = sorted({r for r, _, v in failures if v == "error"})
        out = []
        if must:
            out.append("MUST requirement(s) failed: " + ", ".join(lead_with_causes(results, must)))
        if errored:
            out.append("check(s) could not run (errors cannot be waived): "
                       + ", ".join(errored))
        return Gate(GATE_FAILED, out, failures)
    return Gate(GATE_PASSED, [], [])
