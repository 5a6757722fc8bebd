"""The read-only rules of the served mock (``serve(..., read_only=True)``,
``wbemconform serve --read-only``): every intrinsic operation that changes
the mock (:data:`WRITE_METHODS`) and every extrinsic method call, which may
change anything, is refused with ``CIM_ERR_ACCESS_DENIED`` before the mock
is touched. (Extrinsic methods are refused either way: the WMI mock serves
none, so a writable server answers ``CIM_ERR_NOT_SUPPORTED``.)"""

from __future__ import annotations

from pywbem import CIM_ERR_ACCESS_DENIED, CIM_ERR_NOT_SUPPORTED, CIMError

#: The intrinsic operations that change the mock: refused by a read-only
#: server with CIM_ERR_ACCESS_DENIED, as is every extrinsic method call
#: (InvokeMethod), which may change anything.
WRITE_METHODS = frozenset({
    "CreateInstance", "ModifyInstance", "DeleteInstance", "CreateClass", "ModifyClass",
    "DeleteClass", "SetQualifier", "DeleteQualifier"})


def check_intrinsic(method, read_only):
    """CIMError (CIM_ERR_ACCESS_DENIED) for a write operation on a read-only server."""
    if read_only and method in WRITE_METHODS:
        raise CIMError(CIM_ERR_ACCESS_DENIED,
                       f"this server is read-only: {method} is refused")


def extrinsic_refusal(name, read_only):
    """(status code, description) of the answer to the extrinsic method ``name``."""
    if read_only:
        return CIM_ERR_ACCESS_DENIED, (f"this server is read-only: extrinsic method {name} "
                                       f"is refused")
    return CIM_ERR_NOT_SUPPORTED, (f"extrinsic method {name} is not supported by this "
                                   f"server")
