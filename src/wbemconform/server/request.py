"""Reading a CIM-XML request body: :func:`parse_request`.

The body is parsed by expat into the tuple tree pywbem's own CIM-XML parser
reads (:func:`request_tree`), in time linear in the body, refusing any
DOCTYPE (so no entity is ever declared or expanded, whatever the encoding),
and with limits on elements (:data:`MAX_XML_ELEMENTS`), nesting
(:data:`MAX_XML_DEPTH`) and attributes (:data:`MAX_XML_ATTRIBUTES`); then
pywbem's ``TupleParser`` (through :mod:`wbemconform.server.pywbem_xml`) turns
the tree into tuples and CIM objects (``SIMPLEREQ``/``IMETHODCALL``/
``IPARAMVALUE``).
"""

from __future__ import annotations

from xml.parsers import expat

from pywbem import CIMVersionError, CIMXMLParseError, DTDVersionError, ProtocolVersionError

from .common import HttpError, one_line
from .pywbem_xml import parse_cim

#: Most elements a request may have (HTTP 413 beyond): bounds the work of
#: pywbem's parser and the mock (a PropertyList of a million names).
MAX_XML_ELEMENTS = 100_000
#: Deepest element nesting accepted (CIM-XML needs about 15).
MAX_XML_DEPTH = 64
#: Most attributes one element may have (CIM-XML elements have at most 8).
MAX_XML_ATTRIBUTES = 32


class _Refused(Exception):
    """Raised from an expat handler: the request is refused as it is read."""

    def __init__(self, status, cimerror, detail):
        super().__init__(detail)
        self.status = status
        self.cimerror = cimerror
        self.detail = detail


def _doctype_refused(*_):
    # Called at "<!DOCTYPE", before any declaration in it is read: no entity
    # can be declared, so none is ever expanded, in whatever encoding the
    # document is (expat decodes first, per BOM / XML declaration).
    raise _Refused(400, "request-not-valid",
                   "DOCTYPE declarations (and so entity declarations) are not accepted "
                   "in CIM-XML requests")




def request_tree(body):
    """The tuple tree of a CIM-XML document: ``(NAME, ATTRS, CHILDREN)`` with
    text as ``str`` -- the shape pywbem's ``TupleParser`` reads, as pywbem's
    own ``_tupletree.xml_to_tupletree_sax`` builds it.

    Built here rather than with pywbem's SAX handler because that handler
    appends each piece of text to the previous one (``children[-1] += text``,
    a copy each time): expat hands over every line of text as its own piece,
    so a body of many newlines costs time quadratic in its size (640 KB of
    newlines: seconds of CPU). Here the pieces are joined once, so the cost is
    linear; the document is given to expat in one call (no re-scanning of
    tokens split across feeds); DOCTYPE is refused (no entities); and the
    number of elements, their nesting and attributes are limited, so that what
    pywbem's parser and the mock get is bounded too.
    """
    parser = expat.ParserCreate()  # the encoding: BOM / XML declaration, else UTF-8
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    stack = []   # open elements
    text = []    # pieces of text since the last element boundary
    root = []
    count = [0]

    def flush():
        if text:
            stack[-1][2].append("".join(text))
            text.clear()

    def start(name, attributes):
        count[0] += 1
        if count[0] > MAX_XML_ELEMENTS:
            raise _Refused(413, None, f"request has more than {MAX_XML_ELEMENTS} XML elements")
        if len(stack) >= MAX_XML_DEPTH:
            raise _Refused(400, "request-not-valid",
                           f"XML elements nested more than {MAX_XML_DEPTH} deep")
        if len(attributes) > MAX_XML_ATTRIBUTES:
            raise _Refused(400, "request-not-valid",
                           f"element {name[:40]!r} has more than {MAX_XML_ATTRIBUTES} "
                           f"attributes")
        element = (name, attributes, [])
        if stack:
            flush()
            stack[-1][2].append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_name):
        flush()
        stack.pop()

    def characters(data):
        if stack:  # (expat reports no text outside the root element)
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = _doctype_refused
    parser.Parse(body, True)
    return root[0]


def parse_request(body):
    """(message id, parsed ``IMETHODCALL`` or ``METHODCALL``) of a CIM-XML
    request body, in time linear in its size.

    The call is pywbem's ``TupleParser`` tuple: ``("IMETHODCALL", attrs,
    namespace, [(param name, value)])`` or ``("METHODCALL", attrs, path,
    [params])``. A body that is not an acceptable request raises an exception
    with ``status`` (HTTP), ``cimerror`` (the DSP0200 ``CIMError`` header or
    None) and a one-line ``detail``.
    """
    if not body.strip():
        raise HttpError(400, "request-not-well-formed", "empty request body")
    try:
        tree = request_tree(body)
    except _Refused as exc:
        raise HttpError(exc.status, exc.cimerror, exc.detail) from None
    except expat.ExpatError as exc:
        raise HttpError(400, "request-not-well-formed",
                        f"not well-formed XML: {expat.ErrorString(exc.code)} "
                        f"(line {exc.lineno}, column {exc.offset})") from None
    except Exception as exc:  # e.g. an encoding expat cannot read
        raise HttpError(400, "request-not-well-formed",
                        f"not readable as XML: {one_line(exc)}") from None
    try:
        if tree[0] != "CIM":
            raise CIMXMLParseError(f"the root element is {tree[0][:40]!r}, not CIM")
        # Multiple requests are a protocol feature this server does not have.
        message = [k for k in tree[2] if isinstance(k, tuple)]
        if message and message[0][0] == "MESSAGE":
            inner = [k for k in message[0][2] if isinstance(k, tuple)]
            if inner and inner[0][0] == "MULTIREQ":
                raise HttpError(501, "multiple-requests-unsupported",
                                "MULTIREQ is not supported")
        cim = parse_cim(tree)
        msg = cim[2]
        if msg[0] != "MESSAGE":
            raise CIMXMLParseError(f"expected MESSAGE, got {msg[0]}")
        req = msg[2]
        if req[0] != "SIMPLEREQ":
            raise CIMXMLParseError(f"expected SIMPLEREQ, got {req[0]}")
        return msg[1]["ID"], req[2]
    except HttpError:
        raise
    except CIMVersionError as exc:
        raise HttpError(501, "unsupported-cim-version", one_line(exc)) from None
    except DTDVersionError as exc:
        raise HttpError(501, "unsupported-dtd-version", one_line(exc)) from None
    except ProtocolVersionError as exc:
        raise HttpError(501, "unsupported-protocol-version", one_line(exc)) from None
    except Exception as exc:  # CIMXMLParseError, or a value pywbem could not read
        raise HttpError(400, "request-not-valid", one_line(exc)) from None
