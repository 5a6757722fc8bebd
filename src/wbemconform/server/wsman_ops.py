"""What each WS-Management request asks of the mock: one pywbem call each.

Called by :mod:`wbemconform.server.wsman` under the mock's lock, with a
parsed :class:`wbemconform.wsman.WsmanRequest`; a ``CIMError`` of the mock
goes back as it is (the app turns it into a fault with the same
``CIMStatusCode``), so that over WS-Management the client sees exactly what
the mock answers in process:

=============================================  ==================================================
request                                        the mock's operation
=============================================  ==================================================
Get, class URI + key selectors                 ``GetInstance(path, LocalOnly=False)``
Get, :data:`CLASS_RETRIEVAL_URI` + ClassName   ``GetClass(LocalOnly=False, IncludeQualifiers=True,
                                               IncludeClassOrigin=True)``
Enumerate, class URI, no filter                ``EnumerateInstances`` (``EnumerateInstanceNames``
                                               for ``EnumerateEPR``), deep, all properties
Enumerate, WQL filter                          ``ExecQuery("WQL", ...)`` (EPRs: the results' paths)
Enumerate, ``wsmb:AssociatedInstances``        ``Associators`` / ``AssociatorNames``
Enumerate, ``wsmb:AssociationInstances``       ``References`` / ``ReferenceNames``
custom action ``<resource URI>/<method>``      ``InvokeMethod`` (on the path, or on the class
                                               without key selectors)
Create, class URI, the instance as the body    ``CreateInstance(instance, namespace)``
Put, class URI + key selectors, the instance   ``ModifyInstance(instance)`` (its path: the
                                               selectors')
Delete, class URI + key selectors              ``DeleteInstance(path)``
=============================================  ==================================================

The writes' instance element is typed by the class's declarations as the
selectors are (reference values are EPRs, typed the same way); one that is
not of the resource URI's class, or does not read, is
``wxf:InvalidRepresentation``. Whether a write reaches the mock at all is
the app's decision (``--read-only``: refused before it, see
:mod:`wbemconform.server.readonly`).

The CIM namespace is the ``__cimnamespace`` selector, else the one a WinRM
``wmi/<namespace>/<class>`` URI carries, else WinRM's default
:data:`DEFAULT_NAMESPACE`. Selector values (and an association filter's
Object) arrive as text: they are typed by the class's key declarations
(``GetClass`` first; if that fails the untyped path goes to the mock, which
then answers its own error), nested EPRs (reference keys) included.
"""

from __future__ import annotations

from pywbem import (CIM_ERR_INVALID_PARAMETER, CIM_ERR_INVALID_QUERY, CIMClassName, CIMError,
                    CIMInstanceName, CIMParameter, cimtype)

from ..wql import WqlSyntaxError, check_query_length
from ..wsman import (AssociatedInstancesFilter, AssociationInstancesFilter, Epr,
                     UnknownResourceUri, WqlFilter, WsmanDecodeError, WsmanFault,
                     epr_to_path, instance_from_xml)
from ..wsman.cim import local_name
from ..wsman.names import (CIMNAMESPACE_SELECTOR, CLASS_RETRIEVAL_URI, CLASSNAME_SELECTOR,
                           FAULT_DETAIL, MODE_EPR)
from ..wsman.values import decode_text
from .readonly import check_extrinsic, method_declaration

#: WinRM's CIM namespace when a request names none (MS-WSMV 3.1.4.1.1)
DEFAULT_NAMESPACE = "root/cimv2"
#: deepest nesting of reference keys typed (an EPR key of an EPR key ...)
_MAX_KEY_DEPTH = 8


def fault(subcode, reason, detail=None):
    """A fault to answer with (no CIM status: the request never reached the mock)."""
    return WsmanFault(subcode, reason, fault_detail=(FAULT_DETAIL + detail) if detail else None)


def normalize_namespace(namespace):
    """``root\\cimv2`` and ``/root/cimv2/`` as ``root/cimv2``."""
    return "/".join(part for part in str(namespace).replace("\\", "/").split("/") if part)


