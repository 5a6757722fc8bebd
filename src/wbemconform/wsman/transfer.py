"""The WS-Transfer writes of WS-Management: Put, Create and Delete.

DSP0226 (WS-Management 1.x) sections 7.4 to 7.6, on WS-Transfer 2004/09,
with DSP0227's CIM binding (the resource URI of the instance's class, the
key selectors and ``__cimnamespace``; the instance element as a Get answers
it, :func:`~wbemconform.wsman.cim.instance_to_xml`):

* Put: addressed like a Get (resource URI + key selectors), the body is the
  whole new instance element; the PutResponse body is empty when the
  instance became what was sent, else it holds the instance as it now is;
* Create: the resource URI of the class (and ``__cimnamespace``), no key
  selectors, the body is the instance element; the CreateResponse body is
  a ``wxf:ResourceCreated`` endpoint reference naming the new instance
  (resource URI + key selectors), which a later Get, Put or Delete uses;
* Delete: addressed like a Get, an empty body; the DeleteResponse body is
  empty.

Builders for both sides (client requests, server responses) and the
client's parsers; a parser raises the answer's fault as
:class:`~wbemconform.wsman.faults.WsmanFault` and anything it cannot read as
:class:`~wbemconform.wsman.envelope.WsmanProtocolError` (or the codec's
decode errors), as the other parsers of :mod:`.response` do.
"""

from __future__ import annotations

from lxml import etree

from .cim import (epr_from_xml, epr_to_path, epr_to_xml, instance_from_xml, instance_to_xml,
                  local_name, lookup_class, path_to_epr)
from .envelope import WsmanProtocolError, make_envelope, serialize
from .names import (ACTION_CREATE, ACTION_CREATE_RESPONSE, ACTION_DELETE,
                    ACTION_DELETE_RESPONSE, ACTION_PUT, ACTION_PUT_RESPONSE, ANONYMOUS,
                    CIMNAMESPACE_SELECTOR, WXF, clark)
from .resource_uri import ResourceUriMap
from .response import read_response

__all__ = ["build_put", "build_create", "build_delete", "build_put_response",
           "build_create_response", "build_delete_response", "parse_put_response",
           "parse_create_response", "parse_delete_response"]

_DEFAULT_MAP = ResourceUriMap()


def _addressed(action, to, path, uri_map, options):
    """An envelope addressed to the instance ``path`` names (as a Get is)."""
    epr = path_to_epr(path, uri_map)
    root, body = make_envelope(action, to=to, reply_to=ANONYMOUS, resource_uri=epr.resource_uri,
                               selectors=epr.selectors, **options)
    return root, body, epr


def build_put(to, path, instance, uri_map=None, **options):
    """A Put replacing the instance ``path`` names by ``instance`` (bytes).
    ``options``: ``message_id``, ``operation_timeout``, ``max_envelope_size``,
    ``locale``, ``option_set``."""
    uri_map = uri_map or _DEFAULT_MAP
    root, body, epr = _addressed(ACTION_PUT, to, path, uri_map, options)
    body.append(instance_to_xml(instance, uri_map, namespace=path.namespace,
                                resource_uri=epr.resource_uri))
    return serialize(root)


def build_create(to, instance, namespace, uri_map=None, **options):
    """A Create of ``instance`` in ``namespace`` at its class's resource URI (bytes)."""
    uri_map = uri_map or _DEFAULT_MAP
    uri = uri_map.uri_for(instance.classname, namespace)
    selectors = {} if uri_map.carries_namespace(uri) else {CIMNAMESPACE_SELECTOR: namespace}
    root, body = make_envelope(ACTION_CREATE, to=to, reply_to=ANONYMOUS, resource_uri=uri,
                               selectors=selectors, **options)
    body.append(instance_to_xml(instance, uri_map, namespace=namespace, resource_uri=uri))
    return serialize(root)


def build_delete(to, path, uri_map=None, **options):
    """A Delete of the instance ``path`` names (bytes)."""
    root, _body, _epr = _addressed(ACTION_DELETE, to, path, uri_map or _DEFAULT_MAP, options)
    return serialize(root)


# -- server side: responses ----------------------------------------------------------

def build_put_response(relates_to, instance=None, uri_map=None, *, namespace=None,
                       message_id=None):
    """A PutResponse (bytes): empty, or with ``instance`` as it now is."""
    root, body = make_envelope(ACTION_PUT_RESPONSE, relates_to=relates_to,
                               message_id=message_id)
    if instance is not None:
        body.append(instance_to_xml(instance, uri_map, namespace=namespace))
    return serialize(root)


def build_create_response(relates_to, path, uri_map=None, *, namespace=None, message_id=None):
    """A CreateResponse (bytes) whose ``wxf:ResourceCreated`` names ``path``."""
    root, body = make_envelope(ACTION_CREATE_RESPONSE, relates_to=relates_to,
                               message_id=message_id)
    epr_to_xml(etree.SubElement(body, clark(WXF, "ResourceCreated")),
               path_to_epr(path, uri_map or _DEFAULT_MAP, namespace=namespace))
    return serialize(root)


def build_delete_response(relates_to, *, message_id=None):
    """A DeleteResponse (bytes)."""
    root, _body = make_envelope(ACTION_DELETE_RESPONSE, relates_to=relates_to,
                                message_id=message_id)
    return serialize(root)


# -- client side: parsing ------------------------------------------------------------

def _expect(action, check_action):
    return action if check_action else None


def parse_put_response(data, *, classes=None, uri_map=None, path=None, namespace=None,
                       relates_to=None, check_action=True, **limits):
    """The instance a PutResponse carries (typed by ``classes`` when they know
    its class), or None for an empty body."""
    env = read_response(data, expect_action=_expect(ACTION_PUT_RESPONSE, check_action),
                        relates_to=relates_to, **limits)
    elem = env.payload
    if elem is None:
        return None
    ns = namespace or (path.namespace if path is not None else None)
    return instance_from_xml(elem, cimclass=lookup_class(classes, local_name(elem)),
                             uri_map=uri_map, namespace=ns, path=path)


def parse_create_response(data, *, classes=None, uri_map=None, namespace=None,
                          relates_to=None, check_action=True, **limits):
    """The ``CIMInstanceName`` a CreateResponse's ``wxf:ResourceCreated`` names
    (keys typed by ``classes`` when they know the class)."""
    env = read_response(data, expect_action=_expect(ACTION_CREATE_RESPONSE, check_action),
                        relates_to=relates_to, **limits)
    created = env.payload
    if created is None or created.tag != clark(WXF, "ResourceCreated"):
        found = "an empty body" if created is None else f"<{local_name(created)}>"
        raise WsmanProtocolError(f"CreateResponse without wxf:ResourceCreated ({found})")
    epr = epr_from_xml(created)
    classname = (uri_map or _DEFAULT_MAP).parse(epr.resource_uri).classname
    return epr_to_path(epr, uri_map, namespace=namespace,
                       cimclass=lookup_class(classes, classname))


def parse_delete_response(data, *, relates_to=None, check_action=True, **limits):
    """None for a DeleteResponse; raises its fault or a protocol error otherwise."""
    read_response(data, expect_action=_expect(ACTION_DELETE_RESPONSE, check_action),
                  relates_to=relates_to, **limits)
