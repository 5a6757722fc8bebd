"""The instance writes of the WS-Management client: pywbem's CreateInstance,
ModifyInstance and DeleteInstance as WS-Transfer Create, Put and Delete.

A mixin of :class:`.wsman_conn.WsmanConnection` (its sending, limits and
class lookup); the messages are the codec's (:mod:`wbemconform.wsman.transfer`,
DSP0226 7.4-7.6 with DSP0227's CIM binding):

==============================================  ========================================
pywbem                                          WS-Management
==============================================  ========================================
``CreateInstance(NewInstance, namespace)``      Create at the class's resource URI
                                                (``__cimnamespace``), the instance as
                                                the body; returns the path the
                                                ``wxf:ResourceCreated`` EPR names
``ModifyInstance(ModifiedInstance, ...)``       Put at the instance's resource URI and
                                                key selectors, the instance as the body
                                                (only the ``PropertyList`` properties
                                                and the keys when one is given)
``DeleteInstance(InstanceName)``                Delete at the resource URI and key
                                                selectors
==============================================  ========================================

Each is one exchange, bounded by the transport's deadline as every operation
is; a fault becomes ``CIMError`` as for the reads (the status the server
says, else :class:`~.base.UndeterminedCIMError`), a garbled answer
``pywbem.ParseError``. Whether a write is sent at all is the target's
decision (:meth:`.base.Target._refuse`: only with ``writes``, i.e.
``--wbem-allow-writes``).
"""

from __future__ import annotations

import pywbem
from pywbem import CIMError, CIMInstance, CIMInstanceName

from ..wsman import (build_create, build_delete, build_put, parse_create_response,
                     parse_delete_response, parse_put_response)

__all__ = ["TransferWrites"]


class TransferWrites:
    """CreateInstance, ModifyInstance and DeleteInstance over WS-Transfer (a
    mixin: ``self`` has WsmanConnection's ``_exchange``, ``_options``,
    ``_limits``, ``_ns``, ``_object_path``, ``_parse_typed`` and ``uri_map``;
    its reads use :meth:`_request` too)."""

    def _request(self, operation, build, *args):
        """The request ``build(url, *args, **options)`` makes (GetInstance's
        too); a value the codec cannot send is CIM_ERR_INVALID_PARAMETER."""
        try:
            return build(self.url, *args, **self._options())
        except ValueError as exc:
            raise CIMError(pywbem.CIM_ERR_INVALID_PARAMETER, f"{operation}: {exc}") from None

    def CreateInstance(self, NewInstance, namespace=None):  # noqa: N802,N803
        if not isinstance(NewInstance, CIMInstance):
            raise TypeError(f"CreateInstance: NewInstance must be a CIMInstance, not "
                            f"{type(NewInstance).__name__}")
        ns = self._ns(namespace or (NewInstance.path.namespace
                                    if NewInstance.path is not None else None))
        body = self._request("CreateInstance", build_create, NewInstance, ns, self.uri_map)
        path = self._exchange("CreateInstance", body, lambda answer: self._parse_typed(
            parse_create_response, answer, ns, uri_map=self.uri_map, namespace=ns,
            **self._limits()))
        if not path.namespace:
            path.namespace = ns
        path.host = None
        return path

    def ModifyInstance(self, ModifiedInstance, IncludeQualifiers=None,  # noqa: N802,N803
                       PropertyList=None):
        if not isinstance(ModifiedInstance, CIMInstance) or not isinstance(
                ModifiedInstance.path, CIMInstanceName):
            raise CIMError(pywbem.CIM_ERR_INVALID_PARAMETER,
                           "ModifyInstance: the instance needs its instance path")
        path = self._object_path(ModifiedInstance.path, "ModifyInstance")
        instance = ModifiedInstance.copy()
        if PropertyList is not None:
            wanted = {p.lower() for p in PropertyList} | {k.lower() for k in path.keybindings}
            for name in [n for n in instance.properties if n.lower() not in wanted]:
                del instance.properties[name]
        body = self._request("ModifyInstance", build_put, path, instance, self.uri_map)
        self._exchange("ModifyInstance", body, lambda answer: self._parse_typed(
            parse_put_response, answer, path.namespace, uri_map=self.uri_map, path=path,
            namespace=path.namespace, **self._limits()))

    def DeleteInstance(self, InstanceName):  # noqa: N802,N803
        path = self._object_path(InstanceName, "DeleteInstance")
        body = self._request("DeleteInstance", build_delete, path, self.uri_map)
        self._exchange("DeleteInstance", body, lambda answer: parse_delete_response(
            answer, **self._limits()))
