"""WS-Management faults: reading them into :class:`WsmanFault`, writing them.

A fault (SOAP 1.2 part 1 5.4; DSP0226 14) is an ``s:Fault`` body with a
code (``s:Sender``/``s:Receiver``), a subcode naming the WS-Management fault
(``wsman:InvalidSelectors``, ``wsa:DestinationUnreachable``, ...), a reason
text and an optional ``s:Detail``. The detail may hold a
``wsman:FaultDetail`` URI (DSP0226 14.1), MS-WSMV's ``WSManFault`` (2.2.4.43)
and, from a CIM server, a CIM_Error instance: OMI writes ``OMI_Error``,
WinRM ``MSFT_WmiError``, both with ``wsmb:IsCIM_Error="true"`` and a
``CIMStatusCode`` property.

:attr:`WsmanFault.cim_status` is the CIM status code, read without guessing:
the detail's ``CIMStatusCode`` when it holds one (and only one value);
else a single ``CIM_ERR_<NAME>`` token in the reason (OMI's reasons read
``CIM ERROR:<NAME>: ...``, which counts too); else None -- the fault says
nothing about a CIM status, and nothing is inferred from the subcode.

The writing side (:func:`build_fault`, :func:`fault_for_cim_error`) serves
the WS-Man server in front of the mock: the CIM status goes in the detail
as WinRM does it, in an ``MSFT_WmiError`` (class name configurable).
"""

from __future__ import annotations

import re

import pywbem
from lxml import etree

from ..safe_text import neutralize
from .envelope import make_envelope, serialize
from .names import (ACTION_WSMAN_FAULT, ANONYMOUS, FAULT_DETAIL, PREFIX_OF, SOAP_ENV, SUBCODES,
                    WSMAN, WSMANFAULT, WSMB, XML_NS, XSI, clark)
from .resource_uri import DMTF_BASE

__all__ = ["WsmanFault", "fault_from_body", "build_fault", "fault_for_cim_error",
           "CIM_STATUS_NAMES", "CIM_STATUS_FAULTS"]

#: CIM status code -> CIM_ERR_ name (DSP0200 / pywbem's constants)
CIM_STATUS_NAMES = {getattr(pywbem, n): n for n in dir(pywbem)
                    if n.startswith("CIM_ERR_") and isinstance(getattr(pywbem, n), int)}
_CODE_OF_NAME = {name: code for code, name in CIM_STATUS_NAMES.items()}
_TOKEN = re.compile(r"\bCIM_ERR_[A-Z_]+\b")
_OMI_TOKEN = re.compile(r"\bCIM ERROR:([A-Z_]+)\b")

#: CIM status -> (subcode, fault detail URI or None), after DSP0226 14's
#: master fault table and DSP0227's mapping advice; anything else is
#: wsman:InternalError.
CIM_STATUS_FAULTS = {
    1: ("wsman:InternalError", None),
    2: ("wsman:AccessDenied", None),
    3: ("wsa:DestinationUnreachable", None),
    4: ("wsman:InvalidParameter", None),
    5: ("wsa:DestinationUnreachable", FAULT_DETAIL + "InvalidResourceURI"),
    6: ("wsa:DestinationUnreachable", None),
    7: ("wsa:ActionNotSupported", FAULT_DETAIL + "ActionMismatch"),
    11: ("wsman:AlreadyExists", None),
    14: ("wsen:FilterDialectRequestedUnavailable", None),
    15: ("wsen:CannotProcessFilter", None),
    16: ("wsa:ActionNotSupported", None),
    17: ("wsa:ActionNotSupported", None),
    21: ("wsen:InvalidEnumerationContext", None),
    22: ("wsman:UnsupportedFeature", FAULT_DETAIL + "OperationTimeout"),
    25: ("wsen:FilteringNotSupported", None),
    27: ("wsman:QuotaLimit", None),
    28: ("wsa:EndpointUnavailable", None),
}


def _one_line(text):
    return " ".join(neutralize(str(text or "")).split())


