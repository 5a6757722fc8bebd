"""A WS-Management codec for CIM: envelopes, instances, EPRs, faults.

The codec under both WS-Management sides of wbemconform -- the client target
that speaks to a WS-Man server, and the WS-Man server app in front of the
embedded mock. It only turns bytes into Python objects and back; it opens no
connection. Specifications followed: DMTF DSP0226 (WS-Management 1.x),
DSP0227 (its CIM binding), DSP0230 (WS-CIM mapping, for values) and
Microsoft's MS-WSMV (WinRM's extensions); each module names its sections.

Modules:

* :mod:`.names` -- namespaces, actions, dialects, fault subcodes;
* :mod:`.resource_uri` -- class name + namespace <-> resource URI;
* :mod:`.xmlsafe` -- the hardened XML parser every message goes through;
* :mod:`.values` -- typing text values, datetimes, :func:`canonical_text`;
* :mod:`.cim` -- ``CIMInstance`` <-> instance XML, ``CIMInstanceName`` <-> EPR;
* :mod:`.envelope` -- SOAP/WS-Addressing/WS-Management headers;
* :mod:`.faults` -- :class:`WsmanFault`, reading and writing faults;
* :mod:`.request` -- building requests (client), parsing them (server);
* :mod:`.response` -- building responses (server), parsing them (client);
* :mod:`.transfer` -- the WS-Transfer writes (Put, Create, Delete), both sides.
"""

from .cim import (Epr, epr_from_xml, epr_to_path, epr_to_xml, instance_from_xml,
                  instance_to_xml, path_to_epr)
from .envelope import Envelope, WsmanProtocolError, new_message_id, read_envelope
from .faults import WsmanFault, build_fault, fault_for_cim_error
from .request import (AssociatedInstancesFilter, AssociationInstancesFilter, RawFilter,
                      WqlFilter, WsmanRequest, build_enumerate, build_get, build_get_instance,
                      build_invoke, build_pull, build_release, invoke_action, params_from_xml,
                      parse_request)
from .resource_uri import ParsedUri, PrefixRule, ResourceUriMap, UnknownResourceUri
from .response import (EnumerationResult, EnumItem, build_enumerate_response,
                       build_get_response, build_invoke_response, build_pull_response,
                       build_release_response, parse_enumerate_response, parse_get_response,
                       parse_invoke_response, parse_pull_response, parse_release_response,
                       read_response)
from .transfer import (build_create, build_create_response, build_delete,
                       build_delete_response, build_put, build_put_response,
                       parse_create_response, parse_delete_response, parse_put_response)
from .values import WsmanDecodeError, canonical_text
from .xmlsafe import XmlError, XmlMalformed, XmlRefused, parse_xml

__all__ = [
    "Epr", "epr_from_xml", "epr_to_path", "epr_to_xml", "instance_from_xml", "instance_to_xml",
    "path_to_epr", "Envelope", "WsmanProtocolError", "new_message_id", "read_envelope",
    "WsmanFault", "build_fault", "fault_for_cim_error", "AssociatedInstancesFilter",
    "AssociationInstancesFilter", "RawFilter", "WqlFilter", "WsmanRequest", "build_enumerate",
    "build_get", "build_get_instance", "build_invoke", "build_pull", "build_release",
    "invoke_action", "params_from_xml", "parse_request", "ParsedUri", "PrefixRule",
    "ResourceUriMap", "UnknownResourceUri", "EnumerationResult", "EnumItem",
    "build_enumerate_response", "build_get_response", "build_invoke_response",
    "build_pull_response", "build_release_response", "parse_enumerate_response",
    "parse_get_response", "parse_invoke_response", "parse_pull_response",
    "parse_release_response", "read_response", "build_put", "build_create", "build_delete",
    "build_put_response", "build_create_response", "build_delete_response",
    "parse_put_response", "parse_create_response", "parse_delete_response", "WsmanDecodeError", "canonical_text",
    "XmlError", "XmlMalformed", "XmlRefused", "parse_xml",
]
