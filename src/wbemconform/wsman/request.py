"""WS-Management requests: built by a client, parsed by a server.

The operations (DSP0226 and DSP0227):

* Get (WS-Transfer; DSP0226 7.3): empty body, the instance addressed by
  ``wsman:ResourceURI`` + ``wsman:SelectorSet`` (``__cimnamespace``
  included, DSP0227 6.3);
* Enumerate (WS-Enumeration; DSP0226 8.2): ``wsen:Enumerate`` with the
  WS-Management options ``wsman:Filter`` (8.3), ``wsman:EnumerationMode``
  (8.7: ``EnumerateEPR`` or ``EnumerateObjectAndEPR``),
  ``wsman:OptimizeEnumeration`` and ``wsman:MaxElements`` (8.2.3). Filters:
  WQL text (MS-WSMV 3.1.4.1.13), or DSP0227 8.2's association filter,
  ``wsmb:AssociatedInstances`` (Object, AssociationClassName, Role,
  ResultClassName, ResultRole, IncludeResultProperty) or
  ``wsmb:AssociationInstances`` (Object, ResultClassName, Role,
  IncludeResultProperty), whose Object is an EPR;
* Pull and Release (DSP0226 8.4, 8.5): the ``wsen:EnumerationContext``
  (and Pull's ``wsen:MaxElements``);
* Put, Create, Delete (WS-Transfer; DSP0226 7.4-7.6): addressed as a Get
  (Create without key selectors), Put's and Create's body the instance
  element, kept as ``input_element`` (:mod:`.transfer` builds them);
* a custom action, i.e. a CIM method (DSP0227 9): action
  ``<resource URI>/<method>``, body ``<p:<method>_INPUT>`` in the resource
  URI's namespace with one child per input parameter.

:func:`parse_request` reads any of them into a :class:`WsmanRequest`; what
it cannot read becomes a :class:`~wbemconform.wsman.faults.WsmanFault` the
server can send back as it is.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field

from lxml import etree
from pywbem import CIMInstanceName

from .cim import (Epr, append_value, epr_from_xml, epr_to_path, epr_to_xml, local_name,
                  path_to_epr, read_value)
from .envelope import WsmanProtocolError, child_text, make_envelope, read_envelope, serialize
from .faults import WsmanFault
from .names import (ACTION_CREATE, ACTION_DELETE, ACTION_ENUMERATE, ACTION_GET, ACTION_PULL,
                    ACTION_PUT, ACTION_RELEASE, ANONYMOUS,
                    CIMNAMESPACE_SELECTOR, DIALECT_ASSOCIATION, DIALECT_WQL, ENUMERATION_MODES,
                    FAULT_DETAIL, WQL_DIALECTS, WSEN, WSMAN, WSMB, clark)
from .resource_uri import ResourceUriMap, UnknownResourceUri
from .values import WsmanDecodeError
from .xmlsafe import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, XmlError, XmlRefused

__all__ = ["WqlFilter", "AssociatedInstancesFilter", "AssociationInstancesFilter", "RawFilter",
           "WsmanRequest", "build_get", "build_get_instance", "build_enumerate", "build_pull",
           "build_release", "build_invoke", "invoke_action", "parse_request",
           "params_from_xml"]

_DEFAULT_MAP = ResourceUriMap()


@dataclass
class WqlFilter:
    """A WQL query; ``dialect`` is WinRM's by default (OpenPegasus also takes the DMTF one)."""
    query: str
    dialect: str = DIALECT_WQL


@dataclass
class AssociatedInstancesFilter:
    """DSP0227 8.2 ``wsmb:AssociatedInstances``: the Associators of ``object``."""
    object: Epr | CIMInstanceName
    association_class: str | None = None
    result_class: str | None = None
    role: str | None = None
    result_role: str | None = None
    include_result_properties: tuple = ()
    dialect = DIALECT_ASSOCIATION


