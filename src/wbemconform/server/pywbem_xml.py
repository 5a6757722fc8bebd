"""pywbem's private API: the one module of the server that uses it.

pywbem reads CIM-XML responses and writes requests; a server needs the
reverse, for which pywbem has no public API. Its response parser and its
element writers do exactly that, and the mock has its own entry points.
Nothing else in the package touches pywbem or pywbem_mock internals; each
private name is used here, and only here, for the reason beside it:

* ``pywbem._tupleparse.TupleParser`` (:func:`parse_cim`): pywbem's CIM-XML
  parser, reading the tuple tree of ``pywbem._tupletree``'s format
  (``(NAME, ATTRS, CHILDREN)`` with text as ``str``, which
  :func:`wbemconform.server.request.request_tree` builds) into tuples and CIM
  objects -- the only reader of ``IMETHODCALL``/``METHODCALL`` there is;
* ``pywbem._cim_xml`` (:func:`response_body`, :func:`error_element`,
  :class:`ResultEncoder`, ...): pywbem's element writers, for the response
  envelope and every element the objects' public ``tocimxml()`` does not write
  (``ERROR``, ``IRETURNVALUE``, ``PARAMVALUE``, ``VALUE.NAMEDINSTANCE``, ...);
* ``FakedWBEMConnection._mock_imethodcall`` (:func:`mock_imethodcall`): the
  mock's intrinsic methods, called exactly as pywbem's client calls them in
  process;
* ``FakedWBEMConnection._mainprovider.enumeration_contexts``
  (:func:`enumeration_contexts`): pywbem_mock's table of open pull
  enumeration contexts, which it never expires.

tests/test_server_pywbem_adapter.py (the tree format, TupleParser's result
shapes, the ``_cim_xml`` writers used here, the mock's entry point, and that
no other module of the package uses anything private) and
tests/test_private_apis.py (the mock's entry point and its enumeration
context table) fail loudly if any of this changes in pywbem.
"""

from __future__ import annotations

from pywbem import (CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMParameter,
                    CIMQualifierDeclaration, cimtype, cimvalue)
from pywbem import _cim_xml  # private: pywbem's CIM-XML element writers (see above)
from pywbem._tupleparse import TupleParser  # private: pywbem's CIM-XML reader (see above)

XML_DECL = b'<?xml version="1.0" encoding="utf-8" ?>\n'
CONTENT_TYPE = 'application/xml; charset="utf-8"'
_PROTOCOL_VERSION = "1.0"
_CIM_VERSION = "2.0"
_DTD_VERSION = "2.0"


# -- reading a request ---------------------------------------------------------------

def parse_cim(tree):
    """pywbem's ``TupleParser`` reading of a ``CIM`` element's tuple tree:
    ``("CIM", attrs, ("MESSAGE", attrs, ("SIMPLEREQ", attrs, call)))``; the
    versions it checks raise pywbem's ``CIMVersionError``/``DTDVersionError``/
    ``ProtocolVersionError``, anything else it cannot read ``CIMXMLParseError``
    (or another exception for a value it cannot convert)."""
    return TupleParser().parse_cim(tree)


# -- the mock --------------------------------------------------------------------------

def mock_imethodcall(conn, method, namespace, params):
    """The mock's intrinsic method, as pywbem's client calls it in process."""
    return conn._mock_imethodcall(method, namespace, **params)


def enumeration_contexts(conn):
    """pywbem_mock's table of the open pull enumeration contexts of ``conn``
    (``{context id: state}``), or None if ``conn`` has none.

    The one place the server reaches into pywbem_mock's private state:
    ``FakedWBEMConnection`` keeps the contexts in its main provider's
    ``enumeration_contexts`` dict (``conn._mainprovider``) and never closes
    one that is not pulled to the end (pywbem_mock's own note, issue #2063),
    so a client that opens enumerations and never pulls them grows the server
    without bound. The server expires idle contexts and caps their number by
    deleting entries from this dict (see
    :class:`wbemconform.server.pulls.PullContexts`); nothing else of an entry
    is read or changed. tests/test_private_apis.py fails loudly if
    pywbem_mock renames it.
    """
    provider = getattr(conn, "_mainprovider", None)
    table = getattr(provider, "enumeration_contexts", None)
    return table if isinstance(table, dict) else None


