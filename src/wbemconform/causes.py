"""Root causes: failures that one mistake explains, grouped under it.

One mistake makes many requirements fail: a provider registered in the
interop namespace only (half of the spec's step 3) makes PR-4 fail, and with
it every operation on the class in the other namespace -- PR-1, TR-2, TR-3,
RC-2 fail too, each with the same CIM error. This module finds such groups
so that the gate line, the terminal and the HTML lead with the cause and show
the others under it. Nothing is dropped: a dependent failure is still a
failure, counted by the gate and listed in the results.

The grouping is derived from data, never from requirement ids in code:

* the catalog says which requirements' failures a requirement's failure may
  explain (its optional ``explains`` list, ``data/requirements.toml``);
* the evidence must agree: the dependent failure is on the same subject (or
  the cause is about the whole target), and it names -- in its findings, or
  in the namespace of an operation that failed with a CIM error -- a
  namespace that the cause's findings name. The namespaces looked for are
  those the run's operations were sent to (their ``namespace`` argument, or
  the namespace of the object path they were issued on).

A cause that is itself explained by another failure is not a cause: its
dependents go to the first cause up the chain (the catalog's ``explains``
has no cycles: wbemconform.catalog refuses one).
"""

from __future__ import annotations

import re

from .catalog import catalog

__all__ = ["Cause", "find_causes", "causes_as_dicts"]

#: verdicts a cause or a dependent can have
_FAILING = ("fail", "error")
#: a subject label's variant suffix, e.g. " [property-based]", and the
#: " (#2)" that tells two records of one label apart
_SUFFIX = re.compile(r"( \[[^\]]*\]| \(#\d+\))+$")
#: the namespace of an object path an operation was issued on
#: ("[//host[:port]/]namespace:Class.key=...")
_PATH_NAMESPACE = re.compile(r"^(?://[^/]*/)?([\w/\\]+):\w+[.=]")


class Cause:
    """One failing (requirement, subject) and the failures it explains."""

    def __init__(self, requirement, subject, record, level):
        self.requirement = requirement
        self.subject = subject
        self.record = record
        self.level = level
        self.explains: list = []  # [(requirement id, subject, record)]

    @property
    def summary(self):
        """The cause's finding, in one line (its first problem, else its message)."""
        first = (self.record.problems or [self.record.message])[0]
        return " ".join(str(first).split())

    def explained_ids(self):
        """The explained requirement ids, in catalog order, each once."""
        order = list(catalog())
        return sorted({rid for rid, _, _ in self.explains} - {self.requirement},
                      key=order.index)

    def as_dict(self):
        return {"requirement": self.requirement, "subject": self.subject,
                "level": self.level, "verdict": self.record.verdict, "summary": self.summary,
                "explains": [{"requirement": rid, "subject": s, "verdict": rec.verdict}
                             for rid, s, rec in self.explains]}


class Finding(Cause):
    """Failures of several requirements that one observation explains: the
    server answers nothing to the traversals from the same objects (named in
    every one of their findings). Led by the first of them in catalog order;
    its summary is the observation."""

    def __init__(self, requirement, subject, record, level, sources, operations):
        super().__init__(requirement, subject, record, level)
        self.sources = sorted(sources)
        self.operations = sorted(operations)

    @property
    def summary(self):
        more = f" and {len(self.sources) - 1} more" if len(self.sources) > 1 else ""
        return (f"{'/'.join(self.operations)} from {self.sources[0]}{more} answer nothing, "
                "though enumeration or the other end links them")

    def as_dict(self):
        return {**super().as_dict(), "kind": "shared-finding", "sources": self.sources}


#: the traversals whose empty answer a finding can share
TRAVERSALS = ("AssociatorNames", "Associators", "ReferenceNames", "References")


def _silent_sources(rec):
    """{source path: operation} of the traversals in ``rec``'s evidence that
    answered nothing from an object its findings name."""
    text = " ".join([rec.message, *rec.problems])
    out = {}
    for e in rec.evidence:
        if e.get("operation") in TRAVERSALS and e.get("outcome") == "ok" and \
                str(e.get("result", "")).startswith("0 object(s)"):
            source = str((e.get("arguments") or {}).get("arg0", ""))
            if source and source in text:
                out.setdefault(source, set()).add(e["operation"])
    return out