@dataclass
class AssociationInstancesFilter:
    """DSP0227 8.2 ``wsmb:AssociationInstances``: the References of ``object``."""
    object: Epr | CIMInstanceName
    result_class: str | None = None
    role: str | None = None
    include_result_properties: tuple = ()
    dialect = DIALECT_ASSOCIATION


@dataclass
class RawFilter:
    """A filter of a dialect the codec does not read: ``content`` is the element."""
    dialect: str | None
    content: object = None


def _namespace_selectors(resource_uri, namespace, selectors, uri_map):
    result = {}
    if namespace and not uri_map.carries_namespace(resource_uri):
        result[CIMNAMESPACE_SELECTOR] = namespace
    for name, value in (selectors or {}).items():
        result[name] = path_to_epr(value, uri_map) if isinstance(value, CIMInstanceName) else value
    return result


def _envelope(action, to, resource_uri, *, namespace=None, selectors=None, uri_map=None,
              message_id=None, operation_timeout=None, max_envelope_size=None, locale=None,
              option_set=None):
    uri_map = uri_map or _DEFAULT_MAP
    return make_envelope(action, to=to, message_id=message_id, reply_to=ANONYMOUS,
                         resource_uri=resource_uri,
                         selectors=_namespace_selectors(resource_uri, namespace, selectors,
                                                        uri_map),
                         operation_timeout=operation_timeout,
                         max_envelope_size=max_envelope_size, locale=locale,
                         option_set=option_set)


def build_get(to, resource_uri, *, selectors=None, namespace=None, **options):
    """A WS-Transfer Get of the instance ``selectors`` name (bytes).

    ``options``: ``message_id``, ``operation_timeout`` (s), ``max_envelope_size``,
    ``locale``, ``option_set`` (name -> text), ``uri_map`` (for EPR-valued
    selectors given as paths)."""
    root, _body = _envelope(ACTION_GET, to, resource_uri, namespace=namespace,
                            selectors=selectors, **options)
    return serialize(root)


def build_get_instance(to, path, uri_map=None, **options):
    """A Get of the instance a ``CIMInstanceName`` names (URI and selectors from ``uri_map``)."""
    epr = path_to_epr(path, uri_map)
    root, _body = make_envelope(ACTION_GET, to=to, reply_to=ANONYMOUS,
                                resource_uri=epr.resource_uri, selectors=epr.selectors,
                                **options)
    return serialize(root)


def _filter_to_xml(parent, flt, uri_map):
    elem = etree.SubElement(parent, clark(WSMAN, "Filter"), Dialect=flt.dialect)
    if isinstance(flt, WqlFilter):
        elem.text = flt.query
        return
    if isinstance(flt, RawFilter):
        if isinstance(flt.content, str):
            elem.text = flt.content
        elif flt.content is not None:
            elem.append(deepcopy(flt.content))
        return
    associated = isinstance(flt, AssociatedInstancesFilter)
    top = etree.SubElement(elem, clark(WSMB, "AssociatedInstances" if associated
                                       else "AssociationInstances"))
    obj = flt.object if isinstance(flt.object, Epr) else path_to_epr(flt.object, uri_map)
    epr_to_xml(etree.SubElement(top, clark(WSMB, "Object")), obj)
    fields = ((("AssociationClassName", flt.association_class), ("Role", flt.role),
               ("ResultClassName", flt.result_class), ("ResultRole", flt.result_role))
              if associated else
              (("ResultClassName", flt.result_class), ("Role", flt.role)))
    for name, value in fields:
        if value:
            etree.SubElement(top, clark(WSMB, name)).text = value
    for name in flt.include_result_properties:
        etree.SubElement(top, clark(WSMB, "IncludeResultProperty")).text = name


