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
        return sorted({rid for rid, _, _ in self.explains}, key=order.index)

    def as_dict(self):
        return {"requirement": self.requirement, "subject": self.subject,
                "level": self.level, "verdict": self.record.verdict, "summary": self.summary,
                "explains": [{"requirement": rid, "subject": s, "verdict": rec.verdict}
                             for rid, s, rec in self.explains]}


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
    order = list(cat)
    return sorted(causes.values(), key=lambda c: (order.index(c.requirement), c.subject))


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