# -- writing a response ----------------------------------------------------------------

def response_body(msgid, payload):
    """The whole CIM-XML response document (bytes) around ``payload`` (an
    ``IMETHODRESPONSE`` or ``METHODRESPONSE``)."""
    xml = _cim_xml.CIM(
        _cim_xml.MESSAGE(_cim_xml.SIMPLERSP(payload), msgid, _PROTOCOL_VERSION),
        _CIM_VERSION, _DTD_VERSION)
    return XML_DECL + xml.toxml().encode("utf-8")


def error_element(code, description, instances=None):
    """An ``ERROR`` element (with the ``CIM_Error`` instances among ``instances``)."""
    insts = [i.tocimxml(ignore_path=True) for i in (instances or [])
             if isinstance(i, CIMInstance)]
    return _cim_xml.ERROR(str(int(code)), description or None, insts or None)


def method_response(name, child):
    """A ``METHODRESPONSE`` (an extrinsic method's answer)."""
    return _cim_xml.METHODRESPONSE(name, child)


def imethod_response(name, children):
    """An ``IMETHODRESPONSE`` (an intrinsic method's answer)."""
    return _cim_xml.IMETHODRESPONSE(name, children)


def qualifier_declaration_xml(qualdecl):
    """QUALIFIER.DECLARATION without ``ANY="false"`` in SCOPE.

    pywbem's MOF compiler records ``'ANY': False`` in every declaration whose
    scope is not ``any``, and ``_cim_xml.SCOPE`` writes it out as an
    attribute DSP0201 does not have -- which pywbem's own parser then rejects
    ("Element 'SCOPE' has invalid attribute(s)"). A false ANY says nothing, so
    it is left out.
    """
    scopes = qualdecl.scopes
    if any(k.upper() == "ANY" and not v for k, v in scopes.items()):
        qualdecl = qualdecl.copy()
        qualdecl.scopes = {k: v for k, v in scopes.items() if k.upper() != "ANY"}
    return qualdecl.tocimxml()


def _expect(obj, types, kind):
    if not isinstance(obj, types):
        raise TypeError(f"unexpected {type(obj).__name__} in a {kind} result")
    return obj


def _unwrap(obj):
    # ("OBJECTPATH", {}, x) / ("VALUE.OBJECTWITHPATH", {}, x) triples: the object
    if isinstance(obj, tuple) and len(obj) == 3 and isinstance(obj[0], str):
        return obj[2]
    return obj


