"""What the pytest plugin shows: a conformance test's failure text
(:class:`VerdictView`) and the requirement table with the gate's decision at
the end of a run (:func:`summary`). Everything shown comes from the engine's
records, which are scrubbed and neutralized (wbemconform.session)."""

from __future__ import annotations

from collections import Counter

import pytest

__all__ = ["VerdictView", "summary"]


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


def summary(tr, state):
    """The requirement table and the gate's decision (the terminal summary)."""
    from .catalog import catalog
    s = state.session
    results = s.results
    tr.section("wbemconform conformance")
    for msg, count in s.server_errors.items():
        tr.write_line(f"wbemconform: ERROR: {msg} ({count} check(s) could not run)",
                      red=True, bold=True)
    if s.target is not None:
        ops = s.operations()
        obs = s.discovered
        line = (f"target: {s.description()}   flavor: {obs.flavor if obs else '?'}   "
                f"operations: {ops['total']}")
        if getattr(s.target, "protocol", None):
            line += f"   protocol: {s.target.protocol}   auth: {s.target.auth or 'none'}"
        tls = getattr(s.target, "tls_description", None)
        tr.write_line(line + (f"   {tls}" if tls else ""))
    if any(results.records.values()):
        tr.write_line(f"{'id':6} {'level':6} {'verdict':15} pass fail err  n/a  skip waived")
        for rid in catalog():
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
        who = s.scrub(f"{w.requirement} {w.profile or ''}")
        if w.expired():
            tr.write_line(f"expired waiver: {who} ({w.expires}; it no longer waives): "
                          f"{s.scrub(w.reason)}", yellow=True)
        elif not w.used:
            tr.write_line(f"unused waiver (no failure matches it): {who}: {s.scrub(w.reason)}",
                          yellow=True)
    gate = s.gate()
    tr.write_line(f"conformance gate: {gate.summary()}", green=gate.passed,
                  red=not gate.passed, bold=True)
    shown = {s.run_options.json_path: "results", s.run_options.report_path: "report",
             s.run_options.oplog_path: "operation log"}
    for path in state.written:
        tr.write_line(f"{shown.get(path, 'written')}: {path}")
    for problem in state.write_problems:
        tr.write_line(f"wbemconform: ERROR: {problem}", red=True)
