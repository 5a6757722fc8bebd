"""CIM instances and instance paths <-> WS-Management XML.

* An instance (DSP0227 7.2, DSP0230 7) is an element named after its class,
  in the namespace of the class's resource URI, with one child per property
  in that same namespace. An array is the child repeated; NULL is
  ``xsi:nil="true"`` (a NULL array: one nil child, so an array whose only
  item is NULL reads as a NULL array); a reference is an EPR (``wsa:Address`` and
  ``wsa:ReferenceParameters``) as the children of the property element; a
  datetime is wrapped in ``cim:Datetime``/``cim:Interval`` (DSP0230 8.2);
  an embedded instance is its own instance element.
* An instance path is an endpoint reference (DSP0226 5.1, DSP0227 7.1):
  ``wsa:Address``, then ``wsa:ReferenceParameters`` holding
  ``wsman:ResourceURI`` and ``wsman:SelectorSet``; the CIM namespace is the
  ``__cimnamespace`` selector (DSP0227 6.3) unless the URI carries it
  (WinRM form); a reference-typed key is a selector whose content is a
  ``wsa:EndpointReference`` (DSP0226 7.2, DSP0227 7.4).

The class of a path is the class its EPR's resource URI names -- the class a
Get of that EPR addresses. Values come in as text: given a ``CIMClass`` they
are typed by its property declarations, otherwise they stay text (type
``string``), except where the XML's shape says more (EPR -> reference,
datetime wrapper -> datetime). Compare such values with
:func:`~wbemconform.wsman.values.canonical_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from pywbem import CIMDateTime, CIMInstance, CIMInstanceName, CIMProperty

from .names import ANONYMOUS, CIM_COMMON, CIMNAMESPACE_SELECTOR, WSA, WSMAN, XSI, clark
from .resource_uri import ResourceUriMap
from .values import (DATETIME_TAGS, WsmanDecodeError, datetime_from_xml, datetime_to_xml,
                     decode_text, encode_scalar)

__all__ = ["Epr", "epr_to_xml", "epr_from_xml", "is_epr_element", "path_to_epr", "epr_to_path",
           "selectors_to_xml", "selectors_from_xml", "instance_to_xml", "instance_from_xml",
           "append_value", "read_value", "lookup_class", "local_name"]

_DEFAULT_MAP = ResourceUriMap()
_DATETIME_LOWER = {tag.lower() for tag in DATETIME_TAGS}
_TOP_NSMAP = {"wsa": WSA, "wsman": WSMAN, "xsi": XSI, "cim": CIM_COMMON}


@dataclass
class Epr:
    """A WS-Management endpoint reference to a CIM instance.

    ``selectors`` maps selector names to text or, for a reference key, a
    nested :class:`Epr`; it includes ``__cimnamespace`` when present."""
    resource_uri: str
    selectors: dict = field(default_factory=dict)
    address: str = ANONYMOUS

    @property
    def namespace(self):
        """The ``__cimnamespace`` selector, or None."""
        for name, value in self.selectors.items():
            if name.lower() == CIMNAMESPACE_SELECTOR and isinstance(value, str):
                return value
        return None


def local_name(elem):
    """The local part of an element's tag."""
    return etree.QName(elem).localname


def _text(elem):
    return (elem.text or "").strip()


# -- EPRs ------------------------------------------------------------------------

def selectors_to_xml(parent, selectors):
    """Append a ``wsman:SelectorSet`` for ``selectors`` (text or :class:`Epr`) to ``parent``."""
    selector_set = etree.SubElement(parent, clark(WSMAN, "SelectorSet"))
    for name, value in selectors.items():
        selector = etree.SubElement(selector_set, clark(WSMAN, "Selector"), Name=str(name))
        if isinstance(value, Epr):
            epr_to_xml(etree.SubElement(selector, clark(WSA, "EndpointReference")), value)
        else:
            selector.text = str(value)
    return selector_set


def selectors_from_xml(selector_set):
    """The selectors of a ``wsman:SelectorSet`` element, in document order."""
    selectors = {}
    if selector_set is None:
        return selectors
    for selector in selector_set.iterchildren(clark(WSMAN, "Selector")):
        name = selector.get("Name")
        if not name:
            raise WsmanDecodeError("wsman:Selector without a Name attribute")
        nested = selector.find(clark(WSA, "EndpointReference"))
        if nested is not None:
            selectors[name] = epr_from_xml(nested)
        elif is_epr_element(selector):  # OMI: the EPR's parts without the wrapper
            selectors[name] = epr_from_xml(selector)
        else:
            selectors[name] = _text(selector)
    return selectors


