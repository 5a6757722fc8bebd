"""The SOAP 1.2 envelope of WS-Management: headers in, headers out.

A WS-Management message (DSP0226 5-6) is a SOAP 1.2 envelope whose header
addresses it with WS-Addressing -- ``wsa:To``, ``wsa:Action``,
``wsa:MessageID``, ``wsa:ReplyTo`` on a request, ``wsa:RelatesTo`` on a
response -- and with the WS-Management headers of DSP0226 6:
``wsman:ResourceURI``, ``wsman:SelectorSet`` (7.2), ``wsman:OperationTimeout``
(6.1), ``wsman:MaxEnvelopeSize`` (6.2) and ``wsman:Locale`` (6.3). This
module builds such an envelope (:func:`make_envelope`, :func:`serialize`)
and reads one (:func:`read_envelope`, through the hardened parser of
:mod:`.xmlsafe`); the operations on top are in :mod:`.request` and
:mod:`.response`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from lxml import etree

from ..safe_text import neutralize
from .cim import Epr, selectors_from_xml, selectors_to_xml
from .names import ANONYMOUS, NSMAP, SOAP_ENV, WSA, WSMAN, XML_NS, clark
from .xmlsafe import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml

__all__ = ["Envelope", "WsmanProtocolError", "make_envelope", "serialize", "read_envelope",
           "new_message_id", "duration_text", "duration_seconds", "child_text"]

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?$")


class WsmanProtocolError(ValueError):
    """A message that is XML but not the WS-Management message expected; one line."""

    def __init__(self, message):
        super().__init__(" ".join(neutralize(str(message)).split()))


def new_message_id():
    """A fresh ``uuid:...`` message ID (DSP0226 5.4.4)."""
    return f"uuid:{str(uuid.uuid4()).upper()}"


def duration_text(seconds):
    """An ``xs:duration`` for a number of seconds, as WinRM writes it: ``PT60.000S``."""
    return f"PT{float(seconds):.3f}S"


def duration_seconds(text):
    """Seconds of an ``xs:duration`` of days/hours/minutes/seconds, or None if unreadable."""
    match = _DURATION.match((text or "").strip())
    if not match or (text or "").strip() in ("P", "PT"):
        return None
    days, hours, minutes, seconds = match.groups()
    return (int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60
            + float(seconds or 0))


def child_text(parent, tag):
    """Stripped text of ``parent``'s first ``tag`` child, or None."""
    if parent is None:
        return None
    elem = parent.find(tag)
    return None if elem is None else (elem.text or "").strip()


def _header(header, local_ns, local, text=None, must_understand=None):
    elem = etree.SubElement(header, clark(local_ns, local))
    if text is not None:
        elem.text = str(text)
    if must_understand is not None:
        elem.set(clark(SOAP_ENV, "mustUnderstand"), "true" if must_understand else "false")
    return elem


def make_envelope(action, *, to=ANONYMOUS, message_id=None, relates_to=None, reply_to=None,
                  resource_uri=None, selectors=None, operation_timeout=None,
                  max_envelope_size=None, locale=None, option_set=None):
    """``(envelope, body)`` elements with the headers given (None = left out).

    ``operation_timeout`` is in seconds; ``selectors`` maps names to text or
    :class:`~wbemconform.wsman.cim.Epr`; ``locale`` is an ``xml:lang`` tag;
    ``option_set`` maps option names to text: a ``wsman:OptionSet``
    (DSP0226 6.4), e.g. OMI's ``IncludeInheritedElements`` for a class Get."""
    root = etree.Element(clark(SOAP_ENV, "Envelope"), nsmap=NSMAP)
    header = etree.SubElement(root, clark(SOAP_ENV, "Header"))
    _header(header, WSA, "To", to)
    if resource_uri is not None:
        _header(header, WSMAN, "ResourceURI", resource_uri, True)
    if reply_to is not None:
        reply = _header(header, WSA, "ReplyTo")
        _header(reply, WSA, "Address", reply_to, True)
    _header(header, WSA, "Action", action, True)
    _header(header, WSA, "MessageID", message_id or new_message_id())
    if relates_to is not None:
        _header(header, WSA, "RelatesTo", relates_to)
    if max_envelope_size is not None:
        _header(header, WSMAN, "MaxEnvelopeSize", int(max_envelope_size), True)
    if locale is not None:
        _header(header, WSMAN, "Locale", None, False).set(clark(XML_NS, "lang"), locale)
    if operation_timeout is not None:
        _header(header, WSMAN, "OperationTimeout", duration_text(operation_timeout))
    if selectors:
        selectors_to_xml(header, selectors)
    if option_set:
        options = _header(header, WSMAN, "OptionSet")
        for name, value in option_set.items():
            etree.SubElement(options, clark(WSMAN, "Option"), Name=str(name)).text = str(value)
    body = etree.SubElement(root, clark(SOAP_ENV, "Body"))
    return root, body


