"""WS-Management responses: built by a server, parsed by a client.

* GetResponse (DSP0226 7.3): the instance element is the body;
* EnumerateResponse and PullResponse (DSP0226 8.2-8.4): an
  ``wsen:EnumerationContext``, the items -- in ``wsman:Items`` and
  ``wsman:EndOfSequence`` for an optimized Enumerate (8.2.3), in
  ``wsen:Items`` and ``wsen:EndOfSequence`` for a Pull -- each item an
  instance element, a ``wsa:EndpointReference`` (``EnumerateEPR``) or a
  ``wsman:Item`` holding both (``EnumerateObjectAndEPR``, 8.7);
* ReleaseResponse: an empty body;
* a custom action's response (DSP0227 9): action ``<request action>Response``,
  body ``<p:<method>_OUTPUT>`` with the output parameters and ``ReturnValue``;
* any response can be a fault: the parsers raise it as
  :class:`~wbemconform.wsman.faults.WsmanFault`.

Every parser checks the response's ``wsa:Action`` (and ``wsa:RelatesTo``
when given the request's message ID) unless told not to; a mismatch is a
:class:`~wbemconform.wsman.envelope.WsmanProtocolError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from pywbem import CIMInstance, CIMInstanceName

from .cim import (Epr, append_value, epr_from_xml, epr_to_path, epr_to_xml, instance_from_xml,
                  instance_to_xml, local_name, lookup_class, path_to_epr)
from .envelope import WsmanProtocolError, child_text, make_envelope, read_envelope, serialize
from .faults import fault_from_body
from .names import (ACTION_ENUMERATE_RESPONSE, ACTION_GET_RESPONSE, ACTION_PULL_RESPONSE,
                    ACTION_RELEASE_RESPONSE, MODE_EPR, MODE_OBJECT_AND_EPR, SOAP_ENV, WSA, WSEN,
                    WSMAN, clark)
from .request import invoke_action, params_from_xml
from .resource_uri import ResourceUriMap
from .xmlsafe import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH

__all__ = ["EnumItem", "EnumerationResult", "build_get_response", "build_enumerate_response",
           "build_pull_response", "build_release_response", "build_invoke_response",
           "read_response", "parse_get_response", "parse_enumerate_response",
           "parse_pull_response", "parse_release_response", "parse_invoke_response"]

_DEFAULT_MAP = ResourceUriMap()


# -- server side: building ---------------------------------------------------------

def _response(action, relates_to, message_id=None):
    return make_envelope(action, relates_to=relates_to, message_id=message_id)


def build_get_response(relates_to, instance, uri_map=None, *, resource_uri=None,
                       namespace=None, message_id=None):
    """A GetResponse carrying ``instance`` (bytes)."""
    root, body = _response(ACTION_GET_RESPONSE, relates_to, message_id)
    body.append(instance_to_xml(instance, uri_map, namespace=namespace,
                                resource_uri=resource_uri))
    return serialize(root)


def _epr_of(item, uri_map, namespace):
    if isinstance(item, Epr):
        return item
    path = item if isinstance(item, CIMInstanceName) else item.path
    if path is None:
        raise ValueError(f"an EPR of {item.classname} needs the instance's path")
    return path_to_epr(path, uri_map, namespace=namespace)


def _append_items(parent, items, mode, uri_map, namespace):
    for item in items:
        if mode == MODE_EPR:
            epr_to_xml(etree.SubElement(parent, clark(WSA, "EndpointReference")),
                       _epr_of(item, uri_map, namespace))
            continue
        if not isinstance(item, CIMInstance):
            raise ValueError("object enumeration modes need CIMInstance items")
        elem = instance_to_xml(item, uri_map, namespace=namespace)
        if mode == MODE_OBJECT_AND_EPR:
            wrapper = etree.SubElement(parent, clark(WSMAN, "Item"))
            wrapper.append(elem)
            epr_to_xml(etree.SubElement(wrapper, clark(WSA, "EndpointReference")),
                       _epr_of(item, uri_map, namespace))
        else:
            parent.append(elem)


def build_enumerate_response(relates_to, items=(), *, context=None, end_of_sequence=False,
                             optimized=False, mode=None, uri_map=None, namespace=None,
                             message_id=None):
    """An EnumerateResponse (bytes): ``items`` (CIMInstance, or paths/EPRs for
    EnumerateEPR) only when ``optimized``; the context element is always written."""
    root, body = _response(ACTION_ENUMERATE_RESPONSE, relates_to, message_id)
    resp = etree.SubElement(body, clark(WSEN, "EnumerateResponse"))
    etree.SubElement(resp, clark(WSEN, "EnumerationContext")).text = context
    if optimized:
        _append_items(etree.SubElement(resp, clark(WSMAN, "Items")), items, mode,
                      uri_map or _DEFAULT_MAP, namespace)
        if end_of_sequence:
            etree.SubElement(resp, clark(WSMAN, "EndOfSequence"))
    elif items:
        raise ValueError("items in an EnumerateResponse need OptimizeEnumeration")
    return serialize(root)


def build_pull_response(relates_to, items=(), *, context=None, end_of_sequence=False,
                        mode=None, uri_map=None, namespace=None, message_id=None):
    """A PullResponse (bytes); the context is left out at the end of the sequence."""
    root, body = _response(ACTION_PULL_RESPONSE, relates_to, message_id)
    resp = etree.SubElement(body, clark(WSEN, "PullResponse"))
    if context is not None and not end_of_sequence:
        etree.SubElement(resp, clark(WSEN, "EnumerationContext")).text = context
    _append_items(etree.SubElement(resp, clark(WSEN, "Items")), items, mode,
                  uri_map or _DEFAULT_MAP, namespace)
    if end_of_sequence:
        etree.SubElement(resp, clark(WSEN, "EndOfSequence"))
    return serialize(root)


def build_release_response(relates_to, *, message_id=None):
    """A ReleaseResponse (bytes)."""
    root, _body = _response(ACTION_RELEASE_RESPONSE, relates_to, message_id)
    return serialize(root)


def build_invoke_response(relates_to, resource_uri, method, return_value=None, out_params=None,
                          *, uri_map=None, namespace=None, message_id=None):
    """The response to a custom action (bytes): output parameters, then ``ReturnValue``."""
    uri = resource_uri.strip()
    root, body = _response(invoke_action(uri, method) + "Response", relates_to, message_id)
    out = etree.SubElement(body, clark(uri, f"{method}_OUTPUT"), nsmap={"p": uri})
    for name, value in (out_params or {}).items():
        append_value(out, clark(uri, name), value, uri_map, namespace=namespace)
    if return_value is not None:
        append_value(out, clark(uri, "ReturnValue"), return_value, uri_map, namespace=namespace)
    return serialize(root)


# -- client side: parsing ----------------------------------------------------------

@dataclass
class EnumItem:
    """One enumerated item: the instance and/or its path (and the EPR it came as)."""
    instance: CIMInstance | None = None
    path: CIMInstanceName | None = None
    epr: Epr | None = None


@dataclass
class EnumerationResult:
    """Items of an EnumerateResponse or a PullResponse, the context to pull
    with next (None when none was given) and whether the sequence ended."""
    items: list = field(default_factory=list)
    context: str | None = None
    end_of_sequence: bool = False

    @property
    def instances(self):
        """The instances among the items."""
        return [item.instance for item in self.items if item.instance is not None]

    @property
    def paths(self):
        """The paths among the items."""
        return [item.path for item in self.items if item.path is not None]


def read_response(data, *, expect_action=None, relates_to=None, max_bytes=DEFAULT_MAX_BYTES,
                  max_depth=DEFAULT_MAX_DEPTH):
    """The :class:`~wbemconform.wsman.envelope.Envelope` of a response; raises
    its fault as :class:`WsmanFault`, or :class:`WsmanProtocolError`."""
    env = read_envelope(data, max_bytes=max_bytes, max_depth=max_depth)
    payload = env.payload
    if payload is not None and payload.tag == clark(SOAP_ENV, "Fault"):
        raise fault_from_body(payload, action=env.action, relates_to=env.relates_to)
    if expect_action is not None and env.action != expect_action:
        raise WsmanProtocolError(f"expected action {expect_action}, got {env.action!r}")
    if relates_to is not None and env.relates_to != relates_to:
        raise WsmanProtocolError(f"response relates to {env.relates_to!r}, not to the request "
                                 f"{relates_to!r}")
    return env


def _check(action, check_action):
    return action if check_action else None


def parse_get_response(data, *, classes=None, uri_map=None, path=None, namespace=None,
                       relates_to=None, check_action=True, **limits):
    """The instance a GetResponse carries, typed by ``classes`` (a ``CIMClass``,
    a name -> class mapping or a callable) when they know its class."""
    env = read_response(data, expect_action=_check(ACTION_GET_RESPONSE, check_action),
                        relates_to=relates_to, **limits)
    elem = env.payload
    if elem is None:
        raise WsmanProtocolError("GetResponse with an empty body")
    ns = namespace or (path.namespace if path is not None else None)
    return instance_from_xml(elem, cimclass=lookup_class(classes, local_name(elem)),
                             uri_map=uri_map, namespace=ns, path=path)


def _read_items(container, classes, uri_map, namespace):
    items = []
    if container is None:
        return items
    for child in container:
        if not isinstance(child.tag, str):
            continue
        if child.tag == clark(WSMAN, "Item"):
            parts = [c for c in child if isinstance(c.tag, str)]
        else:
            parts = [child]
        item = EnumItem()
        inst_elem = None
        for part in parts:
            if part.tag == clark(WSA, "EndpointReference"):
                item.epr = epr_from_xml(part)
            else:
                inst_elem = part
        cimclass = lookup_class(classes, local_name(inst_elem) if inst_elem is not None
                                else None)
        if item.epr is not None:
            if cimclass is None:
                name = (uri_map or _DEFAULT_MAP).parse(item.epr.resource_uri).classname
                cimclass = lookup_class(classes, name)
            item.path = epr_to_path(item.epr, uri_map, namespace=namespace, cimclass=cimclass)
        if inst_elem is not None:
            item.instance = instance_from_xml(inst_elem, cimclass=cimclass, uri_map=uri_map,
                                              namespace=namespace, path=item.path)
        items.append(item)
    return items


def _enumeration(env, top, items_ns, classes, uri_map, namespace):
    payload = env.payload
    if payload is None or payload.tag != clark(WSEN, top):
        raise WsmanProtocolError(f"expected wsen:{top} in the body")
    context = child_text(payload, clark(WSEN, "EnumerationContext"))
    items = payload.find(clark(items_ns, "Items"))
    if items is None and items_ns == WSMAN:
        items = payload.find(clark(WSEN, "Items"))
    end = (payload.find(clark(items_ns, "EndOfSequence")) is not None
           or payload.find(clark(WSEN, "EndOfSequence")) is not None)
    return EnumerationResult(_read_items(items, classes, uri_map, namespace), context or None,
                             end)


def parse_enumerate_response(data, *, classes=None, uri_map=None, namespace=None,
                             relates_to=None, check_action=True, **limits):
    """The :class:`EnumerationResult` of an EnumerateResponse."""
    env = read_response(data, expect_action=_check(ACTION_ENUMERATE_RESPONSE, check_action),
                        relates_to=relates_to, **limits)
    return _enumeration(env, "EnumerateResponse", WSMAN, classes, uri_map, namespace)


def parse_pull_response(data, *, classes=None, uri_map=None, namespace=None, relates_to=None,
                        check_action=True, **limits):
    """The :class:`EnumerationResult` of a PullResponse."""
    env = read_response(data, expect_action=_check(ACTION_PULL_RESPONSE, check_action),
                        relates_to=relates_to, **limits)
    return _enumeration(env, "PullResponse", WSEN, classes, uri_map, namespace)


def parse_release_response(data, *, relates_to=None, check_action=True, **limits):
    """None for a ReleaseResponse; raises its fault or a protocol error otherwise."""
    read_response(data, expect_action=_check(ACTION_RELEASE_RESPONSE, check_action),
                  relates_to=relates_to, **limits)


def parse_invoke_response(data, method=None, *, resource_uri=None, method_decl=None,
                          uri_map=None, namespace=None, relates_to=None, **limits):
    """``(return_value, out_params)`` of a custom action's response; typed by a
    pywbem ``CIMMethod`` when given. With ``resource_uri`` and ``method`` the
    action is checked."""
    expect = (invoke_action(resource_uri, method) + "Response"
              if resource_uri and method else None)
    env = read_response(data, expect_action=expect, relates_to=relates_to, **limits)
    out = env.payload
    if out is None:
        raise WsmanProtocolError("custom action response with an empty body")
    if method and local_name(out).lower() != f"{method}_output".lower():
        raise WsmanProtocolError(f"expected <{method}_OUTPUT>, got <{local_name(out)}>")
    params = params_from_xml(out, method_decl, uri_map, namespace=namespace)
    key = next((k for k in params if k.lower() == "returnvalue"), None)
    return (params.pop(key) if key else None), params