def epr_to_xml(parent, epr):
    """Write ``epr`` as the children of ``parent`` (an EPR-typed element); returns ``parent``."""
    etree.SubElement(parent, clark(WSA, "Address")).text = epr.address
    params = etree.SubElement(parent, clark(WSA, "ReferenceParameters"))
    etree.SubElement(params, clark(WSMAN, "ResourceURI")).text = epr.resource_uri
    if epr.selectors:
        selectors_to_xml(params, epr.selectors)
    return parent


def is_epr_element(elem):
    """True when ``elem``'s children make an EPR."""
    return (elem.find(clark(WSA, "ReferenceParameters")) is not None
            or elem.find(clark(WSA, "Address")) is not None)


def epr_from_xml(elem):
    """The :class:`Epr` whose parts are ``elem``'s children."""
    params = elem.find(clark(WSA, "ReferenceParameters"))
    if params is None:
        raise WsmanDecodeError(f"<{local_name(elem)}> is no endpoint reference: "
                               "no wsa:ReferenceParameters")
    uri = params.find(clark(WSMAN, "ResourceURI"))
    if uri is None or not _text(uri):
        raise WsmanDecodeError(f"<{local_name(elem)}> is no CIM endpoint reference: "
                               "no wsman:ResourceURI")
    address = elem.find(clark(WSA, "Address"))
    return Epr(_text(uri), selectors_from_xml(params.find(clark(WSMAN, "SelectorSet"))),
               _text(address) if address is not None else ANONYMOUS)


def _key_text(value):
    if isinstance(value, CIMDateTime):
        return datetime_to_xml(value)[1]
    return encode_scalar(value)


def path_to_epr(path, uri_map=None, *, address=ANONYMOUS, namespace=None):
    """The :class:`Epr` of a ``CIMInstanceName`` (its namespace, else ``namespace``)."""
    uri_map = uri_map or _DEFAULT_MAP
    ns = path.namespace or namespace
    uri = uri_map.uri_for(path.classname, ns)
    selectors = {}
    if ns and not uri_map.carries_namespace(uri):
        selectors[CIMNAMESPACE_SELECTOR] = ns
    for name, value in path.keybindings.items():
        if isinstance(value, CIMInstanceName):
            selectors[name] = path_to_epr(value, uri_map, address=address, namespace=ns)
        else:
            selectors[name] = _key_text(value)
    return Epr(uri, selectors, address)


def epr_to_path(epr, uri_map=None, *, namespace=None, cimclass=None):
    """The ``CIMInstanceName`` of an :class:`Epr`; keys typed by ``cimclass`` if given."""
    uri_map = uri_map or _DEFAULT_MAP
    parsed = uri_map.parse(epr.resource_uri)
    if parsed.classname is None:
        raise WsmanDecodeError(f"EPR resource URI {epr.resource_uri!r} names no single class")
    ns = epr.namespace or parsed.namespace or namespace
    keys = {}
    for name, value in epr.selectors.items():
        if name.lower() == CIMNAMESPACE_SELECTOR:
            continue
        if isinstance(value, Epr):
            keys[name] = epr_to_path(value, uri_map, namespace=ns)
            continue
        decl = cimclass.properties.get(name) if cimclass is not None else None
        keys[name] = decode_text(value, decl.type) if decl is not None else value
    return CIMInstanceName(parsed.classname, keybindings=keys, namespace=ns)


# -- values ------------------------------------------------------------------------

def append_value(parent, tag, value, uri_map=None, *, namespace=None):
    """Append one ``tag`` element per value (one per item of a list) to ``parent``."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        elem = etree.SubElement(parent, tag)
        if item is None:
            elem.set(clark(XSI, "nil"), "true")
        elif isinstance(item, CIMInstanceName):
            epr_to_xml(elem, path_to_epr(item, uri_map, namespace=namespace))
        elif isinstance(item, Epr):
            epr_to_xml(elem, item)
        elif isinstance(item, CIMInstance):
            elem.append(instance_to_xml(item, uri_map, namespace=namespace))
        elif isinstance(item, CIMDateTime):
            wrapper, text = datetime_to_xml(item)
            etree.SubElement(elem, clark(CIM_COMMON, wrapper)).text = text
        else:
            elem.text = encode_scalar(item)


def _shape(elem):
    """What an element's shape says of its value: nil, epr, datetime, instance, text."""
    if elem.get(clark(XSI, "nil"), "").strip().lower() in ("true", "1"):
        return "nil"
    children = [c for c in elem if isinstance(c.tag, str)]
    if not children:
        return "text"
    if is_epr_element(elem):
        return "epr"
    if len(children) == 1 and local_name(children[0]).lower() in _DATETIME_LOWER:
        return "datetime"
    return "instance"


