"""A WS-Management client with pywbem's operation methods, for the checks.

:class:`WsmanConnection` answers the operations the checks use -- ``EnumerateInstances``,
``EnumerateInstanceNames``, ``GetInstance``, ``AssociatorNames``, ``Associators``,
``ReferenceNames``, ``References``, ``ExecQuery``, ``InvokeMethod``, ``GetClass`` and the
instance writes (:mod:`.wsman_writes`: WS-Transfer Create, Put, Delete) -- with pywbem's
objects, by DMTF DSP0226/DSP0227 messages built and read by :mod:`wbemconform.wsman`:

* enumerations are Enumerate (``OptimizeEnumeration``, ``MaxElements``,
  ``EnumerateEPR`` for paths, ``EnumerateObjectAndEPR`` for instances) and
  Pulls to the end; the whole sequence is ONE operation, bounded by the
  transport's deadline, and at most :data:`MAX_EMPTY_PULLS` Pulls in a row
  may bring nothing. An enumeration abandoned before its end (a fault, a
  garbled answer, the deadline) is Released, best effort;
* associations are enumerations of the "all classes" resource URI in the
  source object's namespace with DSP0227's association filter:
  ``wsmb:AssociatedInstances`` (AssocClass, ResultClass, Role, ResultRole)
  and ``wsmb:AssociationInstances`` (ResultClass, Role);
* GetInstance is a Get on the concrete class's resource URI with the key selectors and
  ``__cimnamespace``; ExecQuery an Enumerate with the WQL filter; InvokeMethod a custom action;
* GetClass is a Get on :data:`CLASS_URI` with selectors ``ClassName`` and
  ``__cimnamespace``, answered with a DSP0201 ``<CLASS>`` -- a form some
  servers (OMI) offer and others lack: :meth:`WsmanConnection.probe_classes`
  asks once. Where it exists, values are typed from the classes (cached);
  where not, values stay text (compare with ``canonical_text``).

Operations WS-Management lacks (the pull operations, class enumeration, class and
qualifier operations) raise ``CIMError(CIM_ERR_NOT_SUPPORTED)`` without sending anything. A
fault whose CIM status the server says becomes ``CIMError(status, ...)``; one whose status
it does not say becomes :class:`~.base.UndeterminedCIMError`. A garbled answer is
``pywbem.ParseError``, as over CIM-XML.
"""

from __future__ import annotations

import threading
import time
from copy import deepcopy

import pywbem
from lxml import etree
from pywbem import CIMError, CIMInstanceName

from ..wsman import (AssociatedInstancesFilter, AssociationInstancesFilter, WqlFilter,
                     WsmanFault, WsmanProtocolError, build_enumerate, build_get,
                     build_get_instance, build_invoke, build_pull, build_release,
                     parse_enumerate_response, parse_get_response, parse_invoke_response,
                     parse_pull_response, parse_release_response, path_to_epr, read_response)
from ..wsman.names import MODE_EPR, MODE_OBJECT_AND_EPR
from ..wsman.resource_uri import UnknownResourceUri
from ..wsman.values import WsmanDecodeError
from ..wsman.xmlsafe import XmlError
from . import pywbem_adapter
from .base import UndeterminedCIMError
from .transport import current_deadline, start_thread
from .wsman_writes import TransferWrites

__all__ = ["WsmanConnection", "EnumerationNotEndingError", "CLASS_URI", "MAX_EMPTY_PULLS",
           "NOT_SUPPORTED"]

#: the resource URI of class retrieval (OMI's form: a Get answered with a DSP0201 CLASS)
CLASS_URI = "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/*"
#: Pulls in a row that may bring no item before the enumeration is given up
MAX_EMPTY_PULLS = 20
#: items asked for per Enumerate/Pull
MAX_ELEMENTS = 100
#: WinRM's default largest envelope (MaxEnvelopeSizekb 150); asked for explicitly
MAX_ENVELOPE_SIZE = 153600
_RELEASE_BOUND = 5.0  # seconds a Release sent after the deadline may take