def serialize(root):
    """UTF-8 bytes of an envelope, with an XML declaration and tidy namespaces."""
    etree.cleanup_namespaces(root, top_nsmap=NSMAP, keep_ns_prefixes=list(NSMAP))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


@dataclass
class Envelope:
    """A parsed envelope: its root, header and body elements and the common headers."""
    root: object
    header: object
    body: object
    action: str | None
    message_id: str | None
    relates_to: str | None
    to: str | None
    reply_to: str | None
    resource_uri: str | None
    selectors: dict = field(default_factory=dict)
    max_envelope_size: int | None = None
    operation_timeout: float | None = None
    locale: str | None = None

    @property
    def payload(self):
        """The body's first child element, or None for an empty body."""
        return next((c for c in self.body if isinstance(c.tag, str)), None)

    def epr(self):
        """The addressed resource as an :class:`~wbemconform.wsman.cim.Epr`."""
        return Epr(self.resource_uri or "", dict(self.selectors), self.to or ANONYMOUS)


def read_envelope(data, *, max_bytes=DEFAULT_MAX_BYTES, max_depth=DEFAULT_MAX_DEPTH,
                  max_elements=None):
    """The :class:`Envelope` of ``data`` (bytes); raises
    :class:`~wbemconform.wsman.xmlsafe.XmlError` or :class:`WsmanProtocolError`."""
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth,
                     max_elements=max_elements)
    if root.tag != clark(SOAP_ENV, "Envelope"):
        name = etree.QName(root)
        if name.localname == "Envelope":
            raise WsmanProtocolError(f"not a SOAP 1.2 envelope: namespace {name.namespace!r}")
        raise WsmanProtocolError(f"not a SOAP envelope: root element <{name.localname}>")
    header = root.find(clark(SOAP_ENV, "Header"))
    body = root.find(clark(SOAP_ENV, "Body"))
    if body is None:
        raise WsmanProtocolError("SOAP envelope without a Body")
    if header is None:
        header = etree.SubElement(root, clark(SOAP_ENV, "Header"))
    reply = header.find(clark(WSA, "ReplyTo"))
    size = child_text(header, clark(WSMAN, "MaxEnvelopeSize"))
    locale = header.find(clark(WSMAN, "Locale"))
    try:
        size_value = int(size) if size else None
    except ValueError:
        raise WsmanProtocolError(f"wsman:MaxEnvelopeSize {size[:40]!r} is not a number") from None
    return Envelope(
        root=root, header=header, body=body,
        action=child_text(header, clark(WSA, "Action")),
        message_id=child_text(header, clark(WSA, "MessageID")),
        relates_to=child_text(header, clark(WSA, "RelatesTo")),
        to=child_text(header, clark(WSA, "To")),
        reply_to=child_text(reply, clark(WSA, "Address")),
        resource_uri=child_text(header, clark(WSMAN, "ResourceURI")),
        selectors=selectors_from_xml(header.find(clark(WSMAN, "SelectorSet"))),
        max_envelope_size=size_value,
        operation_timeout=duration_seconds(child_text(header, clark(WSMAN, "OperationTimeout"))),
        locale=None if locale is None else locale.get(clark(XML_NS, "lang")))