def _shared_findings(results, failing, taken):
    """Findings among the failures no cause explains: those that share a
    silent source, of at least two requirements (a union of the failures
    connected by a common source)."""
    silent = {(rid, subject): _silent_sources(rec) for rid, subject, rec in failing
              if (rid, subject) not in taken and rec.verdict == "fail"}
    silent = {k: v for k, v in silent.items() if v}
    groups = []  # [(keys, sources)]
    for key, sources in silent.items():
        joined = [g for g in groups if g[1] & sources.keys()]
        keys, srcs = {key}, set(sources)
        for g in joined:
            keys |= g[0]
            srcs |= g[1]
            groups.remove(g)
        groups.append((keys, srcs))
    order = list(catalog())
    by_key = {(rid, subject): rec for rid, subject, rec in failing}
    out = []
    for keys, sources in groups:
        if len({rid for rid, _ in keys}) < 2:
            continue
        ranked = sorted(keys, key=lambda k: (order.index(k[0]), k[1]))
        lead = ranked[0]
        ops = {op for k in keys for src, found in silent[k].items() for op in found}
        finding = Finding(lead[0], lead[1], by_key[lead], results.level(lead[0]), sources, ops)
        finding.explains = [(rid, subject, by_key[(rid, subject)]) for rid, subject in ranked[1:]]
        out.append(finding)
    return out


def _base(label):
    return _SUFFIX.sub("", label)


def _namespaces_of_run(records):
    """Every namespace the run's evidence names (operations' namespaces)."""
    found = set()
    for _, _, rec in records:
        for e in rec.evidence:
            found.update(_call_namespaces(e))
    return {ns for ns in found if ns}


def _call_namespaces(evidence):
    args = evidence.get("arguments") or {}
    out = set()
    if args.get("namespace"):
        out.add(str(args["namespace"]).strip("/").lower())
    match = _PATH_NAMESPACE.match(str(args.get("arg0", "")))
    if match:
        out.add(match.group(1).strip("/").lower())
    return out


def _named(text, namespaces):
    """The namespaces of ``namespaces`` that ``text`` names (a whole name: root/cimv2
    is not named by root/cimv2x)."""
    text = text.lower().replace("\\", "/")
    return {ns for ns in namespaces
            if re.search(r"(?<![\w.])" + re.escape(ns) + r"(?![\w])", text)}


def _cause_namespaces(rec, namespaces):
    return _named(" ".join([rec.message, *rec.problems]), namespaces)


def _dependent_namespaces(rec, namespaces):
    named = _named(" ".join([rec.message, *rec.problems]), namespaces)
    for e in rec.evidence:
        if e.get("outcome") == "cim-error":
            named |= _call_namespaces(e) & namespaces
    return named


def find_causes(results) -> list[Cause]:
    """The causes among ``results``' failures (catalog order), each with the
    failures it explains; [] when no failure explains another."""
    cat = catalog()
    failing = [(rid, subject, rec) for rid, subjects in results.records.items()
               for subject, rec in subjects.items()
               if rec.verdict in _FAILING and not rec.waived]
    if len(failing) < 2:
        return []
    namespaces = _namespaces_of_run(failing)
    # who explains whom: edges from a failed requirement to failures it explains
    explained_by: dict = {}
    for rid, subject, rec in failing:
        req = cat[rid]
        if rec.verdict != "fail" or not req.explains:
            continue
        mine = _cause_namespaces(rec, namespaces)
        if not mine:
            continue  # the cause names no namespace: nothing to match the evidence on
        for did, dsubject, drec in failing:
            if did not in req.explains:
                continue
            if req.subject != "target" and _base(dsubject) != _base(subject):
                continue
            if _dependent_namespaces(drec, namespaces) & mine:
                explained_by.setdefault((did, dsubject), []).append((rid, subject))

    def root(key, seen=()):
        """The first cause up the chain that nothing explains."""
        for parent in explained_by.get(key, []):
            if parent in seen:
                continue
            return root(parent, (*seen, key)) if parent in explained_by else parent
        return key
    by_key = {(rid, subject): rec for rid, subject, rec in failing}
    causes: dict = {}
    for rid, subject, rec in failing:
        key = (rid, subject)
        if key not in explained_by:
            continue
        top = root(key)
        if top == key:
            continue
        if top not in causes:
            causes[top] = Cause(top[0], top[1], by_key[top], results.level(top[0]))
        causes[top].explains.append((rid, subject, rec))
    taken = set(causes) | {(rid, subject) for c in causes.values()
                           for rid, subject, _ in c.explains}
    found = list(causes.values()) + _shared_findings(results, failing, taken)
    order = list(cat)
    return sorted(found, key=lambda c: (order.index(c.requirement), c.subject))


def causes_as_dicts(results) -> list[dict]:
    """The ``causes`` list of the results document."""
    return [c.as_dict() for c in find_causes(results)]


def lead_with_causes(results, ids) -> list[str]:
    """``ids`` (failed requirement ids) for the gate line: each cause among them
    first, saying what it explains, then the others in their order."""
    ids = list(ids)
    lead, explained = [], {}
    for cause in find_causes(results):
        if cause.requirement in ids and cause.requirement not in explained:
            explained[cause.requirement] = cause.explained_ids()
        elif cause.requirement in explained:
            explained[cause.requirement] += [r for r in cause.explained_ids()
                                             if r not in explained[cause.requirement]]
    for rid, what in explained.items():
        order = list(catalog())
        lead.append(f"{rid} (the cause of {', '.join(sorted(what, key=order.index))})")
    return lead + [rid for rid in ids if rid not in explained]
