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
    # normalize_namespace(path.namespace) or normalize_namespace(default),
    # spelled out: this runs for every path a run compares (millions)
    ns = path.namespace
    if ns:
        ns = ns.strip("/").lower()
    if not ns:
        ns = default_namespace.strip("/").lower() if default_namespace else None
    keys = [(name.lower(), value if type(value) is str else _key_value(value, ns))
            for name, value in path.keybindings.items()]
    if len(keys) > 1:
        keys.sort()  # key names are unique (case-insensitively): values never compared
    return (ns, path.classname.lower(), tuple(keys))


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
