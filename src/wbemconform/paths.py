"""Comparable keys for instance paths, whatever their spelling, and cheap
copies of instance paths.

Two spellings of one instance path -- class name case, key name case, a
missing namespace meaning "the namespace of the request", a host or none --
give the same key, so paths can index dictionaries.

A run at scale keys and copies instance paths millions of times (a profile of
10,000 elements: ~1.4 million keys, ~900,000 copies), and pywbem's public way
of doing either re-validates every keybinding on each copy and builds a view
object per item read. This module is the one place that reads and copies
``CIMInstanceName`` through its private slots (``_classname``,
``_keybindings``, ``_namespace``, ``_host``) and ``NocaseDict._data`` (a
dict: case-folded key -> (key as spelled, value)), which pywbem 1.x has held
since it has had slots. ``tests/test_private_apis.py::test_paths_*`` fails
loudly, naming what changed, if a pywbem release changes any of it; the
results are the public API's (tested against it there).
"""

from __future__ import annotations

from pywbem import CIMInstance, CIMInstanceName

_new = object.__new__


def normalize_namespace(ns: str | None) -> str | None:
    """A namespace name for comparisons: no leading/trailing '/', lower case."""
    return ns.strip("/").lower() if ns else None


ns_key = normalize_namespace


def path_key(path: CIMInstanceName, default_namespace: str | None = None):
    """The comparable key of an instance path: (namespace, class, keybindings),
    case-folded, the namespace defaulting to ``default_namespace`` (a reference
    value without a namespace is in the namespace of the path holding it)."""
    # normalize_namespace(path.namespace) or normalize_namespace(default),
    # spelled out: this runs for every path a run compares (millions)
    ns = path._namespace
    if ns:
        ns = ns.strip("/").lower()
    if not ns:
        ns = default_namespace.strip("/").lower() if default_namespace else None
    bindings = path._keybindings
    data = bindings._data if bindings is not None else None  # name -> (name, value)
    if not data:
        return (ns, path._classname.lower(), ())
    keys = []
    for name, (_spelled, value) in data.items():
        kind = type(value)
        if kind is not str:
            value = path_key(value, ns) if kind is CIMInstanceName else _key_value(value, ns)
        keys.append((name, value))
    if len(keys) > 1:
        keys.sort()  # key names are unique (case-folded): values never compared
    return (ns, path._classname.lower(), tuple(keys))


def _key_value(value, ns):
    if isinstance(value, CIMInstanceName):
        return path_key(value, ns)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return str(value)


def exact_key(path: CIMInstanceName):
    """A hashable key of ``path`` exactly as written -- class, namespace, host,
    key names and values, case and value types kept -- so two paths with the
    same exact key make the same request (the key order does not count: the
    CIM-XML of a path does not depend on it). ``str(path)`` gives the same
    distinctions at several times the cost."""
    bindings = path._keybindings
    data = bindings._data if bindings is not None else None
    keys = ()
    if data:
        keys = tuple(sorted(
            (folded, spelled, exact_key(value) if type(value) is CIMInstanceName
             else value if type(value) is str else (type(value).__name__, str(value)))
            for folded, (spelled, value) in data.items()))
    return (path._classname, path._namespace, path._host, keys)


def copy_path(path: CIMInstanceName, namespace: str | None, host: str | None = None):
    """A copy of ``path`` in ``namespace`` (leading/trailing '/' stripped, as
    pywbem's setter does) on ``host``: what ``path.copy()`` then setting both
    gives -- the keybindings dictionary is the copy's own, the values (reference
    paths included) are shared, as ``CIMInstanceName.copy`` shares them --
    without re-validating keybindings the original already holds validated."""
    out = _new(CIMInstanceName)
    out._classname = path._classname
    out._keybindings = _own(path._keybindings)
    out._namespace = namespace.strip("/") if namespace is not None else None
    out._host = host
    return out


def _own(items):
    """A NocaseDict of the same type and settings holding the same items (as
    pywbem's setters copy one), or None for pywbem's lazy None."""
    if items is None:
        return None
    own = _new(type(items))
    own.__dict__.update(items.__dict__)
    own._data = items._data.copy()
    return own


def copy_instance(inst: CIMInstance, path: CIMInstanceName | None) -> CIMInstance:
    """A copy of ``inst`` whose path is ``path`` itself (a fresh copy the caller
    made, e.g. with :func:`copy_path`): what ``inst.copy()`` then setting the
    path gives -- its own property and qualifier dictionaries, the property and
    qualifier objects shared, as ``CIMInstance.copy`` shares them -- without
    copying the path twice and re-validating every property."""
    out = _new(CIMInstance)
    out._classname = inst._classname
    out._properties = _own(inst._properties)
    out._qualifiers = _own(inst._qualifiers)
    out._path = path
    return out


def with_namespace(path: CIMInstanceName, namespace: str, host=None) -> CIMInstanceName:
    """A copy of ``path`` with a namespace (the given one if it has none)."""
    return copy_path(path, path._namespace or namespace, host)