def build_enumerate(to, resource_uri, *, namespace=None, selectors=None, mode=None,
                    optimize=False, max_elements=None, filter=None, **options):
    """A WS-Enumeration Enumerate (bytes); ``mode`` is None (objects),
    ``"EnumerateEPR"`` or ``"EnumerateObjectAndEPR"``; ``filter`` one of the
    filter classes of this module."""
    if mode is not None and mode not in ENUMERATION_MODES:
        raise ValueError(f"enumeration mode {mode!r}: expected one of {sorted(ENUMERATION_MODES)}")
    root, body = _envelope(ACTION_ENUMERATE, to, resource_uri, namespace=namespace,
                           selectors=selectors, **options)
    enum = etree.SubElement(body, clark(WSEN, "Enumerate"))
    if filter is not None:
        _filter_to_xml(enum, filter, options.get("uri_map") or _DEFAULT_MAP)
    if mode is not None:
        etree.SubElement(enum, clark(WSMAN, "EnumerationMode")).text = mode
    if optimize:
        etree.SubElement(enum, clark(WSMAN, "OptimizeEnumeration"))
    if max_elements is not None:
        etree.SubElement(enum, clark(WSMAN, "MaxElements")).text = str(int(max_elements))
    return serialize(root)


def build_pull(to, resource_uri, context, *, max_elements=None, namespace=None, selectors=None,
               **options):
    """A WS-Enumeration Pull of ``context`` (bytes)."""
    root, body = _envelope(ACTION_PULL, to, resource_uri, namespace=namespace,
                           selectors=selectors, **options)
    pull = etree.SubElement(body, clark(WSEN, "Pull"))
    etree.SubElement(pull, clark(WSEN, "EnumerationContext")).text = context
    if max_elements is not None:
        etree.SubElement(pull, clark(WSEN, "MaxElements")).text = str(int(max_elements))
    return serialize(root)


def build_release(to, resource_uri, context, *, namespace=None, selectors=None, **options):
    """A WS-Enumeration Release of ``context`` (bytes)."""
    root, body = _envelope(ACTION_RELEASE, to, resource_uri, namespace=namespace,
                           selectors=selectors, **options)
    release = etree.SubElement(body, clark(WSEN, "Release"))
    etree.SubElement(release, clark(WSEN, "EnumerationContext")).text = context
    return serialize(root)


def invoke_action(resource_uri, method):
    """DSP0227 9: the action URI of ``method`` on the class ``resource_uri`` names."""
    return f"{resource_uri.rstrip('/')}/{method}"


def build_invoke(to, resource_uri, method, params=None, *, selectors=None, namespace=None,
                 **options):
    """A custom action invoking ``method`` with ``params`` (name -> pywbem value;
    lists are arrays, ``CIMInstanceName``/:class:`Epr` are references) (bytes).
    Static methods have no key selectors; instance methods pass the instance's."""
    uri_map = options.get("uri_map") or _DEFAULT_MAP
    root, body = _envelope(invoke_action(resource_uri, method), to, resource_uri,
                           namespace=namespace, selectors=selectors, **options)
    uri = resource_uri.strip()
    inp = etree.SubElement(body, clark(uri, f"{method}_INPUT"), nsmap={"p": uri})
    for name, value in (params or {}).items():
        append_value(inp, clark(uri, name), value, uri_map, namespace=namespace)
    return serialize(root)


def params_from_xml(elem, method_decl=None, uri_map=None, *, namespace=None):
    """Parameters of a ``<method>_INPUT``/``_OUTPUT`` element: name -> value,
    typed by a pywbem ``CIMMethod``'s parameter declarations when given
    (``ReturnValue`` by its return type)."""
    params, lists = {}, set()
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        name = local_name(child)
        decl = method_decl.parameters.get(name) if method_decl is not None else None
        cim_type = decl.type if decl is not None else None
        if method_decl is not None and name.lower() == "returnvalue":
            cim_type = method_decl.return_type
        value, _vtype = read_value(child, cim_type, uri_map, namespace=namespace)
        if name in params:
            if name not in lists:
                params[name] = [params[name]]
                lists.add(name)
            params[name].append(value)
        elif decl is not None and decl.is_array:
            params[name] = [value]
            lists.add(name)
        else:
            params[name] = value
    return params