class WsmanFault(Exception):
    """A WS-Management fault, received or to be sent.

    ``code`` is the SOAP code's local name (``Sender``, ``Receiver``, ...);
    ``subcode`` is written ``prefix:Name`` with the codec's prefixes
    (``wsman:InvalidSelectors``) or ``{namespace}Name`` for others;
    ``cim_status`` is an int or None (not determinable) and
    ``cim_status_source`` says where it came from (``"detail"``,
    ``"reason"`` or None). ``detail`` is the ``s:Detail`` element (None on a
    fault built locally), ``fault_detail`` its ``wsman:FaultDetail`` URI,
    ``wsman_code`` MS-WSMV's ``WSManFault/@Code``, ``message`` the detail's
    own message text. ``str()`` is one line."""

    def __init__(self, subcode, reason="", *, code=None, detail=None, fault_detail=None,
                 cim_status=None, cim_status_source=None, wsman_code=None, message=None,
                 action=None, relates_to=None):
        self.subcode = subcode
        self.code = code or SUBCODES.get(subcode, ("Receiver", None))[0]
        self.reason = reason or ""
        self.detail = detail
        self.fault_detail = fault_detail
        self.cim_status = cim_status
        self.cim_status_source = cim_status_source if cim_status is not None else None
        self.wsman_code = wsman_code
        self.message = message
        self.action = action
        self.relates_to = relates_to
        super().__init__(self.summary())

    def summary(self):
        """One line: code, subcode, CIM status when known, reason."""
        status = ""
        if self.cim_status is not None:
            status = f" [{CIM_STATUS_NAMES.get(self.cim_status, 'CIM status')} " \
                     f"{self.cim_status}]"
        name = f"{self.code}/{self.subcode}" if self.subcode else str(self.code)
        return _one_line(f"WS-Management fault {name}{status}: "
                         f"{self.reason or self.message or '(no reason given)'}")

    @property
    def detail_xml(self):
        """The ``s:Detail`` element as text, or None."""
        if self.detail is None:
            return None
        return etree.tostring(self.detail, encoding="unicode")

    def to_xml(self, relates_to=None, *, error_class="MSFT_WmiError"):
        """This fault as a response envelope (bytes); see :func:`build_fault`."""
        return build_fault(self.subcode, self.reason, relates_to=relates_to or self.relates_to,
                           code=self.code, cim_status=self.cim_status,
                           fault_detail=self.fault_detail, error_class=error_class,
                           action=self.action)


def _qname_text(elem):
    """``prefix:Local`` of a QName-valued element, with the codec's prefixes."""
    text = (elem.text or "").strip() if elem is not None else ""
    prefix, sep, local = text.rpartition(":")
    namespace = elem.nsmap.get(prefix if sep else None) if elem is not None else None
    if namespace is None:
        return text
    if namespace == SOAP_ENV:
        return local
    known = PREFIX_OF.get(namespace)
    return f"{known}:{local}" if known else f"{{{namespace}}}{local}"


def _status_from_detail(detail):
    if detail is None:
        return None
    values = set()
    for elem in detail.xpath(".//*[local-name()='CIMStatusCode']"):
        text = (elem.text or "").strip()
        if text.isdigit():
            values.add(int(text))
    return values.pop() if len(values) == 1 else None


def _status_from_reason(reason):
    names = set(_TOKEN.findall(reason or ""))
    names |= {"CIM_ERR_" + name for name in _OMI_TOKEN.findall(reason or "")}
    codes = {_CODE_OF_NAME[name] for name in names if name in _CODE_OF_NAME}
    return codes.pop() if len(codes) == 1 and len(names) == 1 else None


def _detail_message(detail):
    if detail is None:
        return None
    for elem in detail.iter(clark(WSMANFAULT, "Message")):
        return " ".join("".join(elem.itertext()).split()) or None
    for elem in detail.xpath(".//*[@*[local-name()='IsCIM_Error']]/*[local-name()='Message']"):
        return " ".join("".join(elem.itertext()).split()) or None
    return None


def fault_from_body(fault, *, action=None, relates_to=None):
    """The :class:`WsmanFault` an ``s:Fault`` element describes."""
    code_elem = fault.find(f"{clark(SOAP_ENV, 'Code')}/{clark(SOAP_ENV, 'Value')}")
    sub_elem = fault.find(f"{clark(SOAP_ENV, 'Code')}/{clark(SOAP_ENV, 'Subcode')}/"
                          f"{clark(SOAP_ENV, 'Value')}")
    texts = fault.findall(f"{clark(SOAP_ENV, 'Reason')}/{clark(SOAP_ENV, 'Text')}")
    reason = " ".join("".join(t.itertext()).strip() for t in texts[:1])
    detail = fault.find(clark(SOAP_ENV, "Detail"))
    fault_detail = None
    wsman_code = None
    if detail is not None:
        found = detail.find(f".//{clark(WSMAN, 'FaultDetail')}")
        fault_detail = (found.text or "").strip() if found is not None else None
        wsman = detail.find(f".//{clark(WSMANFAULT, 'WSManFault')}")
        if wsman is not None and (wsman.get("Code") or "").isdigit():
            wsman_code = int(wsman.get("Code"))
    status, source = _status_from_detail(detail), "detail"
    if status is None:
        status, source = _status_from_reason(reason), "reason"
    return WsmanFault(_qname_text(sub_elem) if sub_elem is not None else None, reason,
                      code=_qname_text(code_elem) or "Receiver", detail=detail,
                      fault_detail=fault_detail, cim_status=status, cim_status_source=source,
                      wsman_code=wsman_code, message=_detail_message(detail), action=action,
                      relates_to=relates_to)