class Resource:
    """What a request's resource URI names: ``classname`` (None: all
    classes), ``namespace`` (never None), whether it is the class retrieval URI."""

    def __init__(self, req, uri_map):
        self.uri = (req.resource_uri or "").strip()
        self.class_retrieval = self.uri == CLASS_RETRIEVAL_URI
        self.classname = None
        namespace = next((v for k, v in req.selectors.items()
                          if k.lower() == CIMNAMESPACE_SELECTOR and isinstance(v, str)), None)
        if not self.uri:
            raise fault("wsa:DestinationUnreachable", "the request has no wsman:ResourceURI",
                        "InvalidResourceURI")
        if not self.class_retrieval:
            try:
                parsed = uri_map.parse(self.uri)
            except UnknownResourceUri as exc:
                raise fault("wsa:DestinationUnreachable", str(exc), "InvalidResourceURI") \
                    from None
            self.classname = parsed.classname
            namespace = namespace or parsed.namespace
        self.namespace = normalize_namespace(namespace or DEFAULT_NAMESPACE) or DEFAULT_NAMESPACE

    def need_class(self, what):
        if self.classname is None:
            raise fault("wsa:DestinationUnreachable",
                        f"{what} needs the resource URI of one class, not {self.uri[:200]!r}",
                        "InvalidResourceURI")
        return self.classname


# -- typing selectors ---------------------------------------------------------------

class KeyTyper:
    """Types the text keys of paths by their classes' declarations (one
    ``GetClass`` per class and namespace per request)."""

    def __init__(self, conn, uri_map):
        self.conn = conn
        self.uri_map = uri_map
        self._classes = {}

    def cimclass(self, classname, namespace):
        """The class (all properties and methods), or None if the mock has none."""
        key = (classname.lower(), (namespace or "").lower())
        if key not in self._classes:
            try:
                self._classes[key] = self.conn.GetClass(classname, namespace=namespace,
                                                        LocalOnly=False,
                                                        IncludeQualifiers=False)
            except CIMError:
                self._classes[key] = None  # the operation itself answers the mock's error
        return self._classes[key]

    def path(self, epr, namespace, depth=0):
        """The typed ``CIMInstanceName`` of an :class:`~wbemconform.wsman.Epr`."""
        try:
            path = epr_to_path(epr, self.uri_map, namespace=namespace)
        except (WsmanDecodeError, UnknownResourceUri) as exc:
            raise CIMError(CIM_ERR_INVALID_PARAMETER, str(exc)) from None
        path.namespace = normalize_namespace(path.namespace or namespace)
        return self.type_keys(path, depth)

    def type_keys(self, path, depth=0):
        """``path`` with its text keys typed (reference keys recursively)."""
        if depth > _MAX_KEY_DEPTH:
            raise CIMError(CIM_ERR_INVALID_PARAMETER, f"reference keys nested deeper than "
                                                      f"{_MAX_KEY_DEPTH}")
        cimclass = self.cimclass(path.classname, path.namespace)
        for name, value in list(path.keybindings.items()):
            if isinstance(value, CIMInstanceName):
                value.namespace = normalize_namespace(value.namespace or path.namespace)
                path.keybindings[name] = self.type_keys(value, depth + 1)
                continue
            decl = cimclass.properties.get(name) if cimclass is not None else None
            if decl is None or not isinstance(value, str) or decl.type == "reference":
                continue
            try:
                path.keybindings[name] = decode_text(value, decl.type)
            except WsmanDecodeError as exc:
                raise CIMError(CIM_ERR_INVALID_PARAMETER,
                               f"selector {name}: {exc}") from None
        return path


