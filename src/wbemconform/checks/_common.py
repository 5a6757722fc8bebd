"""What several checks share: how much evidence a check keeps where it asks
one operation per element, path helpers, the text of a call, and the
MSFT_TargetNamespace of a property.

The checks import these from here, not through :mod:`wbemconform.observe`
(which gives them the observations themselves).
"""

from __future__ import annotations

from ..namespaces import target_namespace_qualifier
from ..paths import ns_key, path_key, with_namespace

__all__ = ["EVIDENCE_CAP", "SAMPLE", "see_sampled", "keyed", "call_text", "missing_like",
           "target_namespace", "ns_key", "path_key", "with_namespace"]

#: the operations a check keeps as evidence where it asks one per element
#: (the findings' own operations are kept whatever the count)
EVIDENCE_CAP = 12
#: elements probed where one call per element adds nothing new
SAMPLE = 10


def see_sampled(j, *outcomes):
    """``j.see(*outcomes)`` while the judge holds fewer than EVIDENCE_CAP
    operations: a check that asks one operation per element keeps the first
    ones as a sample."""
    if len(j.evidence) < EVIDENCE_CAP:
        j.see(*outcomes)
    return j


def keyed(paths, ns):
    """{path key: path} of paths, a path without a namespace being in ``ns``."""
    return {path_key(p, ns): p for p in paths or []}


def call_text(op, source, **kw):
    """An operation as messages name it: ``Op(source, Name=value, ...)``,
    the arguments that are None left out."""
    shown = ", ".join(f"{k}={v}" for k, v in kw.items() if v is not None)
    return f"{op}({source}{', ' + shown if shown else ''})"


def missing_like(path, marker="wbemconform-no-such-instance"):
    """A path of the same class whose string keys no instance has (None when
    it has no string key to change)."""
    out = path.copy()
    changed = False
    for name, value in path.keybindings.items():
        if isinstance(value, str):
            out.keybindings[name] = marker
            changed = True
    return out if changed else None


def target_namespace(prop):
    """(raw text, parsed TargetNamespace or None) of a property's
    MSFT_TargetNamespace; (None, None) when it has none. Read by
    :func:`wbemconform.namespaces.target_namespace_qualifier`."""
    return target_namespace_qualifier(prop, keep_invalid=True) or (None, None)