class ResultEncoder:
    """The mock's result of an intrinsic method -- the tuple structure
    ``WBEMConnection._imethodcall`` returns -- as the children of the
    ``IMETHODRESPONSE``, in the element DSP0200 prescribes for the operation
    (``kind``, see :data:`wbemconform.server.methods.METHODS`).

    Paths the mock marks with its own fake host (``mock_host``) or with no
    host, where DSP0201 needs one (``INSTANCEPATH``/``CLASSPATH``), carry the
    ``authority`` the client addressed, as a real server names itself.
    """

    def __init__(self, mock_host):
        self._mock_host = (mock_host or "").lower()

    def full_path(self, path, namespace, authority):
        """A copy of a path with namespace and host, for INSTANCEPATH/CLASSPATH."""
        out = path.copy()
        if not out.namespace:
            out.namespace = namespace
        out.namespace = out.namespace.strip("/")
        if not out.host or out.host.lower() == self._mock_host:
            out.host = authority
        if isinstance(out, CIMInstanceName):
            for key, value in list(out.keybindings.items()):
                if isinstance(value, CIMInstanceName) and value.host and \
                        value.host.lower() == self._mock_host:
                    ref = value.copy()
                    ref.host = authority
                    out.keybindings[key] = ref
        return out

    def children(self, method, kind, result, namespace, authority):
        """The IMETHODRESPONSE's children (IRETURNVALUE and PARAMVALUEs), or
        None for a method that returns nothing."""
        children = []
        if not result:
            return [_cim_xml.IRETURNVALUE([])] if kind else None
        returned = False
        for item in result:
            tag, _, value = item
            if tag == "IRETURNVALUE":
                returned = True
                objs = [_unwrap(o) for o in (value or [])]
                children.append(_cim_xml.IRETURNVALUE(
                    self._encode_objects(kind, objs, namespace, authority)))
            elif tag == "EndOfSequence":
                eos = value if isinstance(value, bool) else str(value).upper() == "TRUE"
                children.append(_cim_xml.PARAMVALUE(
                    "EndOfSequence", _cim_xml.VALUE("TRUE" if eos else "FALSE"), "boolean"))
            elif tag == "EnumerationContext":
                data = _cim_xml.VALUE(str(value)) if value else None
                children.append(_cim_xml.PARAMVALUE("EnumerationContext", data, "string"))
            elif tag == "QueryResultClass":
                if value is not None:
                    children.append(_cim_xml.PARAMVALUE("QueryResultClass", value.tocimxml()))
            else:
                raise TypeError(f"unexpected item {tag!r} in the mock's {method} result")
        if kind and not returned:
            children.insert(0, _cim_xml.IRETURNVALUE([]))
        return children

    def _encode_objects(self, kind, objs, namespace, authority):
        if kind in ("instancenames",):
            return [_expect(o, CIMInstanceName, kind).tocimxml(ignore_namespace=True)
                    for o in objs]
        if kind == "namedinstances":
            out = []
            for inst in objs:
                _expect(inst, CIMInstance, kind)
                path = inst.path or CIMInstanceName(inst.classname)
                out.append(_cim_xml.VALUE_NAMEDINSTANCE(
                    path.tocimxml(ignore_namespace=True), inst.tocimxml(ignore_path=True)))
            return out
        if kind in ("instance", "instances"):
            return [_expect(o, CIMInstance, kind).tocimxml(ignore_path=True) for o in objs]
        if kind == "classes":
            return [_expect(o, CIMClass, kind).tocimxml() for o in objs]
        if kind == "classnames":
            return [_cim_xml.CLASSNAME(o.classname if isinstance(o, CIMClassName) else str(o))
                    for o in objs]
        if kind == "qualifiers":
            return [qualifier_declaration_xml(_expect(o, CIMQualifierDeclaration, kind))
                    for o in objs]
        if kind == "objectpaths":
            return [_cim_xml.OBJECTPATH(self.full_path(
                _expect(o, (CIMInstanceName, CIMClassName), kind), namespace,
                authority).tocimxml()) for o in objs]
        if kind == "instancepaths":
            return [self.full_path(_expect(o, CIMInstanceName, kind), namespace,
                                    authority).tocimxml() for o in objs]
        if kind == "instanceswithpath":
            out = []
            for inst in objs:
                _expect(inst, CIMInstance, kind)
                path = self.full_path(inst.path or CIMInstanceName(inst.classname),
                                       namespace, authority)
                out.append(_cim_xml.VALUE_INSTANCEWITHPATH(
                    path.tocimxml(), inst.tocimxml(ignore_path=True)))
            return out
        if kind == "objectswithpath":
            if any(isinstance(o, CIMInstance) and o.path is None for o in objs):
                # results without paths (a query's projection): VALUE.OBJECT
                return [_cim_xml.VALUE_OBJECT(_expect(o, CIMInstance, kind)
                                              .tocimxml(ignore_path=True)) for o in objs]
            out = []
            for obj in objs:
                if isinstance(obj, CIMInstance):
                    path = self.full_path(obj.path, namespace, authority)
                    out.append(_cim_xml.VALUE_OBJECTWITHPATH(
                        path.tocimxml(), obj.tocimxml(ignore_path=True)))
                elif isinstance(obj, tuple) and len(obj) == 2 and \
                        isinstance(obj[1], CIMClass):
                    path = self.full_path(obj[0], namespace, authority)
                    out.append(_cim_xml.VALUE_OBJECTWITHPATH(path.tocimxml(),
                                                             obj[1].tocimxml()))
                elif isinstance(obj, CIMClass):
                    path = self.full_path(obj.path or CIMClassName(obj.classname),
                                           namespace, authority)
                    out.append(_cim_xml.VALUE_OBJECTWITHPATH(path.tocimxml(), obj.tocimxml()))
                else:
                    raise TypeError(f"unexpected {type(obj).__name__} in a {kind} result")
            return out
        raise TypeError(f"no encoding for result kind {kind!r}")


