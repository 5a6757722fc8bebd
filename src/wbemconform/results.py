"""Conformance results: verdicts per requirement and subject, the CI gate,
and the ``--conformance-json`` document built from them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from .catalog import catalog
from .causes import causes_as_dicts

__all__ = ["Results", "Record", "SCHEMA_VERSION", "TARGET_SUBJECT"]

SCHEMA_VERSION = 1
#: operations kept as a record's evidence (the decisive ones come first)
EVIDENCE_KEPT = 50
TARGET_SUBJECT = "target"
# Which verdict speaks for a requirement when its subjects disagree.
_PRECEDENCE = ("error", "fail", "pass", "not-applicable", "skip")


def suite_version():
    try:
        return version("wbemconform")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Record:
    verdict: str
    message: str = ""
    problems: list = field(default_factory=list)
    evidence: list = field(default_factory=list)  # dicts
    waiver: dict | None = None
    test: str | None = None
    evidence_total: int = 0  # operations behind the verdict (the first EVIDENCE_KEPT are kept)
    examined: dict = field(default_factory=dict)  # what the check examined: {what: count}

    @property
    def waived(self):
        return self.verdict == "fail" and self.waiver is not None and not self.waiver["expired"]

    def as_dict(self):
        out = {"verdict": self.verdict, "message": self.message}
        if self.problems:
            out["problems"] = self.problems
        if self.examined:
            out["examined"] = self.examined
        if self.evidence:
            out["evidence"] = self.evidence
            if self.evidence_total > len(self.evidence):
                out["evidence_left_out"] = self.evidence_total - len(self.evidence)
        if self.waiver:
            out["waiver"] = self.waiver
            out["waived"] = self.waived
        if self.test:
            out["test"] = self.test
        return out


def evidence_dict(call, scrub=None):
    scrub = scrub or (lambda text: text)
    return {"operation": call.operation,
            "arguments": {k: scrub(v) for k, v in call.args.items()},
            "outcome": call.outcome, "result": scrub(call.summary),
            **({"envelope": scrub(call.envelope)} if getattr(call, "envelope", None) else {})}


class Results:
    def __init__(self):
        self.started = dt.datetime.now(dt.timezone.utc)
        self.records = {rid: {} for rid in catalog()}
        self.setup_error = None
        #: the target's flavor, once known: some requirements' levels depend on it
        self.flavor = None

    def level(self, req_id):
        return catalog()[req_id].level_for(self.flavor)

    def gating(self, req_id):
        return self.level(req_id) == "MUST"

    def add(self, req_id, subject, verdict, message="", problems=(), evidence=(),
            waiver=None, test=None, scrub=None, examined=None):
        evidence = list(evidence)
        subject = self.free_label(req_id, subject)
        rec = self.records[req_id][subject] = Record(
            verdict, message, list(problems),
            [evidence_dict(c, scrub) for c in evidence[:EVIDENCE_KEPT]], waiver, test,
            evidence_total=len(evidence), examined=dict(examined or {}))
        return rec

    def free_label(self, req_id, subject):
        """``subject``, or -- when ``req_id`` has a record under it already --
        ``subject (#N)``: a record is never overwritten, so the JSON, the HTML
        and JUnit count the same verdicts."""
        taken = self.records[req_id]
        if subject not in taken:
            return subject
        n = 2
        while f"{subject} (#{n})" in taken:
            n += 1
        return f"{subject} (#{n})"

    def overall(self, req_id):
        recs = self.records[req_id].values()
        if not recs:
            return "skip"
        live = [r.verdict for r in recs if not r.waived]
        if not live:
            return "pass"  # only waived failures
        return min(live, key=_PRECEDENCE.index)

    def counts(self):
        c = Counter()
        for subjects in self.records.values():
            for rec in subjects.values():
                c["waived" if rec.waived else rec.verdict] += 1
        return {k: c.get(k, 0) for k in ("pass", "fail", "error", "skip", "not-applicable", "waived")}

    def gate_failures(self):
        """[(req id, subject, verdict)] that fail the CI gate: unwaived failures
        of MUST requirements, and errors at any level (never waived)."""
        out = []
        for rid, subjects in self.records.items():
            gating = self.gating(rid)
            for subject, rec in subjects.items():
                if rec.verdict == "error" or (gating and rec.verdict == "fail"
                                              and not rec.waived):
                    out.append((rid, subject, rec.verdict))
        return out

    def to_json(self, *, target=None, flavor=None, flavor_reason=None, interop_namespace=None,
                server=None, operations=None, load_failures=(), waivers=(), options=None,
                gate=None, tls=None, load_warnings=(), run=None, not_judged=(),
                protocol=None, auth=None):
        finished = dt.datetime.now(dt.timezone.utc)
        reqs = {}
        for rid, req in catalog().items():
            reqs[rid] = {
                "level": self.level(rid), "flavor": req.flavor, "subject": req.subject,
                "group": req.group, "statement": req.statement, "source": req.source,
                "verdict": self.overall(rid),
                "subjects": {s: r.as_dict() for s, r in self.records[rid].items()},
            }
        return {
            "schema": SCHEMA_VERSION,
            "tool": "wbemconform", "suite_version": suite_version(),
            "target": target, "flavor": flavor, "flavor_reason": flavor_reason,
            "interop_namespace": interop_namespace, "server": server or {},
            "started": self.started.isoformat(timespec="seconds"),
            "duration_seconds": round((finished - self.started).total_seconds(), 3),
            "setup_error": self.setup_error,
            "load_failures": list(load_failures),
            "load_warnings": list(load_warnings),
            "counts": self.counts(),
            "gate": gate.as_dict(),
            # failures one mistake explains, under it (wbemconform.causes)
            "causes": causes_as_dicts(self),
            "not_judged": [{"requirement": r, "subject": s} for r, s in not_judged],
            "protocol": protocol, "auth": auth, "tls": tls,
            "requirements": reqs,
            "waivers": [w.as_dict() for w in waivers],
            "operations": operations or {},
            "options": options or {},
            "run": run or {},
        }