#: pywbem operations WS-Management has no message for -> why
NOT_SUPPORTED = {
    **{name: "WS-Management has one enumeration mechanism (Enumerate/Pull), not DSP0200's "
             "pull operations" for name in (
                 "OpenEnumerateInstances", "OpenEnumerateInstancePaths",
                 "OpenAssociatorInstances", "OpenAssociatorInstancePaths",
                 "OpenReferenceInstances", "OpenReferenceInstancePaths", "OpenQueryInstances",
                 "PullInstancesWithPath", "PullInstancePaths", "PullInstances",
                 "CloseEnumeration")},
    **{name: "WS-Management (DSP0227) has no class enumeration" for name in (
        "EnumerateClassNames", "EnumerateClasses")},
    **{name: "WS-Management (DSP0227) has no class or qualifier operations" for name in (
        "CreateClass", "ModifyClass", "DeleteClass", "GetQualifier", "SetQualifier",
        "DeleteQualifier", "EnumerateQualifiers")},
}


class EnumerationNotEndingError(pywbem.ParseError):
    """An enumeration whose Pulls keep bringing nothing (a server defect)."""


def _not_supported(operation):
    def refuse(*_args, **_kwargs):
        raise CIMError(pywbem.CIM_ERR_NOT_SUPPORTED,
                       f"{operation} is not available over WS-Management: "
                       f"{NOT_SUPPORTED[operation]}")
    refuse.__name__ = operation
    return refuse


def cim_error_of(fault: WsmanFault) -> CIMError:
    """The CIMError of a fault: its CIM status when the server said it, else
    :class:`UndeterminedCIMError` naming the subcode and reason."""
    text = fault.reason or fault.message or "(no reason given)"
    if fault.cim_status is not None:
        return CIMError(fault.cim_status, f"{text} (WS-Management fault {fault.subcode})")
    return UndeterminedCIMError(
        f"{fault.summary()} -- the fault names no CIM status (subcode {fault.subcode}, "
        f"reason {text!r})", subcode=fault.subcode, reason=text)