def read_value(elem, cim_type=None, uri_map=None, *, namespace=None):
    """``(value, type)`` of one value element; typed by ``cim_type`` when given."""
    shape = _shape(elem)
    if shape == "nil":
        return None, cim_type or "string"
    if shape == "epr":
        if cim_type not in (None, "reference"):
            raise WsmanDecodeError(f"<{local_name(elem)}> holds an EPR, declared {cim_type}")
        return epr_to_path(epr_from_xml(elem), uri_map, namespace=namespace), "reference"
    if shape == "datetime":
        if cim_type not in (None, "datetime", "string"):
            raise WsmanDecodeError(f"<{local_name(elem)}> holds a datetime, declared {cim_type}")
        child = next(c for c in elem if isinstance(c.tag, str))
        return datetime_from_xml(local_name(child), child.text), "datetime"
    if shape == "instance":
        child = next(c for c in elem if isinstance(c.tag, str))
        return instance_from_xml(child, uri_map=uri_map, namespace=namespace), "string"
    if cim_type == "reference":
        raise WsmanDecodeError(f"<{local_name(elem)}> is declared a reference but holds text")
    text = elem.text or ""
    return decode_text(text, cim_type), cim_type or "string"


# -- instances ---------------------------------------------------------------------

def instance_to_xml(instance, uri_map=None, *, namespace=None, resource_uri=None):
    """The instance element of a ``CIMInstance`` (namespace from its path or ``namespace``)."""
    uri_map = uri_map or _DEFAULT_MAP
    ns = (instance.path.namespace if instance.path is not None else None) or namespace
    uri = resource_uri or uri_map.uri_for(instance.classname, ns)
    elem = etree.Element(clark(uri, instance.classname), nsmap={"p": uri})
    for prop in instance.properties.values():
        append_value(elem, clark(uri, prop.name), prop.value, uri_map, namespace=ns)
    etree.cleanup_namespaces(elem, top_nsmap=_TOP_NSMAP)
    return elem


def lookup_class(classes, classname):
    """The ``CIMClass`` for ``classname`` from a mapping (case-insensitive) or a
    callable, or None; ``classes`` may itself be None or one ``CIMClass``."""
    if classes is None or not classname:
        return None
    if hasattr(classes, "properties") and hasattr(classes, "classname"):
        return classes if classes.classname.lower() == classname.lower() else None
    if callable(classes):
        return classes(classname)
    for name, value in classes.items():
        if name.lower() == classname.lower():
            return value
    return None


def instance_from_xml(elem, *, cimclass=None, uri_map=None, namespace=None, path=None):
    """The ``CIMInstance`` an instance element describes.

    With ``cimclass`` the values are typed by its declarations (arrays are
    lists even with one item); without, they stay text unless their shape
    says otherwise, and repeated elements make a list."""
    classname = local_name(elem)
    groups = {}
    order = []
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        name = local_name(child)
        key = name.lower()
        if key not in groups:
            groups[key] = (name, [])
            order.append(key)
        groups[key][1].append(child)
    instance = CIMInstance(classname, path=path)
    for key in order:
        name, elems = groups[key]
        decl = cimclass.properties.get(name) if cimclass is not None else None
        cim_type = decl.type if decl is not None else None
        values, types = [], set()
        for child in elems:
            value, vtype = read_value(child, cim_type, uri_map, namespace=namespace)
            values.append(value)
            types.add(vtype)
        is_array = decl.is_array if decl is not None else len(values) > 1
        if decl is None and len(types) > 1:
            raise WsmanDecodeError(f"property {name} of {classname} mixes {sorted(types)}")
        vtype = cim_type or types.pop()
        value = values if is_array else values[0]
        if is_array and len(elems) == 1 and values[0] is None:
            value = None  # a NULL array is one nil element (as append_value writes it)
        if not is_array and len(values) > 1:
            raise WsmanDecodeError(f"property {name} of {classname} is scalar but repeated")
        embedded = "instance" if any(isinstance(v, CIMInstance) for v in values) else None
        reference_class = None
        if vtype == "reference":
            reference_class = (decl.reference_class if decl is not None else None) or next(
                (v.classname for v in values if v is not None), None)
        instance[name] = CIMProperty(name, value, type=vtype, is_array=is_array,
                                     embedded_object=embedded, reference_class=reference_class)
    return instance