def _cim_error(detail, error_class, status, reason):
    uri = DMTF_BASE + error_class
    error = etree.SubElement(detail, clark(uri, error_class), nsmap={"p": uri})
    error.set(clark(WSMB, "IsCIM_Error"), "true")
    error.set(clark(XSI, "type"), f"p:{error_class}_Type")
    for name, xsi_type, text in (
            ("CIMStatusCode", "cim:cimUnsignedInt", str(status)),
            ("CIMStatusCodeDescription", "cim:cimString", CIM_STATUS_NAMES.get(status)),
            ("Message", "cim:cimString", reason)):
        elem = etree.SubElement(error, clark(uri, name))
        elem.set(clark(XSI, "type"), xsi_type)
        if text is None:
            elem.set(clark(XSI, "nil"), "true")
        else:
            elem.text = text


def build_fault(subcode, reason, *, relates_to=None, code=None, cim_status=None,
                fault_detail=None, error_class="MSFT_WmiError", action=None, message_id=None,
                lang="en-US"):
    """A fault response envelope (bytes).

    ``subcode`` is ``prefix:Name`` (see :data:`~wbemconform.wsman.names.SUBCODES`,
    which also gives the default ``code`` and ``action``); with
    ``cim_status`` the detail carries a CIM_Error instance of class
    ``error_class`` whose ``CIMStatusCode`` is that status."""
    default_code, default_action = SUBCODES.get(subcode, ("Receiver", ACTION_WSMAN_FAULT))
    root, body = make_envelope(action or default_action, to=ANONYMOUS, message_id=message_id,
                               relates_to=relates_to)
    fault = etree.SubElement(body, clark(SOAP_ENV, "Fault"))
    code_elem = etree.SubElement(fault, clark(SOAP_ENV, "Code"))
    etree.SubElement(code_elem, clark(SOAP_ENV, "Value")).text = f"s:{code or default_code}"
    sub = etree.SubElement(code_elem, clark(SOAP_ENV, "Subcode"))
    etree.SubElement(sub, clark(SOAP_ENV, "Value")).text = subcode
    reason_elem = etree.SubElement(fault, clark(SOAP_ENV, "Reason"))
    text = etree.SubElement(reason_elem, clark(SOAP_ENV, "Text"))
    text.set(clark(XML_NS, "lang"), lang)
    text.text = reason or ""
    if fault_detail or cim_status is not None:
        detail = etree.SubElement(fault, clark(SOAP_ENV, "Detail"))
        if fault_detail:
            etree.SubElement(detail, clark(WSMAN, "FaultDetail")).text = fault_detail
        if cim_status is not None:
            _cim_error(detail, error_class, int(cim_status), reason)
    return serialize(root)


def fault_for_cim_error(cim_status, description="", *, operation=None, relates_to=None,
                        error_class="MSFT_WmiError"):
    """The fault envelope a WS-Man server sends for a CIM error (``CIMError``
    or status code): subcode by :data:`CIM_STATUS_FAULTS` (a Get's
    CIM_ERR_INVALID_PARAMETER is ``wsman:InvalidSelectors``), the status in the detail."""
    if isinstance(cim_status, pywbem.CIMError):
        description = description or cim_status.status_description
        cim_status = cim_status.status_code
    subcode, fault_detail = CIM_STATUS_FAULTS.get(int(cim_status), ("wsman:InternalError", None))
    if operation == "Get" and int(cim_status) == 4:
        subcode = "wsman:InvalidSelectors"
    reason = description or CIM_STATUS_NAMES.get(int(cim_status), "CIM error")
    return build_fault(subcode, reason, relates_to=relates_to, cim_status=cim_status,
                       fault_detail=fault_detail, error_class=error_class)
