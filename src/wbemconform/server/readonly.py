"""The read-only rules of the served mock (``serve(..., read_only=True)``,
``wbemconform serve --read-only``), one rule for CIM-XML and WS-Management:
refuse writes, not reads.

* every intrinsic operation that changes the mock (:data:`WRITE_METHODS`)
  is refused with ``CIM_ERR_ACCESS_DENIED`` before the mock is touched;
* an extrinsic method may change anything, so every one is refused the same
  way -- except the methods known to only read (:data:`READ_METHODS`:
  DSP1033 1.1's GetCentralInstances, which returns references), which go to
  the mock as on a writable server and get its answer.

A writable server hands every extrinsic method to the mock, which answers a
declared method without a provider with ``CIM_ERR_NOT_SUPPORTED``
(:mod:`wbemconform.mock.methods`); a read-only one answers such a method
``CIM_ERR_ACCESS_DENIED``, without asking whether a provider would have
written.
"""

from __future__ import annotations

from pywbem import CIM_ERR_ACCESS_DENIED, CIMError

from ..mock.methods import READ_METHOD_NAMES, READ_METHODS

__all__ = ["WRITE_METHODS", "READ_METHODS", "check_intrinsic", "check_extrinsic",
           "method_declaration"]

#: The intrinsic operations that change the mock: refused by a read-only
#: server with CIM_ERR_ACCESS_DENIED.
WRITE_METHODS = frozenset({
    "CreateInstance", "ModifyInstance", "DeleteInstance", "CreateClass", "ModifyClass",
    "DeleteClass", "SetQualifier", "DeleteQualifier"})


def check_intrinsic(method, read_only):
    """CIMError (CIM_ERR_ACCESS_DENIED) for a write operation on a read-only server."""
    if read_only and method in WRITE_METHODS:
        raise CIMError(CIM_ERR_ACCESS_DENIED,
                       f"this server is read-only: {method} is refused")


def check_extrinsic(name, read_only):
    """CIMError (CIM_ERR_ACCESS_DENIED) for an extrinsic method a read-only
    server refuses: every one but :data:`READ_METHODS`."""
    if read_only and str(name).lower() not in READ_METHODS:
        raise CIMError(CIM_ERR_ACCESS_DENIED,
                       f"this server is read-only: extrinsic method {name} is refused (the "
                       f"methods known to only read: {', '.join(sorted(READ_METHOD_NAMES))})")


def method_declaration(conn, path, name):
    """The ``CIMMethod`` ``name`` of the class of ``path`` (an instance or
    class path with its namespace) as the mock declares it, or None (the
    mock's InvokeMethod then answers its own error)."""
    try:
        cls = conn.GetClass(path.classname, namespace=path.namespace, LocalOnly=False,
                            IncludeQualifiers=True)
    except CIMError:
        return None
    return cls.methods.get(name)
