"""A hardened XML parser for WS-Management messages.

Every envelope the codec reads -- a server's response on the client side, a
client's request on the server side -- comes from the other end of a socket,
so :func:`parse_xml` reads it on these terms:

* a size limit, checked before any parsing (``max_bytes``);
* no DTD at all: a ``<!DOCTYPE`` (and with it every ``<!ENTITY``) is refused
  outright, before the parser sees it -- SOAP 1.2 (part 1, 5) forbids a DTD
  in an envelope anyway, so no honest peer sends one;
* no entity reference but the five predefined ones and character references
  (checked outside CDATA sections before parsing);
* no entity expansion, no network access, no external loading
  (``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``), and
  ``huge_tree=False`` so that libxml2 keeps its own text and depth limits;
* a nesting-depth limit of its own (``max_depth``), enforced while parsing
  (an incremental parser counts start and end events), so a deeply nested
  document is refused before it is built;
* optionally, a limit on the number of elements (``max_elements``, None:
  none), counted the same way, so that a server bounds the work a request
  can make (a body of a million empty elements is small in bytes).

Errors are :class:`XmlRefused` (hostile or over a limit) or
:class:`XmlMalformed` (not well-formed XML); both are :class:`XmlError`
(a ``ValueError``) whose message is one line, control characters escaped.
"""

from __future__ import annotations

import re

from lxml import etree

from ..safe_text import neutralize

__all__ = ["XmlError", "XmlRefused", "XmlMalformed", "parse_xml", "DEFAULT_MAX_BYTES",
           "DEFAULT_MAX_DEPTH"]

#: default size limit: WinRM's default MaxEnvelopeSize is 500 KiB; leave room
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
#: default nesting limit: an envelope with an EPR-valued key inside an
#: EPR-valued key inside an instance is about 20 deep
DEFAULT_MAX_DEPTH = 64

_CHUNK = 64 * 1024
_FORBIDDEN = ("<!DOCTYPE", "<!ENTITY")
_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
_ENTITY_REF = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)([^\s;<&]{1,40})")


class XmlError(ValueError):
    """A message that cannot be read; ``str()`` is one line."""

    def __init__(self, message):
        super().__init__(" ".join(neutralize(str(message)).split()))


class XmlRefused(XmlError):
    """Well-formed or not, the document is refused: a DTD, an entity, a limit."""


class XmlMalformed(XmlError):
    """The document is not well-formed XML."""


def _as_bytes(data):
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise XmlMalformed(f"malformed XML: expected bytes or str, got {type(data).__name__}")


def _scan_text(data):
    """The document as text for the DTD scan: UTF-16 (BOM or NUL bytes) decoded."""
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        for codec in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
        return data.decode("latin-1")
    return data.decode("latin-1")


def _parser():
    return etree.XMLPullParser(events=("start", "end"), resolve_entities=False,
                               no_network=True, load_dtd=False, dtd_validation=False,
                               huge_tree=False, collect_ids=False, remove_pis=True)


def parse_xml(data, *, max_bytes=DEFAULT_MAX_BYTES, max_depth=DEFAULT_MAX_DEPTH,
              max_elements=None):
    """The root element of ``data`` (bytes or str), read on the terms above.

    Raises :class:`XmlRefused` or :class:`XmlMalformed`, one line each."""
    raw = _as_bytes(data)
    if len(raw) > max_bytes:
        raise XmlRefused(f"refused XML: {len(raw)} bytes exceed the limit of {max_bytes} bytes")
    text = _scan_text(raw)
    for marker in _FORBIDDEN:
        if marker in text:
            raise XmlRefused(f"refused XML: {marker[2:]} declarations are not accepted "
                             "(no DTD, no entities)")
    entity = _ENTITY_REF.search(_CDATA.sub("", text))
    if entity:
        raise XmlRefused(f"refused XML: entity reference &{entity.group(1)}; is not one of the "
                         "five predefined ones")
    if not raw.strip():
        raise XmlMalformed("malformed XML: empty document")
    parser = _parser()
    depth = elements = 0
    try:
        for start in range(0, len(raw), _CHUNK):
            parser.feed(raw[start:start + _CHUNK])
            for event, _elem in parser.read_events():
                depth += 1 if event == "start" else -1
                if depth > max_depth:
                    raise XmlRefused(f"refused XML: elements nested deeper than {max_depth}")
                if event == "start" and max_elements is not None:
                    elements += 1
                    if elements > max_elements:
                        raise XmlRefused(f"refused XML: more than {max_elements} elements")
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "syntax error"
        if "entity" in message.lower():
            raise XmlRefused(f"refused XML: entity reference ({message})") from None
        raise XmlMalformed(f"malformed XML: {message}") from None
    for event, _elem in parser.read_events():
        depth += 1 if event == "start" else -1
        elements += event == "start"
    if max_elements is not None and elements > max_elements:
        raise XmlRefused(f"refused XML: more than {max_elements} elements")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlRefused("refused XML: DOCTYPE declarations are not accepted (no DTD, no entities)")
    for _node in root.iter(etree.Entity):
        raise XmlRefused("refused XML: entity references are not accepted")
    return root
