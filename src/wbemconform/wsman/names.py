"""XML namespaces, action URIs, dialects and fault names of WS-Management.

Everything the codec writes or recognises by name lives here, so that the
other modules never spell a URI twice. Sources:

* SOAP 1.2 (W3C) for the envelope namespace and the fault codes
  (``Sender``, ``Receiver``, ``MustUnderstand``, ...);
* WS-Addressing (2004/08 member submission), as DSP0226 (WS-Management
  1.x) section 5 requires it, for ``wsa:`` headers and EPRs;
* WS-Transfer (2004/09) and WS-Enumeration (2004/09) for the Get, Put,
  Create, Delete, Enumerate, Pull and Release actions (DSP0226 sections 7
  and 8);
* DSP0226 for the ``wsman:`` namespace, its headers, its fault subcodes
  (section 14) and its fault-detail URIs;
* DSP0227 (WS-Management CIM Binding) for the ``wsmb:`` namespace, the
  association filter dialect (section 8.2) and the "all classes" resource
  URI;
* DSP0230 (WS-CIM mapping) for the ``cim:`` common namespace that holds the
  datetime wrappers (``cim:Datetime``, ``cim:Interval``, ...);
* MS-WSMV (Microsoft's extensions, WinRM) 2.2.4.43 for ``WSManFault`` and
  3.1.4.1.13 for the WQL dialect URI.
"""

from __future__ import annotations

__all__ = [
    "SOAP_ENV", "WSA", "WSMAN", "WSEN", "WXF", "WSMB", "WSMV", "WSMANFAULT", "XSI",
    "CIM_COMMON", "XML_NS", "NSMAP", "PREFIX_OF",
    "ANONYMOUS", "ACTION_GET", "ACTION_GET_RESPONSE", "ACTION_ENUMERATE",
    "ACTION_ENUMERATE_RESPONSE", "ACTION_PULL", "ACTION_PULL_RESPONSE", "ACTION_RELEASE",
    "ACTION_RELEASE_RESPONSE", "ACTION_PUT", "ACTION_PUT_RESPONSE", "ACTION_CREATE",
    "ACTION_CREATE_RESPONSE", "ACTION_DELETE", "ACTION_DELETE_RESPONSE", "ACTION_WSMAN_FAULT",
    "ACTION_WSA_FAULT", "ACTION_WSEN_FAULT",
    "ACTION_WXF_FAULT", "FAULT_ACTIONS",
    "DIALECT_WQL", "DIALECT_WQL_DMTF", "DIALECT_CQL", "DIALECT_ASSOCIATION", "DIALECT_SELECTOR",
    "WQL_DIALECTS", "MODE_EPR", "MODE_OBJECT_AND_EPR", "ENUMERATION_MODES",
    "CIMNAMESPACE_SELECTOR", "CLASS_RETRIEVAL_URI", "CLASSNAME_SELECTOR", "FAULT_DETAIL",
    "SUBCODES", "qn", "clark",
]

#: SOAP 1.2 envelope
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
#: WS-Addressing, the version DSP0226 1.x uses
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#: WS-Management (DSP0226)
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#: WS-Enumeration
WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#: WS-Transfer
WXF = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
#: WS-Management CIM binding (DSP0227)
WSMB = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
#: Microsoft's WS-Management extensions (MS-WSMV), the ``p:`` namespace of WinRM
WSMV = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
#: MS-WSMV 2.2.4.43: the WSManFault element WinRM puts in a fault's detail
WSMANFAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#: XML Schema instance (xsi:nil, xsi:type)
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: DSP0230 common types: cim:Datetime, cim:Interval, cim:Date, cim:Time, cim:CIM_DateTime
CIM_COMMON = "http://schemas.dmtf.org/wbem/wscim/1/common"
#: the xml: namespace (xml:lang)
XML_NS = "http://www.w3.org/XML/1998/namespace"

#: the prefixes the codec writes (and uses to name subcodes)
NSMAP = {"s": SOAP_ENV, "wsa": WSA, "wsman": WSMAN, "wsen": WSEN, "wxf": WXF, "wsmb": WSMB,
         "wsmv": WSMV, "xsi": XSI, "cim": CIM_COMMON}
PREFIX_OF = {uri: prefix for prefix, uri in NSMAP.items()}
PREFIX_OF[WSMANFAULT] = "wsmanfault"

#: DSP0226 5.3 / WS-Addressing: the anonymous reply address
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

