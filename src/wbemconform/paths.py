"""Comparable keys for instance paths, whatever their spelling.

Two spellings of one instance path -- class name case, key name case, a
missing namespace meaning "the namespace of the request", a host or none --
give the same key, so paths can index dictionaries.
"""

from __future__ import annotations

from pywbem import CIMInstanceName


def normalize_namespace(ns: str | None) -> str | None:
    """A namespace name for comparisons: no leading/trailing '/', lower case."""
    return ns.strip("/").lower() if ns else None


ns_key = normalize_namespace


def path_key(path: CIMInstanceName, default_namespace: str | None = None):
    ns = normalize_namespace(path.namespace) or normalize_namespace(default_namespace)
    keys = tuple(sorted((name.lower(), _key_value(value, ns))
                        for name, value in path.keybindings.items()))
    return (ns, path.classname.lower(), keys)


def _key_value(value, ns):
    if isinstance(value, CIMInstanceName):
        return path_key(value, ns)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return str(value)


def with_namespace(path: CIMInstanceName, namespace: str, host=None) -> CIMInstanceName:
    """A copy of ``path`` with a namespace (the given one if it has none)."""
    out = path.copy()
    if not out.namespace:
        out.namespace = namespace
    out.namespace = out.namespace.strip("/")
    out.host = host
    return out
