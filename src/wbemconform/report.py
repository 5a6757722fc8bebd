"""The HTML conformance report, rendered from a ``--conformance-json`` document.

    from wbemconform.report import render_report, write_report
    html = render_report(doc)                      # one self-contained page
    write_report(doc, "reports/conformance.html", baseline=old_doc)

The page has no external resource (inline CSS and JS); it is rendered with
the Jinja2 templates in ``templates/`` (autoescaped). This module turns the
document into a view model -- header, verdict, matrix, details, waivers,
baseline diff -- so that the templates only loop.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache, lru_cache

from .reproduce import (
    ENVELOPE_FILE,
    WSMAN,
    evidence_commands,
    is_url,
    is_winrm,
    protocol_of,
    pytest_command,
    pywbemcli_command,
)

__all__ = ["MAX_EVIDENCE", "MAX_PROBLEMS", "ReportError", "pywbemcli_command",
           "render_report", "validate_document", "write_report"]

SCHEMA_VERSION = 1  # the results.py document this module reads
VERDICTS = ("pass", "fail", "error", "skip", "not-applicable", "waived")
VERDICT_TEXT = {"pass": "pass", "fail": "FAIL", "error": "ERROR", "skip": "skip",
                "not-applicable": "n/a", "waived": "waived"}
FAILING = ("fail", "error")
LEVELS = ("MUST", "SHOULD", "MAY")
# worst first: which verdict speaks for a row or a column
_RANK = {"error": 0, "fail": 1, "waived": 2, "pass": 3, "not-applicable": 4, "skip": 5}
GROUPS = {
    "RP": "Profile registration",
    "EC": "Element-conformance association classes",
    "TR": "Traversal",
    "RC": "ResultClass filtering",
    "PR": "Association provider",
    "SC": "Schema",
    "ER": "Error handling",
    "CI": "Central instances",
    "NS": "Interop namespace",
}
KIND_TITLES = {"target": "Target", "profile": "Registered profiles",
               "association": "Associations"}
SHORT_KIND_TITLES = {"target": "Target", "profile": "Profiles", "association": "Assocs"}
# caps that keep a report of a big target small; what is left out is counted
MAX_EVIDENCE = 25
MAX_PROBLEMS = 50
MAX_TEXT = 3000
MAX_ROWS = 200  # rows of the baseline-diff tables

_VARIANT = re.compile(r"^(.*\S) \[([^\[\]]+)\]$")


class ReportError(ValueError):
    """The document is not a results document this version can render."""


# -- input -------------------------------------------------------------------

def validate_document(doc, where="results"):
    """Raise ReportError (one line, naming ``where``) unless ``doc`` is a results document."""
    if not isinstance(doc, dict):
        raise ReportError(f"{where}: not a wbemconform results document "
                          f"(a JSON {type(doc).__name__}, expected an object)")
    if doc.get("tool", "wbemconform") != "wbemconform" or "schema" not in doc:
        raise ReportError(f"{where}: not a wbemconform results document "
                          "(no \"schema\", or \"tool\" is not wbemconform)")
    if doc["schema"] != SCHEMA_VERSION:
        raise ReportError(f"{where}: results schema {doc['schema']!r} is not supported "
                          f"(this version reads schema {SCHEMA_VERSION})")
    reqs = doc.get("requirements")
    if not isinstance(reqs, dict):
        raise ReportError(f"{where}: results document without a \"requirements\" object")
    for rid, req in reqs.items():
        if not isinstance(req, dict) or not isinstance(req.get("subjects", {}), dict):
            raise ReportError(f"{where}: requirement {rid!r} is malformed "
                              "(expected an object with a \"subjects\" object)")
        for subject, rec in req.get("subjects", {}).items():
            if not isinstance(rec, dict) or rec.get("verdict") not in VERDICTS:
                raise ReportError(f"{where}: requirement {rid} subject {subject!r} has no "
                                  "valid verdict")


def _effective(rec):
    """The verdict a record counts as: waived failures count as "waived"."""
    return "waived" if rec.get("waived") else rec["verdict"]


def _redact(url):
    """A URL without user name or password (the document's is already redacted:
    this is a second line of defence)."""
    if not isinstance(url, str) or "@" not in url or "://" not in url:
        return url
    from .options import redact_url
    return redact_url(url)


def _clip(text, limit=MAX_TEXT):
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... ({len(text) - limit} more characters)"


def _split_variant(label):
    """"X [property-based]" -> ("X", "property-based"); "X" -> ("X", "")."""
    m = _VARIANT.match(label)
    return (m.group(1), m.group(2)) if m else (label, "")


class _Anchors:
    """Stable, unique HTML ids: ``d-<REQ>-<slug of subject>``."""

    def __init__(self):
        self.used = set()

    def __call__(self, rid, label):
        base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "x"
        out = f"d-{rid}-{base}"
        if out in self.used:
            out += "-" + hashlib.sha1(label.encode()).hexdigest()[:8]
        self.used.add(out)
        return out


# -- view model --------------------------------------------------------------

def _fmt_args(args):
    return [(k, v if isinstance(v, str) else repr(v)) for k, v in (args or {}).items()]


def _record_view(doc, rid, label, rec, anchor, target):
    eff = _effective(rec)
    waiver = rec.get("waiver")
    view = {
        "label": label, "anchor": anchor, "verdict": eff, "raw": rec["verdict"],
        "text": VERDICT_TEXT[eff], "message": _clip(rec.get("message")),
        "test": rec.get("test"), "waiver": waiver,
        "expired_waiver": bool(waiver and waiver.get("expired")) and not rec.get("waived"),
        "case": eff in FAILING or eff == "waived",
        # what the check examined: a pass says on how much it rests
        "examined": ", ".join(f"{n} {what}" for what, n in (rec.get("examined") or {}).items()),
    }
    if view["case"]:
        problems = [_clip(p, 1000) for p in rec.get("problems") or []]
        evidence = rec.get("evidence") or []
        view["problems"] = problems[:MAX_PROBLEMS]
        view["problems_left_out"] = max(0, len(problems) - MAX_PROBLEMS)
        shown = []
        for ev in evidence[:MAX_EVIDENCE]:
            shown.append({
                "operation": ev.get("operation"), "arguments": _fmt_args(ev.get("arguments")),
                "outcome": ev.get("outcome"), "result": _clip(ev.get("result"), 1000),
                **evidence_commands(doc, target, ev)})
        view["evidence"] = shown
        view["evidence_left_out"] = max(0, len(evidence) - MAX_EVIDENCE) + \
            int(rec.get("evidence_left_out") or 0)
        view["pytest"] = pytest_command(doc, rec.get("test"), target)
        # the operation that shows the failure best: the first that did not
        # succeed, else the last one issued
        commands = [e for e in shown if e["command"] or e["curl"]]
        pick = next((e for e in commands if e["outcome"] != "ok"),
                    commands[-1] if commands else None)
        view["command"] = pick["command"] if pick else None
        view["curl"] = pick["curl"] if pick else None
        view["envelope"] = pick["envelope"] if pick else None
    return view


def _real(columns, kind):
    """How many subjects of a kind were discovered (not the plugin's "no profile")."""
    return sum(1 for label in columns[kind] if label != f"no {kind}")


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _overall(views):
    """A set of records' verdict, as results.Results.overall gives it: waived
    failures do not count; only waived failures is a pass."""
    if not views:
        return "skip"
    live = [v["verdict"] for v in views if v["verdict"] != "waived"]
    return min(live, key=_RANK.get) if live else "pass"


def _worst(verdicts, default="skip"):
    return min(verdicts, key=_RANK.get) if verdicts else default


def _breakable(text):
    """Escaped ``text`` that may break after "_", "/" and ":" (<wbr>) as well
    as at spaces: class names in rotated headers, never cut inside a word."""
    import markupsafe
    out = markupsafe.escape(text)
    for ch in ("_", "/", ":"):
        out = out.replace(ch, markupsafe.Markup(ch + "<wbr>"))
    return markupsafe.Markup(out)


def _flavor_text(flavor):
    """What a requirement's catalog flavor says about where it applies -- never
    read as the target's flavor (the header says that)."""
    if flavor == "wmi":
        return "requirement for WMI-style targets only (not applicable to others)"
    if flavor == "dmtf":
        return "requirement for every WBEM target (DMTF and WMI-style)"
    return f"requirement flavor: {flavor or 'unknown'}"


def _build(doc, baseline):
    target = _redact(doc.get("target")) or "unknown"
    reqs = doc["requirements"]
    anchors = _Anchors()

    # columns: target, then each profile, then each association, in order seen
    columns = {"target": [], "profile": [], "association": []}
    seen = set()
    for req in reqs.values():
        kind = req.get("subject") if req.get("subject") in columns else "target"
        for label in req.get("subjects", {}):
            base, _ = _split_variant(label)
            if base == "target":
                kind_of = "target"
            else:
                kind_of = kind
            if (kind_of, base) not in seen:
                seen.add((kind_of, base))
                columns[kind_of].append(base)
    if "target" not in columns["target"]:
        columns["target"].insert(0, "target")
    col_list = [(k, label) for k in ("target", "profile", "association")
                for label in columns[k]]
    col_index = {(k, label): i for i, (k, label) in enumerate(col_list)}
    col_worst = [[] for _ in col_list]

    groups = {}
    details = []
    failures = []       # MUST failures and errors (the gate's)
    other_failures = []  # SHOULD / MAY
    for rid, req in reqs.items():
        kind = req.get("subject") if req.get("subject") in columns else "target"
        level = req.get("level", "MUST")
        by_variant = {}
        records = []
        for label, rec in req.get("subjects", {}).items():
            base, variant = _split_variant(label)
            k = "target" if base == "target" else kind
            view = _record_view(doc, rid, label, rec, anchors(rid, label), target)
            view["column"] = col_index[(k, base)]
            view["variant"] = variant
            records.append(view)
            by_variant.setdefault(variant, []).append(view)
            col_worst[view["column"]].append(view["verdict"])
            if view["verdict"] in FAILING:
                gating = level == "MUST" or view["verdict"] == "error"
                (failures if gating else other_failures).append(
                    {"rid": rid, "level": level, "label": label, "verdict": view["verdict"],
                     "text": view["text"], "anchor": view["anchor"],
                     "message": _clip(view["message"], 300)})
        if not by_variant:
            by_variant[""] = []
        rows = []
        for variant in sorted(by_variant, key=lambda v: (v != "", v)):
            cells = [None] * len(col_list)
            for view in by_variant[variant]:
                cells[view["column"]] = view
            rows.append({"variant": variant, "cells": cells,
                         "verdict": _overall(by_variant[variant])})
        overall = req.get("verdict") or _overall(records)
        if len(rows) == 1:
            rows[0]["verdict"] = overall
        counts = {v: 0 for v in VERDICTS}
        for r in records:
            counts[r["verdict"]] += 1
        entry = {
            "id": rid, "level": level, "group": req.get("group") or rid.split("-")[0],
            "statement": req.get("statement", ""), "source": req.get("source", ""),
            "flavor": req.get("flavor", ""), "flavor_text": _flavor_text(req.get("flavor")),
            "kind": kind, "verdict": overall,
            "verdict_text": VERDICT_TEXT.get(overall, overall), "rows": rows,
            "records": records, "counts": counts,
            "cases": [r for r in records if r["case"]],
            "open": any(r["case"] for r in records),
        }
        groups.setdefault(entry["group"], []).append(entry)
        details.append(entry)

    order = [g for g in GROUPS if g in groups] + [g for g in groups if g not in GROUPS]
    matrix_groups = [{"id": g, "title": GROUPS.get(g, g), "reqs": groups[g]} for g in order]
    n = 0
    for g in matrix_groups:  # the default (catalog) order, for the JS sort
        for entry in g["reqs"]:
            entry["order"] = n
            n += 1

    col_views = []
    for i, (kind, label) in enumerate(col_list):
        short = label
        if kind == "association":  # "Profile -> ns:Class": the class says it
            short = label.rpartition(":")[2] if " -> " in label else label
        worst = _worst(col_worst[i], "skip")
        col_views.append({"kind": kind, "label": label, "short": short,
                          "short_html": _breakable(short), "verdict": worst})
    col_groups = [{"kind": k, "span": len(columns[k]),
                   "title": KIND_TITLES[k] if len(columns[k]) > 2 or k == "target"
                   else SHORT_KIND_TITLES[k]}
                  for k in ("target", "profile", "association") if columns[k]]

    counts = doc.get("counts") or {}
    counts = [{"verdict": v, "text": VERDICT_TEXT[v], "n": counts.get(v, 0)} for v in VERDICTS]
    gate = doc.get("gate") or {}
    setup_error = doc.get("setup_error")
    gate_failures = gate.get("failures")
    # the headline counts MUST failures as failures and errors (any level) as
    # checks that could not run: an error is not a MUST failure
    n_must = sum(1 for f in (gate_failures if gate_failures is not None else failures)
                 if f.get("verdict", "fail") == "fail")
    status = gate.get("status") or ("passed" if gate.get("passed") else "failed")
    if status == "aborted" or setup_error:
        reasons = gate.get("reasons") or [setup_error or "the run stopped early"]
        verdict = {"ok": False, "status": "aborted",
                   "title": "ABORTED: no conformance verdict",
                   "sub": _clip("; ".join(reasons), 500)}
    elif status != "passed" or n_must:
        failing_reqs = sorted({f["rid"] for f in failures}, key=list(reqs).index)
        n_err = sum(1 for f in failures + other_failures if f["verdict"] == "error")
        title = "NOT CONFORMANT: " + ", ".join(
            part for part in (
                f"{n_must} MUST failure{'s' if n_must != 1 else ''}" if n_must or not n_err
                else "",
                f"{n_err} check{'s' if n_err != 1 else ''} could not run (error)" if n_err
                else "") if part)
        verdict = {"ok": False, "status": "failed", "title": title,
                   "sub": (f"in {len(failing_reqs)} requirement"
                           f"{'s' if len(failing_reqs) != 1 else ''}: "
                           + ", ".join(failing_reqs[:10])
                           + (f" and {len(failing_reqs) - 10} more"
                              if len(failing_reqs) > 10 else "")) if failing_reqs else
                   "; ".join(gate.get("reasons") or [])}
    else:
        verdict = {"ok": True, "status": "passed", "title": "CONFORMANT (MUST requirements)",
                   "sub": "every MUST requirement passed or does not apply, and every "
                          "check ran"}
    notes = []
    if other_failures:
        notes.append(f"{len(other_failures)} SHOULD/MAY failure"
                     f"{'s' if len(other_failures) != 1 else ''} (do not fail the gate)")
    n_waived = sum(1 for d in details for r in d["records"] if r["verdict"] == "waived")
    if n_waived:
        notes.append(f"{n_waived} waived failure{'s' if n_waived != 1 else ''}")
    waivers = []
    for w in doc.get("waivers") or []:
        status = "expired" if w.get("expired") else ("active" if w.get("matched") else "unused")
        waivers.append({**w, "status": status})
    n_expired = sum(1 for w in waivers if w["status"] == "expired")
    if n_expired:
        notes.append(f"{n_expired} expired waiver{'s' if n_expired != 1 else ''}")

    server = doc.get("server") or {}
    ops = doc.get("operations") or {}
    protocol = protocol_of(doc)
    facts = [
        ("Target", target),
        ("Protocol", f"{protocol}, authentication: {doc.get('auth') or 'none'}"
         if doc.get("protocol") else protocol),
        ("Server", " - ".join(str(server[k]) for k in ("brand", "description")
                              if server.get(k)) or "not reported"),
        ("Flavor", (doc.get("flavor") or "unknown")
         + (f" ({doc['flavor_reason']})" if doc.get("flavor_reason") else "")),
        ("Interop namespace", doc.get("interop_namespace") or "not found"),
        ("Started", doc.get("started") or "?"),
        ("Duration", f"{doc.get('duration_seconds', 0):.1f} s"
         + (f", {ops['total']} operations" if ops.get("total") is not None else "")
         + (f" ({ops['writes']} of them writes: the suite's own probes, "
            + ("allowed by --wbem-allow-writes)" if is_url(target) else
               "which the embedded mock allows)") if ops.get("writes") else "")),
        ("Suite version", f"{doc.get('tool', 'wbemconform')} {doc.get('suite_version', '?')}"),
        ("Checked", (f"{len(reqs)} requirements on the target, "
                     f"{_plural(_real(columns, 'profile'), 'registered profile')}, "
                     f"{_plural(_real(columns, 'association'), 'association')}")),
    ]
    return {
        "doc": doc, "target": target, "facts": facts, "verdict": verdict, "notes": notes,
        "counts": counts, "failures": failures, "other_failures": other_failures,
        "columns": col_views, "col_groups": col_groups, "groups": matrix_groups,
        "details": details, "waivers": waivers, "setup_error": setup_error,
        "load_failures": doc.get("load_failures") or [],
        "verdicts": VERDICTS, "verdict_text": VERDICT_TEXT, "levels": LEVELS,
        "is_url": is_url(target), "protocol": protocol, "envelope_file": ENVELOPE_FILE,
        "command_title": ("PowerShell (CimCmdlets)" if is_winrm(doc) else "") if protocol == WSMAN
        else "pywbemcli",
        "diff": _diff(doc, baseline, {(d["id"], r["label"]): r["anchor"]
                                      for d in details for r in d["records"]})
        if baseline is not None else None,
    }


def _diff(doc, baseline, anchors):
    def flat(d):
        return {(rid, label): _effective(rec)
                for rid, req in d["requirements"].items()
                for label, rec in req.get("subjects", {}).items()}
    cur, old = flat(doc), flat(baseline)
    regressed, fixed, changed, new, gone = [], [], [], [], []
    for key, v in cur.items():
        row = {"rid": key[0], "label": key[1], "now": v, "now_text": VERDICT_TEXT[v],
               "anchor": anchors.get(key)}
        if key not in old:
            new.append(row)
            continue
        b = old[key]
        row.update(before=b, before_text=VERDICT_TEXT[b])
        if b == v:
            continue
        if v in FAILING and b not in FAILING:
            regressed.append(row)
        elif b in FAILING and v == "pass":
            fixed.append(row)
        else:
            changed.append(row)
    for key, b in old.items():
        if key not in cur:
            gone.append({"rid": key[0], "label": key[1], "before": b,
                         "before_text": VERDICT_TEXT[b], "anchor": None})
    new_ids = [rid for rid in doc["requirements"] if rid not in baseline["requirements"]]

    def cap(rows):
        return {"rows": rows[:MAX_ROWS], "left_out": max(0, len(rows) - MAX_ROWS),
                "n": len(rows)}
    return {
        "baseline": {"target": _redact(baseline.get("target")),
                     "started": baseline.get("started"),
                     "suite_version": baseline.get("suite_version")},
        "regressed": cap(regressed), "fixed": cap(fixed), "changed": cap(changed),
        "new": cap(new), "gone": cap(gone), "new_ids": new_ids,
    }


# -- output ------------------------------------------------------------------

@lru_cache(maxsize=1)
def _env():
    import jinja2
    import markupsafe
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wbemconform", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)

    @cache
    def inline(name):
        """A template folder file's text, verbatim (the inline CSS and JS)."""
        source = env.loader.get_source(env, name)[0]
        return markupsafe.Markup(source.replace("</", "<\\/") if name.endswith(".js")
                                 else source)
    env.globals["inline"] = inline
    return env


def _topology(doc):
    """The topology picture (inline SVG markup; escaped by topology_svg), or ""."""
    import markupsafe

    from .topology_svg import render_svg
    return markupsafe.Markup(render_svg(doc))


def render_report(doc, baseline=None) -> str:
    """The HTML report (one self-contained page) of a results document."""
    validate_document(doc, "results")
    if baseline is not None:
        validate_document(baseline, "baseline")
    model = _build(doc, baseline)
    model["topology_svg"] = _topology(doc)
    return _env().get_template("report.html.j2").render(**model)


def write_report(doc, path, baseline=None):
    """Render the report of ``doc`` to ``path`` (folders created); returns the path."""
    from .atomic import write_text
    return write_text(path, render_report(doc, baseline))