class WsmanConnection(TransferWrites, pywbem.WBEMConnection):
    """pywbem's operation methods over WS-Management (see the module docstring).

    ``poster.post(body, operation)`` sends one envelope and returns the
    answer's; ``uri_map`` is the codec's :class:`~wbemconform.wsman.ResourceUriMap`.

    A ``pywbem.WBEMConnection`` by type, so that what takes one (pywbem's
    ``WBEMServer``, which checks the type) takes this too; but every operation
    method is this class's own -- answered over WS-Management, or refused
    without sending anything (:data:`NOT_SUPPORTED`, :func:`_refuse_the_rest`):
    nothing ever goes out as CIM-XML. ``url`` is the WS-Management address
    (its path included), the ``wsa:To`` of every message."""

    def __init__(self, poster, uri_map, *, default_namespace="root/interop",
                 max_response_bytes=16 * 1024 * 1024, operation_timeout=None,
                 max_elements=MAX_ELEMENTS, max_empty_pulls=MAX_EMPTY_PULLS):
        self.poster = poster
        # no credentials, no pull operations: pywbem's own sending is never used
        super().__init__(poster.url, default_namespace=default_namespace,
                         use_pull_operations=False)
        self.uri_map = uri_map
        self.max_response_bytes = max_response_bytes
        self.operation_timeout = operation_timeout
        self.max_elements = max_elements
        self.max_empty_pulls = max_empty_pulls
        #: None until probed; then whether GetClass works (class-retrieval)
        self.class_retrieval = None
        self._classes = {}  # (namespace lower, classname lower) -> CIMClass or None
        self._lock = threading.Lock()
        for name in NOT_SUPPORTED:
            setattr(self, name, _not_supported(name))

    @property
    def url(self):
        """The WS-Management address (path included): every message's ``wsa:To``."""
        return self.poster.url

    def __repr__(self):
        return f"WsmanConnection({self.url!r}, {self.uri_map!r})"

    __str__ = __repr__

    # -- sending -------------------------------------------------------------------

    def _options(self):
        return {"operation_timeout": self.operation_timeout,
                "max_envelope_size": MAX_ENVELOPE_SIZE}

    sent_envelope = None  # the first request posted since take_envelope(): evidence

    def take_envelope(self):
        body, self.sent_envelope = self.sent_envelope, None
        return body

    def _exchange(self, operation, body, parse):
        """Post ``body``, ``parse(answer)``; faults -> CIMError, garble -> ParseError."""
        if self.sent_envelope is None:
            self.sent_envelope = body
        answer = self.poster.post(body, operation)
        try:
            return parse(answer)
        except WsmanFault as fault:
            raise cim_error_of(fault) from None
        except (XmlError, WsmanProtocolError, WsmanDecodeError, UnknownResourceUri) as exc:
            raise pywbem.ParseError(f"{operation}: the answer is no WS-Management answer "
                                    f"the client can read: {exc}") from None

    def _limits(self):
        return {"max_bytes": self.max_response_bytes}

    def _ns(self, namespace):
        return (namespace or self.default_namespace).strip("/")

    # -- classes -------------------------------------------------------------------

    def probe_classes(self, namespace=None, classname="CIM_ManagedElement"):
        """Whether class retrieval works: one Get of a class every CIM server has (a fault
        or a garbled answer: no; a transport failure is raised), asked again in pywbem's
        other interop namespaces while the server has no such namespace."""
        first, self.class_retrieval = self._ns(namespace), False
        for ns in [first] + [n for n in pywbem.WBEMServer.INTEROP_NAMESPACES if n != first]:
            try:
                self.class_retrieval = bool(self._get_class(classname, ns, local_only=True))
            except CIMError as exc:
                if exc.status_code == pywbem.CIM_ERR_INVALID_NAMESPACE:
                    continue
            except (pywbem.ParseError, pywbem.CIMXMLParseError, pywbem.XMLParseError):
                pass
            break
        return self.class_retrieval

    def _get_class(self, classname, namespace, *, local_only=False, qualifiers=True,
                   class_origin=False):
        options = {"IncludeInheritedElements": "false" if local_only else "true",
                   "IncludeQualifiers": "true" if qualifiers else "false",
                   "IncludeClassOrigin": "true" if class_origin else "false"}
        body = build_get(self.url, CLASS_URI, selectors={"ClassName": classname,
                                                         "__cimnamespace": namespace},
                         option_set=options, **self._options())

        def parse(answer):
            env = read_response(answer, **self._limits())
            payload = env.payload
            if payload is None or payload.tag != "CLASS":
                raise WsmanProtocolError("the class Get answered no DSP0201 <CLASS>")
            payload = deepcopy(payload)  # out of the envelope, without its declarations
            etree.cleanup_namespaces(payload)
            return pywbem_adapter.parse_class_xml(etree.tostring(payload))
        cls = self._exchange("GetClass", body, parse)
        if cls.classname.lower() != classname.lower():
            raise pywbem.ParseError(f"GetClass {classname}: the server answered the class "
                                    f"{cls.classname}")
        cls.path = pywbem.CIMClassName(cls.classname, namespace=namespace)
        return cls

    def _class_for(self, namespace):
        """A ``classname -> CIMClass or None`` lookup for typing values (cached)."""
        if not self.class_retrieval:
            return None

        def lookup(classname):
            key = (namespace.lower(), classname.lower())
            with self._lock:
                if key in self._classes:
                    return self._classes[key]
            try:
                cls = self._get_class(classname, namespace)
            except (CIMError, pywbem.ParseError, pywbem.CIMXMLParseError,
                    pywbem.XMLParseError):
                cls = None
            with self._lock:
                self._classes[key] = cls
            return cls
        return lookup

    def _parse_typed(self, parse, answer, class_namespace, **kwargs):
        """``parse`` with the values typed from the classes; untyped when a
        value does not read as its declared type (kept, not lost)."""
        classes = self._class_for(class_namespace)
        if classes is not None:
            try:
                return parse(answer, classes=classes, **kwargs)
            except WsmanDecodeError:
                pass
        return parse(answer, classes=None, **kwargs)

    # -- enumerations -----------------------------------------------------------------

    def _enumerate(self, operation, resource_uri, namespace, *, mode, filter=None):
        """Every item of one Enumerate + Pulls sequence (see the module docstring)."""
        uri_map = self.uri_map
        body = build_enumerate(self.url, resource_uri, namespace=namespace, mode=mode,
                               optimize=True, max_elements=self.max_elements, filter=filter,
                               uri_map=uri_map, **self._options())
        result = self._exchange(operation, body, lambda answer: self._parse_typed(
            parse_enumerate_response, answer, namespace, uri_map=uri_map, namespace=namespace,
            **self._limits()))
        items = list(result.items)
        context = result.context
        ended = result.end_of_sequence
        try:
            empty = 0
            while not ended:
                if not context:
                    raise pywbem.ParseError(f"{operation}: the enumeration is not at its end, "
                                            "but the server gave no context to pull with")
                body = build_pull(self.url, resource_uri, context,
                                  max_elements=self.max_elements, namespace=namespace,
                                  uri_map=uri_map, **self._options())
                result = self._exchange(operation, body, lambda answer: self._parse_typed(
                    parse_pull_response, answer, namespace, uri_map=uri_map,
                    namespace=namespace, **self._limits()))
                items.extend(result.items)
                ended = result.end_of_sequence
                context = result.context or (None if ended else context)
                empty = 0 if result.items else empty + 1
                if not ended and empty >= self.max_empty_pulls:
                    raise EnumerationNotEndingError(
                        f"{operation}: {empty} Pulls in a row brought nothing and the "
                        "enumeration did not end; given up (a server defect)")
        except BaseException:
            if context and not ended:
                self._release(resource_uri, context, namespace)
            raise
        return items

    def _release(self, resource_uri, context, namespace):
        """Release an abandoned enumeration, best effort: at once while the
        operation's deadline lasts, else from a short-lived thread."""
        body = build_release(self.url, resource_uri, context, namespace=namespace,
                             uri_map=self.uri_map)

        def send():
            try:
                parse_release_response(self.poster.post(body, "Release"), check_action=False,
                                       **self._limits())
            except Exception:  # noqa: BLE001 -- best effort: the enumeration failed anyway
                pass
        deadline = current_deadline()
        if deadline is None or deadline - time.monotonic() > 0.5:
            send()
        else:
            thread = threading.Thread(target=send, name="wbemconform Release", daemon=True)
            start_thread(thread)
            thread.join(_RELEASE_BOUND)

    def _class_uri(self, classname, namespace, operation):
        try:
            return self.uri_map.uri_for(classname, namespace)
        except ValueError as exc:
            raise CIMError(pywbem.CIM_ERR_INVALID_PARAMETER, f"{operation}: {exc}") from None

    @staticmethod
    def _instances(items, namespace, property_list=None):
        out = []
        for item in items:
            inst = item.instance
            if inst is None:
                continue
            if inst.path is None and item.path is not None:
                inst.path = item.path
            if inst.path is not None and not inst.path.namespace:
                inst.path.namespace = namespace
            if property_list is not None:
                wanted = {p.lower() for p in property_list}
                for name in [n for n in inst.properties if n.lower() not in wanted]:
                    del inst.properties[name]
            out.append(inst)
        return out

    @staticmethod
    def _paths(items, namespace):
        out = []
        for item in items:
            path = item.path if item.path is not None else (
                item.instance.path if item.instance is not None else None)
            if path is None:
                continue
            if not path.namespace:
                path.namespace = namespace
            out.append(path)
        return out

    # -- the operations ---------------------------------------------------------------

    def EnumerateInstances(self, ClassName, namespace=None, LocalOnly=None,  # noqa: N802,N803
                           DeepInheritance=None, IncludeQualifiers=None,
                           IncludeClassOrigin=None, PropertyList=None):
        ns = self._ns(namespace)
        items = self._enumerate("EnumerateInstances",
                                self._class_uri(str(ClassName), ns, "EnumerateInstances"), ns,
                                mode=MODE_OBJECT_AND_EPR)
        return self._instances(items, ns, PropertyList)

    def EnumerateInstanceNames(self, ClassName, namespace=None):  # noqa: N802,N803
        ns = self._ns(namespace)
        items = self._enumerate("EnumerateInstanceNames",
                                self._class_uri(str(ClassName), ns, "EnumerateInstanceNames"),
                                ns, mode=MODE_EPR)
        return self._paths(items, ns)

    def _object_path(self, ObjectName, operation):  # noqa: N803
        if not isinstance(ObjectName, CIMInstanceName):
            raise CIMError(pywbem.CIM_ERR_NOT_SUPPORTED,
                           f"{operation} of a class is not available over WS-Management")
        path = ObjectName.copy()
        path.namespace = self._ns(path.namespace)
        path.host = None
        return path

    def GetInstance(self, InstanceName, LocalOnly=None, IncludeQualifiers=None,  # noqa: N802,N803
                    IncludeClassOrigin=None, PropertyList=None):
        path = self._object_path(InstanceName, "GetInstance")
        body = self._request("GetInstance", build_get_instance, path, self.uri_map)
        inst = self._exchange("GetInstance", body, lambda answer: self._parse_typed(
            parse_get_response, answer, path.namespace, uri_map=self.uri_map, path=path,
            namespace=path.namespace, **self._limits()))
        return self._instances([_Item(inst, path)], path.namespace, PropertyList)[0]

    def _associations(self, operation, ObjectName, flt, mode):  # noqa: N803
        path = self._object_path(ObjectName, operation)
        flt.object = path
        items = self._enumerate(operation, self.uri_map.all_classes_uri(path.namespace),
                                path.namespace, mode=mode, filter=flt)
        return items, path.namespace

    def AssociatorNames(self, ObjectName, AssocClass=None, ResultClass=None,  # noqa: N802,N803
                        Role=None, ResultRole=None):
        items, ns = self._associations("AssociatorNames", ObjectName, AssociatedInstancesFilter(
            None, association_class=_name(AssocClass), result_class=_name(ResultClass),
            role=Role, result_role=ResultRole), MODE_EPR)
        return self._paths(items, ns)

    def Associators(self, ObjectName, AssocClass=None, ResultClass=None, Role=None,  # noqa: N802,N803
                    ResultRole=None, IncludeQualifiers=None, IncludeClassOrigin=None,
                    PropertyList=None):
        items, ns = self._associations("Associators", ObjectName, AssociatedInstancesFilter(
            None, association_class=_name(AssocClass), result_class=_name(ResultClass),
            role=Role, result_role=ResultRole), MODE_OBJECT_AND_EPR)
        return self._instances(items, ns, PropertyList)

    def ReferenceNames(self, ObjectName, ResultClass=None, Role=None):  # noqa: N802,N803
        items, ns = self._associations("ReferenceNames", ObjectName, AssociationInstancesFilter(
            None, result_class=_name(ResultClass), role=Role), MODE_EPR)
        return self._paths(items, ns)

    def References(self, ObjectName, ResultClass=None, Role=None,  # noqa: N802,N803
                   IncludeQualifiers=None, IncludeClassOrigin=None, PropertyList=None):
        items, ns = self._associations("References", ObjectName, AssociationInstancesFilter(
            None, result_class=_name(ResultClass), role=Role), MODE_OBJECT_AND_EPR)
        return self._instances(items, ns, PropertyList)

    def ExecQuery(self, QueryLanguage, Query, namespace=None):  # noqa: N802,N803
        if str(QueryLanguage).upper() not in ("WQL", "DMTF:WQL"):
            raise CIMError(pywbem.CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                           f"ExecQuery: only WQL is sent over WS-Management, not "
                           f"{QueryLanguage}")
        ns = self._ns(namespace)
        items = self._enumerate("ExecQuery", self.uri_map.all_classes_uri(ns), ns,
                                mode=MODE_OBJECT_AND_EPR, filter=WqlFilter(str(Query)))
        return self._instances(items, ns)

    def InvokeMethod(self, MethodName, ObjectName, Params=None, **params):  # noqa: N802,N803
        values = {}
        for name, value in list(Params or []) + list(params.items()):
            values[name] = value.value if isinstance(value, pywbem.CIMParameter) else value
        if isinstance(ObjectName, CIMInstanceName):
            path = self._object_path(ObjectName, "InvokeMethod")
            epr = path_to_epr(path, self.uri_map)
            uri, selectors, ns = epr.resource_uri, epr.selectors, path.namespace
        else:
            name = getattr(ObjectName, "classname", ObjectName)
            ns = self._ns(getattr(ObjectName, "namespace", None))
            uri = self._class_uri(str(name), ns, "InvokeMethod")
            selectors = None
        body = build_invoke(self.url, uri, MethodName, values, selectors=selectors,
                            namespace=ns if selectors is None else None, uri_map=self.uri_map,
                            **self._options())
        lookup = self._class_for(ns)  # the answer typed by the method's declaration
        cls = lookup(getattr(ObjectName, "classname", str(ObjectName))) if lookup else None
        decl = cls.methods.get(MethodName) if cls is not None else None
        return_value, out = self._exchange("InvokeMethod", body, lambda answer: (
            parse_invoke_response(answer, MethodName, resource_uri=uri, uri_map=self.uri_map,
                                  namespace=ns, method_decl=decl, **self._limits())))
        return return_value, out

    def GetClass(self, ClassName, namespace=None, LocalOnly=None,  # noqa: N802,N803
                 IncludeQualifiers=None, IncludeClassOrigin=None, PropertyList=None):
        if self.class_retrieval is False:
            raise CIMError(pywbem.CIM_ERR_NOT_SUPPORTED,
                           "GetClass is not available over WS-Management from this server "
                           "(it offers no class retrieval)")
        return self._get_class(str(ClassName), self._ns(namespace),
                               local_only=LocalOnly is not False,
                               qualifiers=IncludeQualifiers is not False,
                               class_origin=bool(IncludeClassOrigin))


def _refuse_the_rest(cls):
    """Every other operation method of pywbem's WBEMConnection (one a later
    pywbem adds, ExportIndication) refused on ``cls`` without sending: its
    inherited body would speak CIM-XML. pywbem's Iter* methods stay: without
    pull operations they call the classic methods, which are this class's."""
    for name in dir(pywbem.WBEMConnection):
        inherited = getattr(pywbem.WBEMConnection, name)
        if name[:1].isupper() and not name.startswith("Iter") and callable(inherited) \
                and getattr(cls, name) is inherited:
            NOT_SUPPORTED.setdefault(
                name, "not an operation wbemconform's WS-Management client sends")
            setattr(cls, name, _not_supported(name))
    return cls


_refuse_the_rest(WsmanConnection)


class _Item:
    """An instance and its path, shaped like an enumeration item."""

    def __init__(self, instance, path):
        self.instance = instance
        self.path = path


def _name(value):
    return getattr(value, "classname", value) if value is not None else None
