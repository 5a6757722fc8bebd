"""What the pytest plugin shows: a conformance test's failure text
(:class:`VerdictView`) and, at the end of a run, the results in requirement
terms with the gate's decision (:func:`summary`): the root causes first, each
with the failures it explains (wbemconform.causes), then the other failures.
Everything shown comes from the engine's records, which are scrubbed and
neutralized (wbemconform.session).

With the plugin :mod:`wbemconform.plugin_view` (``-p wbemconform.plugin_view``,
which ``wbemconform check`` passes) and without ``-v``/``-q``, the run is shown in
requirement terms only: no test node ids,
no pytest header or FAILURES section; discovery's phases and an operation
counter while it runs; the summary ends in at most a screenful.
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict

import pytest

__all__ = ["VerdictView", "summary", "STATE", "COMPACT", "PROGRESS"]

#: the run's RunState in config.stash (set by wbemconform.plugin)
STATE = pytest.StashKey()
#: config.stash: True when the run is shown in requirement terms only
COMPACT = pytest.StashKey()
#: config.stash: the compact view's progress display (wbemconform.plugin_view)
PROGRESS = pytest.StashKey()
#: a cause line may be longer than the screen is wide: it is the line to read
CAUSE_WIDTH = 200
#: the n/a reasons the compact summary shows (the report has them all)
NA_REASONS_SHOWN = 12


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


def _width():
    return max(80, shutil.get_terminal_size((120, 24)).columns) - 1


def _causes_lines(tr, results, causes, width):
    """One line per cause -- what it is and what it explains -- and under it
    one line per failure it explains."""
    for cause in causes:
        tail = f" -- explains {', '.join(cause.explained_ids())}"
        tr.write_line(_clip(f"cause: {cause.requirement} [{cause.level}]: {cause.summary}",
                            max(width, CAUSE_WIDTH) - len(tail)) + tail, red=True, bold=True)
        tr.write_line("  " + _clip(f"on {cause.subject}; what it explains still counts:",
                                   width - 2))
        for rid, subject, rec in cause.explains:
            more = f" (+{len(rec.problems) - 1} more)" if len(rec.problems) > 1 else ""
            variant = subject[len(cause.subject):] if subject.startswith(cause.subject) \
                else f" {subject}"
            first = (rec.problems or [rec.message])[0]
            tr.write_line("    " + _clip(f"{rid}{variant} [{results.level(rid)}] {rec.verdict}: "
                                         f"{first}", width - 4 - len(more)) + more)


def _other_failures(tr, results, explained, width):
    for rid, subjects in results.records.items():
        for subject, rec in subjects.items():
            if rec.verdict not in ("fail", "error") or (rid, subject) in explained:
                continue
            if rec.waived:
                continue
            first = (rec.problems or [rec.message])[0]
            more = f" (+{len(rec.problems) - 1} more)" if len(rec.problems) > 1 else ""
            gating = results.gating(rid) or rec.verdict == "error"
            tr.write_line(_clip(f"{rec.verdict}: {rid} [{results.level(rid)}] {subject}: {first}",
                                width - len(more)) + more, red=gating, yellow=not gating)


def _not_applicable(tr, results, width):
    """One line per distinct reason a requirement was not applicable, with the
    requirement ids it applies to."""
    by_reason = defaultdict(list)
    for rid, subjects in results.records.items():
        for rec in subjects.values():
            if rec.verdict in ("not-applicable", "skip") and rid not in by_reason[rec.message]:
                by_reason[rec.message].append(rid)
    for reason, ids in list(by_reason.items())[:NA_REASONS_SHOWN]:
        tr.write_line(_clip(f"n/a {', '.join(ids)}: {reason or 'no reason given'}", width))
    if len(by_reason) > NA_REASONS_SHOWN:
        tr.write_line(f"n/a ... and {len(by_reason) - NA_REASONS_SHOWN} more reasons "
                      "(the report lists them)")


def _counts_line(results, causes):
    overall = Counter(results.overall(rid) for rid, subjects in results.records.items()
                      if subjects)
    explained = sum(len(c.explains) for c in causes)
    c = results.counts()
    parts = [f"{overall[v]} {v}" for v in ("fail", "error", "pass", "not-applicable", "skip")
             if overall[v]]
    line = f"requirements: {', '.join(parts) or 'none judged'}"
    line += (f"   (requirement x subject: {c['fail']} fail, {c['error']} error, "
             f"{c['pass']} pass, {c['not-applicable']} n/a, {c['waived']} waived")
    if explained:
        line += f"; {explained} of the failures under {len(causes)} cause(s)"
    return line + ")"


def summary(tr, state):
    """The results in requirement terms and the gate's decision (the terminal
    summary): the requirement table (not in the compact view), the causes
    with what they explain, the other failures, the counts, the gate."""
    from .catalog import catalog
    from .causes import find_causes
    s = state.session
    results = s.results
    compact = tr.config.stash.get(COMPACT, False)
    progress = tr.config.stash.get(PROGRESS, None)
    if progress is not None:
        progress.done()
    width = _width()
    if not compact:
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
    if any(results.records.values()) and not compact:
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
    causes = find_causes(results)
    _causes_lines(tr, results, causes, width)
    if compact:
        explained = {(rid, subject) for c in causes for rid, subject, _ in c.explains}
        explained |= {(c.requirement, c.subject) for c in causes}
        _other_failures(tr, results, explained, width)
        _not_applicable(tr, results, width)
        if any(results.records.values()):
            tr.write_line(_counts_line(results, causes))
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
    if compact:
        _other_pytest_errors(tr, width)


def _other_pytest_errors(tr, width):
    """What the compact view leaves out of pytest's own sections and is no
    conformance verdict (a collection error, a test that is not a conformance
    test): one line each."""
    for rep in tr.stats.get("error", []) + tr.stats.get("failed", []):
        if any(k == "requirement" for k, _ in getattr(rep, "user_properties", [])):
            continue
        text = (getattr(rep, "longreprtext", "") or "").strip().splitlines()
        tr.write_line(_clip(f"pytest: {rep.nodeid or 'collection'}: "
                            f"{text[-1] if text else rep.outcome}", width), red=True)

