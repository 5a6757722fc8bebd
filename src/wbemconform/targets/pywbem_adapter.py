"""Every use the targets' transport makes of pywbem's and requests' private insides.

pywbem 1.9.1 gives no public way to (a) choose the HTTP transport of a
``WBEMConnection`` or (b) bound the cost of parsing an answer; requests gives
no public way to hand back a body that was already read. The transport
(:mod:`.transport`) and the CIM-XML opener (:mod:`.cimxml`) need all three, so
they live here -- and nowhere else in :mod:`wbemconform.targets` -- each with
the reason. ``tests/test_private_apis.py`` (the names) and
``tests/test_transport.py::test_adapter_*`` (the behaviour) fail loudly when a
new pywbem or requests changes what they rely on. (The served mock's pywbem
internals are :mod:`wbemconform.server`'s business, not this module's.)
"""

from __future__ import annotations

import io

import pywbem
import requests
from pywbem import _tupleparse  # private: see parse_class_xml
from pywbem import _tupletree  # private: see install_linear_text_handler

__all__ = ["install_session", "install_linear_text_handler", "BodyAlreadyRead", "parse_xml",
           "original_parse_xml", "parse_class_xml"]


def install_session(conn: pywbem.WBEMConnection, session: requests.Session) -> None:
    """Make ``conn`` send every request through ``session``.

    Private: ``WBEMConnection.session`` is an undocumented attribute, created
    in ``__init__``; pywbem's ``wbem_request`` (``_cim_http.py``) sends each
    operation with ``conn.session.post(url, data=..., headers=...,
    timeout=...)`` and nothing else. Replacing it is the only way to bound a
    whole operation, refuse redirects, cap the answer's size and keep the
    TLS options from being overridden by the environment.
    """
    if not isinstance(getattr(conn, "session", None), requests.Session):
        raise RuntimeError("pywbem.WBEMConnection no longer has a requests.Session in "
                           "'.session': wbemconform.targets.pywbem_adapter needs updating")
    conn.session.close()
    conn.session = session


class BodyAlreadyRead(io.BytesIO):
    """A body the transport read (bounded) itself, where requests expects
    urllib3's response object (``Response.raw``).

    Private: requests' ``Response.content`` reads ``raw.read(n)`` until it is
    empty when ``raw`` has no ``stream`` method (io.BytesIO has none), and
    ``Session.send`` takes the cookies from ``raw._original_response.msg``:
    keeping that attribute keeps cookie-based server sessions working.
    """

    def __init__(self, data: bytes, original):
        super().__init__(data)
        self._original_response = getattr(original, "_original_response", None)


# -- parsing --------------------------------------------------------------------

_ORIGINAL_HANDLER = _tupletree.CIMContentHandler
_CHECK_EVERY = 512  # SAX events between two deadline checks


class _LinearTextHandler(_ORIGINAL_HANDLER):
    """pywbem's SAX handler without its quadratic text handling.

    pywbem's ``CIMContentHandler.characters`` appends every piece of text
    expat reports to the element's last text node with ``children[-1] +=
    content``; since the list holds the string, each append copies it, and
    expat reports text in pieces (one per line, per entity reference, per
    buffer), so a 640 KB answer of newlines costs seconds and 6 MB costs
    minutes. Here the pieces are collected and joined once, when the next
    element starts or the current one ends: the same tree, in linear time.
    ``check`` (when set) is called every few hundred events and may raise to
    abandon the parse (the transport's deadline).
    """

    check = None  # set by install_linear_text_handler

    def __init__(self):
        super().__init__()
        self._pieces = []
        self._events = 0

    def _tick(self):
        self._events += 1
        if self._events % _CHECK_EVERY == 0 and self.check is not None:
            self.check()

    def _flush(self):
        if self._pieces:
            text = "".join(self._pieces)
            self._pieces = []
            super().characters(text)

    def characters(self, content):
        self._pieces.append(content)
        self._tick()

    def startElement(self, name, attrs):
        self._flush()
        self._tick()
        super().startElement(name, attrs)

    def endElement(self, name):
        self._flush()
        super().endElement(name)


def install_linear_text_handler(check=None) -> None:
    """Make pywbem parse XML with :class:`_LinearTextHandler` (process-wide;
    idempotent). ``check()`` is called during every parse and may raise.

    Private: ``pywbem._tupletree.xml_to_tupletree_sax`` instantiates the
    module global ``CIMContentHandler`` on every call (for answers, embedded
    objects and listener requests alike), so replacing that global with a
    subclass changes the cost of every parse and nothing else.
    """
    if not (isinstance(_tupletree.CIMContentHandler, type) and
            issubclass(_tupletree.CIMContentHandler, _ORIGINAL_HANDLER) and
            callable(getattr(_tupletree, "xml_to_tupletree_sax", None))):
        raise RuntimeError("pywbem._tupletree changed: wbemconform.targets.pywbem_adapter needs "
                           "updating")
    _LinearTextHandler.check = staticmethod(check) if check is not None else None
    _tupletree.CIMContentHandler = _LinearTextHandler


def parse_xml(data: bytes):
    """pywbem's tuple tree for ``data`` (with whatever handler is installed)."""
    return _tupletree.xml_to_tupletree_sax(data, "CIM-XML response")


def original_parse_xml(data: bytes):
    """The tuple tree pywbem's own handler makes (for the equivalence test)."""
    installed = _tupletree.CIMContentHandler
    _tupletree.CIMContentHandler = _ORIGINAL_HANDLER
    try:
        return _tupletree.xml_to_tupletree_sax(data, "CIM-XML response")
    finally:
        _tupletree.CIMContentHandler = installed


def parse_class_xml(xml: bytes) -> pywbem.CIMClass:
    """The ``CIMClass`` of a DSP0201 ``<CLASS>`` element (bytes).

    Private: pywbem 1.9.1 reads CIM-XML only inside its operations; its
    ``_tupletree.xml_to_tupletree_sax`` and ``_tupleparse.TupleParser
    .parse_class`` are the reader. A WS-Management server that offers class
    retrieval (a Get on the ``cim-xml`` resource URI) answers with such an
    element, which the WS-Management client (:mod:`.wsman_conn`) hands here
    after the hardened parser (:mod:`wbemconform.wsman.xmlsafe`) has read it
    -- so no DTD or entity reaches pywbem's SAX parser. pywbem's errors
    (``CIMXMLParseError``, ``XMLParseError``) are raised as they are."""
    tree = _tupletree.xml_to_tupletree_sax(xml, "CLASS")
    return _tupleparse.TupleParser().parse_class(tree)