@dataclass
class WsmanRequest:
    """A parsed request. ``operation`` is Get, Put, Create, Delete, Enumerate,
    Pull, Release, Invoke or Unknown; ``namespace`` comes from ``__cimnamespace`` or the URI;
    ``classname`` is None when the URI names all classes or no known class."""
    action: str
    operation: str
    message_id: str | None
    to: str | None
    reply_to: str | None
    resource_uri: str | None
    selectors: dict = field(default_factory=dict)
    namespace: str | None = None
    classname: str | None = None
    max_envelope_size: int | None = None
    operation_timeout: float | None = None
    locale: str | None = None
    enumeration_mode: str | None = None
    optimize: bool = False
    max_elements: int | None = None
    filter_dialect: str | None = None
    filter: object = None
    context: str | None = None
    method: str | None = None
    params: dict = field(default_factory=dict)
    input_element: object = None
    envelope: object = None

    @property
    def keys(self):
        """The selectors without ``__cimnamespace``."""
        return {k: v for k, v in self.selectors.items() if k.lower() != CIMNAMESPACE_SELECTOR}

    def path(self, uri_map=None, cimclass=None):
        """The ``CIMInstanceName`` the resource URI and selectors address."""
        return epr_to_path(Epr(self.resource_uri or "", self.selectors), uri_map or _DEFAULT_MAP,
                           namespace=self.namespace, cimclass=cimclass)


def _fault(subcode, reason, detail=None):
    return WsmanFault(subcode, reason, fault_detail=(FAULT_DETAIL + detail) if detail else None)


def _int_option(parent, tag, what):
    text = child_text(parent, tag)
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise _fault("wsman:SchemaValidationError", f"{what} {text[:40]!r} is not a positive "
                     "integer")
    return int(text)


def _parse_filter(elem, uri_map):
    dialect = (elem.get("Dialect") or "").strip() or None
    if dialect in WQL_DIALECTS:
        return dialect, WqlFilter("".join(elem.itertext()).strip(), dialect)
    if dialect != DIALECT_ASSOCIATION:
        inner = next((c for c in elem if isinstance(c.tag, str)), None)
        return dialect, RawFilter(dialect, inner if inner is not None
                                  else "".join(elem.itertext()).strip())
    top = next((c for c in elem if isinstance(c.tag, str)), None)
    if top is None or top.tag not in (clark(WSMB, "AssociatedInstances"),
                                      clark(WSMB, "AssociationInstances")):
        raise _fault("wsen:CannotProcessFilter", "association filter without "
                     "wsmb:AssociatedInstances or wsmb:AssociationInstances")
    obj = top.find(clark(WSMB, "Object"))
    if obj is None:
        raise _fault("wsen:CannotProcessFilter", "association filter without wsmb:Object")
    epr = epr_from_xml(obj)
    props = tuple((e.text or "").strip() for e in top.iter(clark(WSMB, "IncludeResultProperty")))

    def text(name):
        return child_text(top, clark(WSMB, name)) or None
    if top.tag == clark(WSMB, "AssociatedInstances"):
        return dialect, AssociatedInstancesFilter(epr, text("AssociationClassName"),
                                                  text("ResultClassName"), text("Role"),
                                                  text("ResultRole"), props)
    return dialect, AssociationInstancesFilter(epr, text("ResultClassName"), text("Role"), props)


def _read(data, max_bytes, max_depth, max_elements=None):
    try:
        return read_envelope(data, max_bytes=max_bytes, max_depth=max_depth,
                             max_elements=max_elements)
    except XmlRefused as exc:
        raise WsmanFault("wsman:EncodingLimit", str(exc)) from exc
    except (XmlError, WsmanProtocolError, WsmanDecodeError) as exc:
        raise WsmanFault("wsman:SchemaValidationError", str(exc)) from exc


