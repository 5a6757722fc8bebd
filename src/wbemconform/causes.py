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

Failures no catalog cause explains are grouped by what their evidence
shares, again from data:

* the same failed call -- the same operation on the same class in the same
  namespace answered with the same CIM status -- that each one's findings
  name (its class): such a failure joins the cause whose group already has
  that failed call, else the failures sharing it form a group of their own
  (:class:`SharedError`, of two requirements at least);
* the same silent traversal (:class:`Finding`): traversals from an object
  every one of their findings names answered nothing.
"""

from __future__ import annotations

import re

from .catalog import catalog

__all__ = ["Cause", "Finding", "SharedError", "find_causes", "causes_as_dicts"]

#: verdicts a cause or a dependent can have
_FAILING = ("fail", "error")
#: a subject label's variant suffix, e.g. " [property-based]", and the
#: " (#2)" that tells two records of one label apart
_SUFFIX = re.compile(r"( \[[^\]]*\]| \(#\d+\))+$")
#: the traversals (a finding can share their empty answer; a failed one is
#: its association class's)
TRAVERSALS = ("AssociatorNames", "Associators", "ReferenceNames", "References")
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


class SharedError(Cause):
    """Failures of several requirements whose findings come from one failed
    call: the same operation on the same class in the same namespace answered
    with the same CIM status. Led by the first of them in catalog order; its
    summary is the failed call."""

    def __init__(self, requirement, subject, record, level, errors):
        super().__init__(requirement, subject, record, level)
        self.errors = sorted(errors)

    @property
    def summary(self):
        """The class and CIM status most of the failed calls share, and to
        which operations in which namespaces."""
        by_pair: dict = {}
        for operation, status, namespace, classname in self.errors:
            by_pair.setdefault((classname, status), {}).setdefault(namespace, []).append(
                operation)
        (classname, status), where = max(sorted(by_pair.items()),  # the first of the most
                                         key=lambda kv: sum(map(len, kv[1].values())))
        calls = "; ".join(f"{', '.join(ops)} in {ns}" for ns, ops in sorted(where.items()))
        others = len(self.errors) - sum(map(len, where.values()))
        more = f" (and {others} more failed call(s))" if others else ""
        return f"{classname} answers {status} to {calls}{more}"

    def as_dict(self):
        return {**super().as_dict(), "kind": "shared-error",
                "errors": [dict(zip(("operation", "status", "namespace", "class"), e))
                           for e in self.errors]}


#: a CIM status at the start of a call's result ("CIM_ERR_NOT_SUPPORTED: ...")
_STATUS = re.compile(r"^(CIM_ERR_\w+)")
#: the class of an object path an operation was issued on ("[//h/]ns:Class.k=..")
_PATH_CLASS = re.compile(r"^(?://[^/]*/)?[\w/\\]+:(\w+)(?:[.=]|$)")


def _failed_calls(rec):
    """{(operation, CIM status, namespace, class)} of the calls in ``rec``'s
    evidence that failed with a CIM error, where its findings name the call
    (its class, or its operation and the status). The class of a traversal
    is its association class (AssocClass, or a References' ResultClass: whose
    provider answers), else the class of the object it starts from."""
    text = " ".join([rec.message, *rec.problems]).lower()
    out = set()
    for e in rec.evidence:
        if e.get("outcome") != "cim-error":
            continue
        status = _STATUS.match(str(e.get("result", "")))
        operation = str(e.get("operation", "?"))
        args = e.get("arguments") or {}
        arg0 = str(args.get("arg0", ""))
        path = _PATH_CLASS.match(arg0)
        classname = path.group(1) if path else arg0 if re.fullmatch(r"\w+", arg0) else ""
        if operation in TRAVERSALS:
            classname = str(args.get("AssocClass" if operation.startswith("Associator")
                                     else "ResultClass") or classname)
        namespaces = _call_namespaces(e)
        if not (status and classname and namespaces) or not (
                _names(text, classname) or
                _names(text, operation.lower()) and status.group(1).lower() in text):
            continue
        out.add((operation, status.group(1), min(namespaces), classname))
    return out


def _names(text, word):
    """Whether ``text`` names ``word`` (lower case) as a whole word."""
    return re.search(r"(?<!\w)" + re.escape(word.lower()) + r"(?!\w)", text) is not None


def _shared_errors(results, failing, causes, taken):
    """Group the failures no cause explains that share a failed call: with
    the cause whose group has it, else among themselves (SharedError, of two
    requirements at least). Adds what it groups to ``taken``."""
    calls = {(rid, subject): _failed_calls(rec) for rid, subject, rec in failing}
    for cause in causes:
        members = [(cause.requirement, cause.subject)] + \
            [(rid, subject) for rid, subject, _ in cause.explains]
        shared = set().union(*(calls[m] for m in members))
        for rid, subject, rec in failing:
            if (rid, subject) not in taken and calls[(rid, subject)] & shared:
                cause.explains.append((rid, subject, rec))
                taken.add((rid, subject))
    out = []
    for keys, errors, make in _groups(results, failing,
                                      {k: v for k, v in calls.items() if v and k not in taken}):
        out.append(make(SharedError, set.intersection(*(calls[k] for k in keys)) or errors))
        taken.update(keys)
    return out


def _groups(results, failing, shares):
    """The groups of two requirements at least among ``shares`` ({(rid,
    subject): set of shared things}, joined where the sets meet): (keys, the
    things, make), where ``make(cls, *args)`` builds the group's cause, led by
    its first failure in catalog order and explaining the others."""
    order = list(catalog())
    by_key = {(rid, subject): rec for rid, subject, rec in failing}
    for keys, things in _connected(shares):
        if len({rid for rid, _ in keys}) < 2:
            continue
        lead, *rest = sorted(keys, key=lambda k: (order.index(k[0]), k[1]))

        def make(cls, *args, lead=lead, rest=rest):
            found = cls(lead[0], lead[1], by_key[lead], results.level(lead[0]), *args)
            found.explains = [(rid, subject, by_key[(rid, subject)]) for rid, subject in rest]
            return found
        yield keys, things, make


def _connected(shares):
    """[(keys, shared things)]: the keys of ``shares`` ({key: set}) joined
    where their sets meet (connected components)."""
    groups = []
    for key, things in shares.items():
        keys, joined = {key}, set(things)
        for group in [g for g in groups if g[1] & joined]:
            keys |= group[0]
            joined |= group[1]
            groups.remove(group)
        groups.append((keys, joined))
    return groups


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
    out = []
    for keys, sources, make in _groups(results, failing,
                                       {k: set(v) for k, v in silent.items()}):
        ops = {op for k in keys for found in silent[k].values() for op in found}
        out.append(make(Finding, sources, ops))
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
    found = list(causes.values())
    found += _shared_errors(results, failing, found, taken)
    found += _shared_findings(results, failing, taken)
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