ACTION_GET = WXF + "/Get"
ACTION_GET_RESPONSE = ACTION_GET + "Response"
ACTION_PUT = WXF + "/Put"
ACTION_PUT_RESPONSE = ACTION_PUT + "Response"
ACTION_CREATE = WXF + "/Create"
ACTION_CREATE_RESPONSE = ACTION_CREATE + "Response"
ACTION_DELETE = WXF + "/Delete"
ACTION_DELETE_RESPONSE = ACTION_DELETE + "Response"
ACTION_ENUMERATE = WSEN + "/Enumerate"
ACTION_ENUMERATE_RESPONSE = ACTION_ENUMERATE + "Response"
ACTION_PULL = WSEN + "/Pull"
ACTION_PULL_RESPONSE = ACTION_PULL + "Response"
ACTION_RELEASE = WSEN + "/Release"
ACTION_RELEASE_RESPONSE = ACTION_RELEASE + "Response"
ACTION_WSMAN_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ACTION_WSA_FAULT = WSA + "/fault"
ACTION_WSEN_FAULT = WSEN + "/fault"
ACTION_WXF_FAULT = WXF + "/fault"
FAULT_ACTIONS = frozenset({ACTION_WSMAN_FAULT, ACTION_WSA_FAULT, ACTION_WSEN_FAULT,
                           ACTION_WXF_FAULT})

#: MS-WSMV 3.1.4.1.13: WinRM's WQL filter dialect
DIALECT_WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#: the DMTF-hosted WQL dialect OpenPegasus accepts
DIALECT_WQL_DMTF = "http://schemas.dmtf.org/wbem/wsman/1/WQL"
#: DSP0227 8.1: CQL
DIALECT_CQL = "http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf"
#: DSP0227 8.2: association queries
DIALECT_ASSOCIATION = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter"
#: DSP0226 8.3 selector filter dialect
DIALECT_SELECTOR = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
WQL_DIALECTS = frozenset({DIALECT_WQL, DIALECT_WQL_DMTF})

#: DSP0226 8.7 wsman:EnumerationMode values (absent = objects only)
MODE_EPR = "EnumerateEPR"
MODE_OBJECT_AND_EPR = "EnumerateObjectAndEPR"
ENUMERATION_MODES = frozenset({MODE_EPR, MODE_OBJECT_AND_EPR})

#: the resource URI OMI answers a Get of a class on (selectors ``ClassName`` and
#: ``__cimnamespace``), with the class as a DSP0201 ``<CLASS>`` element: no
#: DSP0227 operation retrieves a class, and MS-WSMV (WinRM) has none either
CLASS_RETRIEVAL_URI = "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/*"
#: the selector naming the class to retrieve at :data:`CLASS_RETRIEVAL_URI`
CLASSNAME_SELECTOR = "ClassName"

#: DSP0227 6.3: the selector naming the CIM namespace
CIMNAMESPACE_SELECTOR = "__cimnamespace"

#: DSP0226 14: prefix of the wsman:FaultDetail URIs
FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

#: DSP0226 14 master fault table, as the codec uses it: subcode -> (SOAP code, action)
SUBCODES = {
    "wsman:AccessDenied": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:AlreadyExists": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:CannotProcessFilter": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:EncodingLimit": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:InternalError": ("Receiver", ACTION_WSMAN_FAULT),
    "wsman:InvalidOptions": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:InvalidParameter": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:InvalidSelectors": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:QuotaLimit": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:SchemaValidationError": ("Sender", ACTION_WSMAN_FAULT),
    "wsman:TimedOut": ("Receiver", ACTION_WSMAN_FAULT),
    "wsman:UnsupportedFeature": ("Sender", ACTION_WSMAN_FAULT),
    "wsa:ActionNotSupported": ("Sender", ACTION_WSA_FAULT),
    "wsa:DestinationUnreachable": ("Sender", ACTION_WSA_FAULT),
    "wsa:EndpointUnavailable": ("Receiver", ACTION_WSA_FAULT),
    "wsa:InvalidMessageInformationHeader": ("Sender", ACTION_WSA_FAULT),
    "wsa:MessageInformationHeaderRequired": ("Sender", ACTION_WSA_FAULT),
    "wsen:CannotProcessFilter": ("Sender", ACTION_WSEN_FAULT),
    "wsen:FilterDialectRequestedUnavailable": ("Sender", ACTION_WSEN_FAULT),
    "wsen:FilteringNotSupported": ("Sender", ACTION_WSEN_FAULT),
    "wsen:InvalidEnumerationContext": ("Receiver", ACTION_WSEN_FAULT),
    "wsen:TimedOut": ("Receiver", ACTION_WSEN_FAULT),
    "wxf:InvalidRepresentation": ("Sender", ACTION_WXF_FAULT),
}


def clark(namespace, local):
    """``{namespace}local``, the name lxml uses."""
    return f"{{{namespace}}}{local}"


def qn(prefixed):
    """Clark name of a ``prefix:local`` written with the prefixes of :data:`NSMAP`."""
    prefix, local = prefixed.split(":", 1)
    return clark(NSMAP[prefix], local)