def parse_request(data, uri_map=None, *, max_bytes=DEFAULT_MAX_BYTES,
                  max_depth=DEFAULT_MAX_DEPTH, max_elements=None):
    """The :class:`WsmanRequest` in ``data`` (bytes); raises :class:`WsmanFault`
    (``max_elements``: most elements the envelope may have, None: no limit)."""
    uri_map = uri_map or _DEFAULT_MAP
    env = _read(data, max_bytes, max_depth, max_elements)
    if not env.action:
        raise _fault("wsa:MessageInformationHeaderRequired", "the request has no wsa:Action")
    ops = {ACTION_GET: "Get", ACTION_ENUMERATE: "Enumerate", ACTION_PULL: "Pull",
           ACTION_RELEASE: "Release", ACTION_PUT: "Put", ACTION_CREATE: "Create",
           ACTION_DELETE: "Delete"}
    req = WsmanRequest(env.action, ops.get(env.action, "Unknown"), env.message_id, env.to,
                       env.reply_to, env.resource_uri, env.selectors,
                       max_envelope_size=env.max_envelope_size,
                       operation_timeout=env.operation_timeout, locale=env.locale, envelope=env)
    namespace = next((v for k, v in env.selectors.items()
                      if k.lower() == CIMNAMESPACE_SELECTOR and isinstance(v, str)), None)
    if env.resource_uri:
        try:
            parsed = uri_map.parse(env.resource_uri)
            req.classname, namespace = parsed.classname, namespace or parsed.namespace
        except UnknownResourceUri:
            pass
    req.namespace = namespace
    payload = env.payload
    try:
        if req.operation == "Enumerate":
            _parse_enumerate(req, payload, uri_map)
        elif req.operation in ("Pull", "Release"):
            name = "Pull" if req.operation == "Pull" else "Release"
            if payload is None or payload.tag != clark(WSEN, name):
                raise _fault("wsman:SchemaValidationError", f"{name} request without wsen:{name}")
            req.context = child_text(payload, clark(WSEN, "EnumerationContext"))
            if not req.context:
                raise _fault("wsen:InvalidEnumerationContext",
                             f"{name} request without an enumeration context")
            if name == "Pull":
                req.max_elements = _int_option(payload, clark(WSEN, "MaxElements"), "MaxElements")
        elif req.operation in ("Put", "Create"):  # the instance element (wsman/transfer.py)
            if payload is None:
                raise _fault("wxf:InvalidRepresentation", f"{req.operation} request without "
                             "an instance in its body")
            req.input_element = payload
        elif req.operation == "Unknown" and env.resource_uri and env.action.startswith(
                env.resource_uri.rstrip("/") + "/"):
            req.operation = "Invoke"
            req.method = env.action[len(env.resource_uri.rstrip("/")) + 1:]
            req.input_element = payload
            if payload is not None:
                req.params = params_from_xml(payload, None, uri_map, namespace=namespace)
    except WsmanDecodeError as exc:
        raise _fault("wsman:SchemaValidationError", str(exc)) from exc
    return req


def _parse_enumerate(req, payload, uri_map):
    if payload is None or payload.tag != clark(WSEN, "Enumerate"):
        raise _fault("wsman:SchemaValidationError", "Enumerate request without wsen:Enumerate")
    mode = child_text(payload, clark(WSMAN, "EnumerationMode"))
    if mode is not None and mode not in ENUMERATION_MODES:
        raise _fault("wsman:UnsupportedFeature", f"enumeration mode {mode[:60]!r}",
                     "EnumerationMode")
    req.enumeration_mode = mode
    req.optimize = payload.find(clark(WSMAN, "OptimizeEnumeration")) is not None
    req.max_elements = _int_option(payload, clark(WSMAN, "MaxElements"), "MaxElements")
    flt = payload.find(clark(WSMAN, "Filter"))
    if flt is None:
        flt = payload.find(clark(WSEN, "Filter"))
    if flt is not None:
        req.filter_dialect, req.filter = _parse_filter(flt, uri_map)
