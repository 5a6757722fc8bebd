"""The files a run writes: the ``--conformance-json`` document, the HTML
report built from it, and the operation log -- each written atomically
(wbemconform.atomic), each text scrubbed (Session.scrub)."""

from __future__ import annotations

import json
from collections import Counter

from .atomic import write_text
from .gate import GATE_ABORTED, Gate
from .targets.base import is_write
from .topology_data import topology_block

__all__ = ["operations", "document", "outputs", "operation_log", "write"]


#: the requests that continue a pull sequence: how many a sequence takes is
#: the server's choice (it may answer fewer objects than asked for), so the
#: counts leave them out -- the operation log lists every one
CONTINUATIONS = ("PullInstancePaths", "PullInstancesWithPath", "PullInstances")


def operations(session):
    """(total, by requirement, writes sent to the target): every operation the
    suite chose to send, a pull sequence counted once (its Open*)."""
    calls = session._target.calls if session._target is not None else []
    calls = [c for c in calls if c.operation not in CONTINUATIONS]
    by_req = Counter(c.requirement or "discovery" for c in calls)
    writes = sum(1 for c in calls if is_write(c.operation, [c.args.get("arg0")])
                 and c.outcome != "refused")
    return {"total": len(calls), "by_requirement": dict(by_req), "writes": writes}

def document(session, pending=None):
    """The ``--conformance-json`` document of this run; with ``pending`` (a
    reason), the document of a run that has not finished: gate aborted."""
    obs = session._obs
    target = session._target
    gate = Gate(GATE_ABORTED, [session.scrub(pending)]) if pending else session.gate()
    doc = session.results.to_json(
        target=session.description(),
        flavor=obs.flavor if obs else None,
        flavor_reason=obs.flavor_reason if obs else None,
        interop_namespace=obs.interop_ns if obs else None,
        server=_server_info(session),
        operations=session.operations(),
        load_failures=[session.scrub(f) for f in target.load_failures] if target else [],
        load_warnings=[session.scrub(w) for w in getattr(target, "load_warnings", ())]
        if target else [],
        waivers=session.waivers, options=_scrubbed(session, session.command_options),
        gate=gate, run=session.context, not_judged=session.not_judged,
        tls=getattr(target, "tls_description", None) if target else None,
        protocol=getattr(target, "protocol", None), auth=getattr(target, "auth", None))
    # what the run observed of the target's shape, for the report's picture
    doc["topology"] = topology_block(session)
    return doc

def _scrubbed(session, value):
    if isinstance(value, dict):
        return {k: _scrubbed(session, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(session, v) for v in value]
    return session.scrub(value)

def _server_info(session):
    info = session._obs.server_info if session._obs is not None else {}
    return {k: session.scrub(v) for k, v in info.items()}

def outputs(session):
    """[(option, path)] of the result files this run writes."""
    ro = session.run_options
    return [(opt, path) for opt, path in (
        ("--conformance-json", ro.json_path), ("--conformance-report", ro.report_path),
        ("--wbem-operation-log", ro.oplog_path)) if path]

def operation_log(session):
    """The operation log's text: one JSON line per operation issued, each
    value scrubbed before it is encoded."""
    if session._target is None:
        return ""
    scrub = session.secrets.scrub
    lines = []
    for c in session._target.calls:
        entry = {"operation": c.operation,
                 "arguments": {k: scrub(v) for k, v in c.args.items()},
                 "outcome": c.outcome, "result": scrub(c.summary),
                 "requirement": c.requirement, "seconds": round(c.seconds, 6)}
        lines.append(scrub(json.dumps(entry, default=str)) + "\n")
    return "".join(lines)

def write(session, pending=None):
    """Write the JSON, HTML report and operation log the options ask for,
    each atomically (:mod:`wbemconform.atomic`). With ``pending`` (a
    reason), write the results of a run that has not finished -- ABORTED,
    with that reason -- and an empty operation log: what a killed run
    leaves behind. Returns (paths written, one-line problems)."""
    written, problems = [], []
    doc = None
    for option, path in outputs(session):
        try:
            if option == "--wbem-operation-log":
                text = "" if pending else operation_log(session)
            elif option == "--conformance-json":
                doc = doc or json.loads(json.dumps(document(session, pending), default=str))
                text = json.dumps(doc, indent=1)
            else:
                from .report import render_report
                doc = doc or json.loads(json.dumps(document(session, pending), default=str))
                text = render_report(doc)
            write_text(path, text)
            written.append(path)
        except OSError as exc:
            problems.append(f"{option} {path}: cannot write: {exc.strerror or exc}")
    return written, problems