# -- extrinsic methods -------------------------------------------------------------------

def _atomic_text(value):
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _value_element(value, cimtype, full_path):
    """VALUE, VALUE.ARRAY, VALUE.REFERENCE or VALUE.REFARRAY of a parameter value."""
    if isinstance(value, list):
        if cimtype == "reference":
            return _cim_xml.VALUE_REFARRAY([_value_element(v, cimtype, full_path)
                                            for v in value])
        return _cim_xml.VALUE_ARRAY([_value_element(v, cimtype, full_path) for v in value])
    if isinstance(value, (CIMInstanceName, CIMClassName)):
        return _cim_xml.VALUE_REFERENCE(full_path(value).tocimxml())
    if isinstance(value, CIMInstance):
        return _cim_xml.VALUE(value.tocimxml(ignore_path=True).toxml())
    return _cim_xml.VALUE(_atomic_text(value))


def method_result_children(return_value, out_params, declaration, full_path):
    """The METHODRESPONSE's children (RETURNVALUE, PARAMVALUEs) of an
    extrinsic method's result; the types are the method's ``declaration``
    (a ``CIMMethod``; None: the values' own), reference values go through
    ``full_path`` (a path with namespace and host)."""
    decl_params = {p.lower(): d for p, d in (declaration.parameters.items()
                                             if declaration is not None else ())}
    children = []
    if return_value is not None:
        rtype = declaration.return_type if declaration is not None else cimtype(return_value)
        children.append(_cim_xml.RETURNVALUE(_value_element(return_value, rtype, full_path),
                                             param_type=rtype))
    for name, value in (out_params or {}).items():
        decl = decl_params.get(name.lower())
        if decl is not None:
            ptype = decl.type
        elif isinstance(value, list):
            ptype = cimtype(value[0]) if value else None
        else:
            ptype = cimtype(value) if value is not None else None
        data = _value_element(value, ptype, full_path) if value is not None else None
        children.append(_cim_xml.PARAMVALUE(decl.name if decl is not None else name, data,
                                            ptype))
    return children


def method_input(raw_params, declaration):
    """``CIMParameter`` list of a ``METHODCALL``'s PARAMVALUEs (TupleParser's
    (name, PARAMTYPE, value) triples), text values typed by the method's
    ``declaration`` (a ``CIMMethod``, or None), else by their PARAMTYPE."""
    decl_params = {p.lower(): d for p, d in (declaration.parameters.items()
                                             if declaration is not None else ())}
    out = []
    for name, paramtype, value in raw_params:
        decl = decl_params.get(name.lower())
        ptype = decl.type if decl is not None else paramtype
        if ptype is None:
            ptype = "reference" if isinstance(value, (CIMInstanceName, CIMClassName)) or (
                isinstance(value, list) and value and
                isinstance(value[0], (CIMInstanceName, CIMClassName))) else "string"
        if ptype != "reference" and value is not None:
            value = cimvalue(value, ptype)
        is_array = decl.is_array if decl is not None else isinstance(value, list)
        out.append(CIMParameter(name, ptype, value=value, is_array=is_array,
                                reference_class=decl.reference_class if decl is not None
                                else None,
                                embedded_object=decl.embedded_object if decl is not None
                                else None))
    return out