class MockOps:
    """The operations of one request on ``conn`` (call under the mock's lock)."""

    def __init__(self, conn, uri_map):
        self.conn = conn
        self.uri_map = uri_map
        self.keys = KeyTyper(conn, uri_map)

    def target_path(self, req, res):
        """The instance path the resource URI and the key selectors address."""
        res.need_class(req.operation)
        return self.keys.path(Epr(res.uri, dict(req.selectors)), res.namespace)

    # -- Get ------------------------------------------------------------------------

    def get(self, req, res):
        """The instance, or (class retrieval) the ``CIMClass``."""
        if res.class_retrieval:
            name = next((v for k, v in req.selectors.items()
                         if k.lower() == CLASSNAME_SELECTOR.lower() and isinstance(v, str)), "")
            if not name.strip():
                raise fault("wsman:InvalidSelectors", f"a Get at {CLASS_RETRIEVAL_URI} needs "
                            f"the {CLASSNAME_SELECTOR} selector", "InsufficientSelectors")
            return self.conn.GetClass(name.strip(), namespace=res.namespace, LocalOnly=False,
                                      IncludeQualifiers=True, IncludeClassOrigin=True)
        return self.conn.GetInstance(self.target_path(req, res), LocalOnly=False,
                                     IncludeQualifiers=False, IncludeClassOrigin=False)

    # -- Put, Create, Delete (WS-Transfer writes) -----------------------------------

    def _instance(self, req, res, path=None):
        """The typed ``CIMInstance`` a Put's or a Create's body carries."""
        classname = res.need_class(req.operation)
        elem = req.input_element
        if elem is None or local_name(elem).lower() != classname.lower():
            found = "nothing" if elem is None else f"<{local_name(elem)[:100]}>"
            raise fault("wxf:InvalidRepresentation", f"{req.operation} at the resource URI "
                        f"of {classname} needs a {classname} instance as its body, not {found}")
        try:
            inst = instance_from_xml(elem, cimclass=self.keys.cimclass(classname, res.namespace),
                                     uri_map=self.uri_map, namespace=res.namespace, path=path)
        except (WsmanDecodeError, UnknownResourceUri) as exc:
            raise fault("wxf:InvalidRepresentation", f"{req.operation}: {exc}") from None
        for prop in inst.properties.values():
            values = prop.value if isinstance(prop.value, list) else [prop.value]
            typed = [self._reference(v, res.namespace) if isinstance(v, CIMInstanceName)
                     else v for v in values]
            if any(isinstance(v, CIMInstanceName) for v in values):
                prop.value = typed if isinstance(prop.value, list) else typed[0]
        return inst

    def _reference(self, path, namespace):
        path.namespace = normalize_namespace(path.namespace or namespace)
        return self.keys.type_keys(path)

    def create(self, req, res):
        """The mock's CreateInstance of the body's instance: the new path."""
        return self.conn.CreateInstance(self._instance(req, res), namespace=res.namespace)

    def put(self, req, res):
        """The mock's ModifyInstance of the instance the selectors address."""
        path = self.target_path(req, res)
        self.conn.ModifyInstance(self._instance(req, res, path))

    def delete(self, req, res):
        """The mock's DeleteInstance of the instance the selectors address."""
        self.conn.DeleteInstance(self.target_path(req, res))

    # -- Enumerate ------------------------------------------------------------------

    def enumerate(self, req, res):
        """Every item of the enumeration: ``CIMInstance`` (objects modes) or
        ``CIMInstanceName`` (``EnumerateEPR``)."""
        names_only = req.enumeration_mode == MODE_EPR
        flt = req.filter
        if flt is None:
            if req.filter_dialect is not None:
                raise fault("wsen:FilterDialectRequestedUnavailable",
                            f"filter dialect {req.filter_dialect[:200]!r} is not supported")
            classname = res.need_class("an Enumerate without a filter")
            if names_only:
                return self.conn.EnumerateInstanceNames(classname, namespace=res.namespace)
            return self.conn.EnumerateInstances(classname, namespace=res.namespace,
                                                LocalOnly=False, DeepInheritance=True,
                                                IncludeQualifiers=False,
                                                IncludeClassOrigin=False)
        if isinstance(flt, WqlFilter):
            return self._query(flt.query, res.namespace, names_only)
        if isinstance(flt, (AssociatedInstancesFilter, AssociationInstancesFilter)):
            return self._associations(flt, res.namespace, names_only)
        raise fault("wsen:FilterDialectRequestedUnavailable",
                    f"filter dialect {str(getattr(flt, 'dialect', None))[:200]!r} is not "
                    f"supported: use WQL ({WqlFilter.dialect}) or the association filter")

    def _query(self, query, namespace, names_only):
        try:
            check_query_length(query)
        except WqlSyntaxError as exc:
            raise CIMError(CIM_ERR_INVALID_QUERY, f"ExecQuery: {exc}") from None
        found = self.conn.ExecQuery("WQL", query, namespace=namespace)
        if not names_only:
            return found
        paths = [inst.path for inst in found]
        if any(path is None for path in paths):
            raise fault("wsman:UnsupportedFeature", "EnumerateEPR of a query whose results "
                        "have no instance paths", "FilteringRequired")
        return paths

    def _associations(self, flt, namespace, names_only):
        obj = flt.object
        if isinstance(obj, CIMInstanceName):
            obj = self.keys.type_keys(obj.copy())
        else:
            obj = self.keys.path(obj, namespace)
        props = list(flt.include_result_properties) or None
        if isinstance(flt, AssociatedInstancesFilter):
            args = {"AssocClass": flt.association_class, "ResultClass": flt.result_class,
                    "Role": flt.role, "ResultRole": flt.result_role}
            if names_only:
                return self.conn.AssociatorNames(obj, **args)
            return self.conn.Associators(obj, IncludeQualifiers=False, IncludeClassOrigin=False,
                                         PropertyList=props, **args)
        args = {"ResultClass": flt.result_class, "Role": flt.role}
        if names_only:
            return self.conn.ReferenceNames(obj, **args)
        return self.conn.References(obj, IncludeQualifiers=False, IncludeClassOrigin=False,
                                    PropertyList=props, **args)

    # -- custom actions (methods) ---------------------------------------------------

    def invoke(self, req, res, read_only):
        """A custom action (an extrinsic method) gets the answer the CIM-XML app
        gives the same call: the read-only refusal, else the mock's own
        ``InvokeMethod`` (on the path the key selectors address, or on the
        class without them) with the input typed by the method's
        declaration -- one served mock answers one way whatever the
        protocol. (return value, {output parameter: value})."""
        check_extrinsic(req.method or "", read_only)
        if req.selectors and any(k.lower() != CIMNAMESPACE_SELECTOR for k in req.selectors):
            path = self.target_path(req, res)
        else:
            path = CIMClassName(res.need_class("a custom action"), namespace=res.namespace)
        decl = method_declaration(self.conn, path, req.method or "")
        params = []
        for name, value in (req.params or {}).items():
            pdecl = decl.parameters.get(name) if decl is not None else None
            params.append(self._input(name, value, pdecl, res.namespace))
        return self.conn.InvokeMethod(req.method or "", path, Params=params)

    def _input(self, name, value, decl, namespace):
        """One input parameter, its text typed by its declaration (a
        ``CIMParameter`` of pywbem's, or None: the value as it came)."""
        values = value if isinstance(value, list) else [value]
        typed = []
        for item in values:
            if isinstance(item, Epr):
                item = self.keys.path(item, namespace)
            elif isinstance(item, str) and decl is not None and decl.type != "reference":
                try:
                    item = decode_text(item, decl.type)
                except WsmanDecodeError as exc:
                    raise CIMError(CIM_ERR_INVALID_PARAMETER, f"{name}: {exc}") from None
            typed.append(item)
        out = typed if isinstance(value, list) or (decl is not None and decl.is_array) \
            else typed[0]
        if decl is not None:
            return CIMParameter(name, decl.type, value=out, is_array=decl.is_array,
                                reference_class=decl.reference_class,
                                embedded_object=decl.embedded_object)
        return CIMParameter(name, cimtype(out) if out not in (None, []) else "string",
                            value=out)
