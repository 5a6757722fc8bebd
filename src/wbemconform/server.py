"""Serve the embedded mock as a real WBEM server: CIM-XML over HTTP.

``serve(conn)`` puts a :class:`wbemconform.mock.WmiMockConnection` (or any
pywbem_mock ``FakedWBEMConnection``) behind a real HTTP listener speaking
CIM-XML (DSP0200 operations over HTTP, DSP0201 representation), so pywbem's
real ``WBEMConnection`` -- or any other WBEM client -- can talk to it::

    from wbemconform.mock import connect
    from wbemconform.server import serve

    with serve(connect()) as server:          # 127.0.0.1, a free port
        conn = pywbem.WBEMConnection(server.url, default_namespace="root/interop")
        conn.EnumerateInstances("CIM_RegisteredProfile")

How a request is handled (:func:`make_app`, a WSGI application):

* the body is parsed (:func:`parse_request`) by expat into the tuple tree
  pywbem's own CIM-XML parser reads, in time linear in the body, refusing
  any DOCTYPE (so no entity is ever declared or expanded, whatever the
  encoding), and with limits on elements, nesting and attributes; then
  pywbem's ``TupleParser`` turns the tree into tuples and CIM objects
  (``SIMPLEREQ``/``IMETHODCALL``/``IPARAMVALUE``);
* the intrinsic method is handed to the mock exactly as pywbem's client hands
  it over in process (``conn._mock_imethodcall(name, namespace, **params)``,
  i.e. the mock's ``_imeth_<Name>``), under a lock, because the mock is not
  thread-safe; with ``read_only=True`` every write operation (and every
  extrinsic method) is refused with ``CIM_ERR_ACCESS_DENIED`` first;
* the result -- the tuple structure ``WBEMConnection._imethodcall`` returns --
  is turned back into CIM-XML with pywbem's generation code (``_cim_xml`` and
  the objects' ``tocimxml()``), in the element DSP0200 prescribes for the
  operation (``VALUE.NAMEDINSTANCE`` for enumerations, ``INSTANCENAME``,
  ``VALUE.OBJECTWITHPATH`` for associators/references/ExecQuery, ``OBJECTPATH``,
  ``CLASS``/``CLASSNAME``, ``QUALIFIER.DECLARATION``, ``VALUE.INSTANCEWITHPATH``
  / ``INSTANCEPATH`` / ``INSTANCE`` for pull operations with the out
  parameters ``EnumerationContext`` and ``EndOfSequence`` as ``PARAMVALUE``).

pywbem is a client library: it has no public API to read CIM-XML *requests*
or write *responses*. The private parts used for that (``TupleParser``,
``_cim_xml``, the mock's ``_mock_imethodcall``) are imported in one place
below, and tests/test_server_pywbem_adapter.py fails loudly if pywbem changes
them.

Errors, as DSP0200 divides them:

* a ``CIMError`` of the operation (or a wrong parameter, or an unknown
  intrinsic method: ``CIM_ERR_NOT_SUPPORTED``) is an ``ERROR`` element inside
  a normal ``IMETHODRESPONSE``, HTTP 200, no ``CIMError`` header;
* a request that is not CIM-XML is an HTTP error with the ``CIMError``
  header: 400 ``request-not-well-formed`` (not well-formed XML),
  400 ``request-not-valid`` (well-formed but not a valid CIM-XML request, or
  with a DOCTYPE), 400 ``unsupported-operation`` (``CIMOperation`` is not
  ``MethodCall``), 400 ``header-mismatch`` (``CIMMethod``/``CIMObject``
  disagree with the body), 501 ``unsupported-protocol-version`` /
  ``unsupported-cim-version`` / ``unsupported-dtd-version`` /
  ``multiple-requests-unsupported``; 405 for other HTTP methods, 501 for
  ``M-POST`` (so clients fall back to ``POST``), 413 for bodies over
  :data:`MAX_REQUEST_BYTES` or with more than :data:`MAX_XML_ELEMENTS`
  elements;
* an unexpected Python exception in the mock is ``CIM_ERR_FAILED`` naming the
  exception; the traceback goes to the ``wbemconform.server`` logger (it is a
  bug in the mock), never to the client.

Bounds on what one operation costs the mock, which serves one operation at a
time: a WQL query (``ExecQuery``, ``OpenQueryInstances``) longer than
:data:`wbemconform.wql.MAX_QUERY_LENGTH` characters is refused with
``CIM_ERR_INVALID_QUERY`` before the mock is touched, and the mock refuses
queries with more than ``MAX_QUERY_TERMS`` comparisons or nested deeper than
``MAX_QUERY_DEPTH`` the same way. Pull enumeration contexts (``Open*`` not
pulled to the end) expire after their ``OperationTimeout`` without use
(:data:`ENUMERATION_TIMEOUT` seconds unless the Open gave one), and at most
:data:`MAX_ENUMERATION_CONTEXTS` are kept (the least recently used goes
first); a Pull on one closed so is ``CIM_ERR_INVALID_ENUMERATION_CONTEXT``
saying why. Workers waiting for the mock give up when the server stops.

Extrinsic method calls (``METHODCALL``) are answered with
``CIM_ERR_NOT_SUPPORTED``: the WMI mock serves no methods.

With ``user`` set, every request needs HTTP Basic authentication (compared in
constant time); otherwise the answer is 401 with
``WWW-Authenticate: Basic realm="wbemconform"``. :func:`serve` refuses to
listen on an address that is not loopback without authentication, unless
told ``allow_unauthenticated_remote=True``.

Paths the mock marks with its own fake host (``conn.host``,
``FakedUrl:5988``) or with no host, where DSP0201 needs one
(``INSTANCEPATH``/``CLASSPATH``), carry the authority the client addressed
(the ``Host`` header), as a real server names itself.

Fault injection (``fault=``, for testing clients such as the suites against
a misbehaving server; never on by default): one of :data:`FAULT_HELP`,
optionally prefixed ``"after:N:"`` to let the first N requests through
(``"after:20:http500"``), so that the fault hits mid-run. See
:func:`parse_fault`.

The HTTP side (:func:`serve`) is an asyncio front end in one thread, and
the WSGI application runs in a pool of ``numthreads`` worker threads. The
front end reads each request completely -- request line, headers, body --
before a worker sees it, so slow or idle clients cost a coroutine and a
socket, never a worker; the head and body must arrive within
``request_timeout`` seconds of the request's first byte (else 408), TLS
handshakes within :data:`TLS_HANDSHAKE_TIMEOUT` seconds, and an idle
kept-alive connection is closed after ``idle_timeout`` seconds. At most
``max_connections`` (:data:`MAX_CONNECTIONS`) connections are kept: one more
closes the connection that has been quiet longest (no byte for at least
:data:`EVICT_QUIET_SECONDS`, and no answer being made for it: a client
holding half a request, or an idle one) or, if none has, is answered 503, so
that clients holding connections open cannot lock the others out. Framing is
strict, so that a request can never be read two ways: exactly one
well-formed ``Content-Length`` or ``Transfer-Encoding: chunked`` (never
both), chunk sizes checked against the limit before anything is read, no
bytes after the body (this server does not take pipelined requests: CIM-XML
requests are POSTs, which clients do not pipeline), exactly one ``Host``,
no obsolete line folding, no control characters, header size and count
limited. Anything else is a one-line 4xx and the connection is closed;
nothing a client sends produces a traceback in the log. The standard
library's asyncio is used (not a threaded HTTP server such as cheroot,
whose workers read the request themselves and are held by a client that
trickles it, and whose TLS handshake blocks its accept loop): it handles
thousands of waiting sockets in one thread, TLS included.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import concurrent.futures
import email.utils
import hmac
import http.client
import io
import ipaddress
import logging
import math
import re
import socket
import ssl
import threading
import time
import urllib.parse
import weakref
from xml.parsers import expat

from pywbem import (CIM_ERR_ACCESS_DENIED, CIM_ERR_FAILED, CIM_ERR_INVALID_ENUMERATION_CONTEXT,
                    CIM_ERR_INVALID_PARAMETER, CIM_ERR_INVALID_QUERY, CIM_ERR_NOT_SUPPORTED,
                    CIMClass, CIMClassName, CIMError, CIMInstance, CIMInstanceName,
                    CIMQualifierDeclaration, CIMVersionError, CIMXMLParseError,
                    DTDVersionError, ProtocolVersionError, Uint32)

from .wql import WqlSyntaxError, check_query_length

# -- pywbem's private API: the one place it is used ------------------------------
# pywbem reads CIM-XML responses and writes requests; a server needs the
# reverse, for which pywbem has no public API. Its response parser
# (TupleParser, reading the tuple tree of _tupletree's format: (NAME, ATTRS,
# CHILDREN) with text as str) and its element writers (_cim_xml) do exactly
# that, and the mock's own entry point is _mock_imethodcall. Nothing else in
# this module touches pywbem internals; tests/test_server_pywbem_adapter.py
# fails loudly if any of this changes in pywbem.
from pywbem import _cim_xml  # noqa: E402  (grouped here on purpose)
from pywbem._tupleparse import TupleParser  # noqa: E402


def _mock_imethodcall(conn, method, namespace, params):
    """The mock's intrinsic method, as pywbem's client calls it in process."""
    return conn._mock_imethodcall(method, namespace, **params)


def _enumeration_contexts(conn):
    """pywbem_mock's table of the open pull enumeration contexts of ``conn``
    (``{context id: state}``), or None if ``conn`` has none.

    The one place this module reaches into pywbem_mock's private state:
    ``FakedWBEMConnection`` keeps the contexts in its main provider's
    ``enumeration_contexts`` dict (``conn._mainprovider``) and never closes
    one that is not pulled to the end (pywbem_mock's own note, issue #2063),
    so a client that opens enumerations and never pulls them grows the server
    without bound. The server expires idle contexts and caps their number by
    deleting entries from this dict (see :class:`_PullContexts`); nothing
    else of an entry is read or changed. tests/test_hostile_server.py fails
    loudly if pywbem_mock renames it.
    """
    provider = getattr(conn, "_mainprovider", None)
    table = getattr(provider, "enumeration_contexts", None)
    return table if isinstance(table, dict) else None


__all__ = ["make_app", "serve", "WbemServer", "parse_request", "is_loopback",
           "MAX_REQUEST_BYTES", "MAX_XML_ELEMENTS", "MAX_XML_DEPTH", "MAX_XML_ATTRIBUTES",
           "MAX_HEADER_BYTES", "MAX_HEADER_FIELDS", "REQUEST_TIMEOUT", "IDLE_TIMEOUT",
           "TLS_HANDSHAKE_TIMEOUT", "MAX_CONNECTIONS", "EVICT_QUIET_SECONDS",
           "MAX_ENUMERATION_CONTEXTS", "ENUMERATION_TIMEOUT", "REALM", "Fault", "parse_fault",
           "FAULT_KINDS", "FAULT_HELP", "WRITE_METHODS"]

LOG = logging.getLogger("wbemconform.server")

#: Largest request body accepted (bytes); larger ones get HTTP 413. CIM-XML
#: requests are small (an intrinsic call is a few KB, a class definition some
#: hundred KB); the limit bounds memory and parse time.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
#: Most elements a request may have (HTTP 413 beyond): bounds the work of
#: pywbem's parser and the mock (a PropertyList of a million names).
MAX_XML_ELEMENTS = 100_000
#: Deepest element nesting accepted (CIM-XML needs about 15).
MAX_XML_DEPTH = 64
#: Most attributes one element may have (CIM-XML elements have at most 8).
MAX_XML_ATTRIBUTES = 32
#: Largest request line plus headers (bytes); HTTP 431 beyond.
MAX_HEADER_BYTES = 32 * 1024
#: Most header fields (and trailer fields) a request may have; HTTP 431 beyond.
MAX_HEADER_FIELDS = 100
#: Seconds a request's head and body may take to arrive, from its first byte.
REQUEST_TIMEOUT = 30.0
#: Seconds a kept-alive connection may wait for its next request.
IDLE_TIMEOUT = 15.0
#: Seconds a TLS handshake may take.
TLS_HANDSHAKE_TIMEOUT = 10.0
#: Seconds a client may take to receive a response.
WRITE_TIMEOUT = 30.0
#: Most simultaneous connections. A connection beyond them closes the one
#: that has been quiet longest -- waiting for its (next) request, or with a
#: request half sent -- if that one has been quiet at least
#: :data:`EVICT_QUIET_SECONDS`; otherwise it is answered 503 and closed. So
#: clients that open connections and hold them (with half a request, say)
#: cannot lock the others out, while a burst of new connections is still 503.
MAX_CONNECTIONS = 512
#: Seconds without a byte from a connection (and no request of it being
#: answered) after which a new connection beyond :data:`MAX_CONNECTIONS` may
#: close it to make room.
EVICT_QUIET_SECONDS = 1.0
#: Most open pull enumeration contexts the served mock keeps; opening one
#: more closes the least recently used (a Pull on it is then
#: CIM_ERR_INVALID_ENUMERATION_CONTEXT).
MAX_ENUMERATION_CONTEXTS = 256
#: Seconds an open pull enumeration context may stay unused (no Pull) when
#: its Open gave no OperationTimeout (pywbem_mock's default, and the largest
#: OperationTimeout it accepts); with one, that many seconds (DSP0200; 0:
#: never, though the context still counts against
#: :data:`MAX_ENUMERATION_CONTEXTS`). An expired context is closed; a Pull on
#: it is CIM_ERR_INVALID_ENUMERATION_CONTEXT.
ENUMERATION_TIMEOUT = 40
#: The realm named in ``WWW-Authenticate``.
REALM = "wbemconform"

_XML_DECL = b'<?xml version="1.0" encoding="utf-8" ?>\n'
_CONTENT_TYPE = 'application/xml; charset="utf-8"'
_PROTOCOL_VERSION = "1.0"
_CIM_VERSION = "2.0"
_DTD_VERSION = "2.0"
_MAX_DETAIL = 300  # characters of an error detail sent back and logged

# -- intrinsic methods ---------------------------------------------------------

# parameter name -> kind of value it carries (DSP0200 section 5.3.2)
_PARAM_KINDS = {
    "ClassName": "classname", "AssocClass": "classname", "ResultClass": "classname",
    "InstanceName": "instancename", "ObjectName": "objectname",
    "LocalOnly": "boolean", "DeepInheritance": "boolean",
    "IncludeQualifiers": "boolean", "IncludeClassOrigin": "boolean",
    "ContinueOnError": "boolean", "ReturnQueryResultClass": "boolean",
    "PropertyList": "propertylist",
    "NewInstance": "instance", "ModifiedInstance": "namedinstance",
    "NewClass": "class", "ModifiedClass": "class",
    "QualifierDeclaration": "qualifierdeclaration",
    "QualifierName": "string", "Role": "string", "ResultRole": "string",
    "QueryLanguage": "string", "Query": "string",
    "FilterQueryLanguage": "string", "FilterQuery": "string",
    "EnumerationContext": "string",
    "OperationTimeout": "uint32", "MaxObjectCount": "uint32",
}
_PARAM_NAMES = {name.lower(): name for name in _PARAM_KINDS}

_INST_READ = ("LocalOnly", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList")
_OPEN = ("FilterQueryLanguage", "FilterQuery", "OperationTimeout", "ContinueOnError",
         "MaxObjectCount")

# method -> (required params, optional params, result encoding)
_METHODS = {
    "GetInstance": (("InstanceName",), _INST_READ, "instance"),
    "EnumerateInstances": (("ClassName",), _INST_READ + ("DeepInheritance",),
                           "namedinstances"),
    "EnumerateInstanceNames": (("ClassName",), (), "instancenames"),
    "CreateInstance": (("NewInstance",), (), "instancenames"),
    "ModifyInstance": (("ModifiedInstance",), ("IncludeQualifiers", "PropertyList"), None),
    "DeleteInstance": (("InstanceName",), (), None),
    "ExecQuery": (("QueryLanguage", "Query"), (), "objectswithpath"),
    "Associators": (("ObjectName",),
                    ("AssocClass", "ResultClass", "Role", "ResultRole",
                     "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"),
                    "objectswithpath"),
    "AssociatorNames": (("ObjectName",), ("AssocClass", "ResultClass", "Role", "ResultRole"),
                        "objectpaths"),
    "References": (("ObjectName",),
                   ("ResultClass", "Role", "IncludeQualifiers", "IncludeClassOrigin",
                    "PropertyList"),
                   "objectswithpath"),
    "ReferenceNames": (("ObjectName",), ("ResultClass", "Role"), "objectpaths"),
    "GetClass": (("ClassName",), _INST_READ, "classes"),
    "EnumerateClasses": ((), ("ClassName", "DeepInheritance", "LocalOnly",
                              "IncludeQualifiers", "IncludeClassOrigin"), "classes"),
    "EnumerateClassNames": ((), ("ClassName", "DeepInheritance"), "classnames"),
    "CreateClass": (("NewClass",), (), None),
    "ModifyClass": (("ModifiedClass",), (), None),
    "DeleteClass": (("ClassName",), (), None),
    "GetQualifier": (("QualifierName",), (), "qualifiers"),
    "SetQualifier": (("QualifierDeclaration",), (), None),
    "DeleteQualifier": (("QualifierName",), (), None),
    "EnumerateQualifiers": ((), (), "qualifiers"),
    "OpenEnumerateInstances": (("ClassName",),
                               ("DeepInheritance", "IncludeClassOrigin", "PropertyList")
                               + _OPEN, "instanceswithpath"),
    "OpenEnumerateInstancePaths": (("ClassName",), _OPEN, "instancepaths"),
    "OpenAssociatorInstances": (("InstanceName",),
                                ("AssocClass", "ResultClass", "Role", "ResultRole",
                                 "IncludeClassOrigin", "PropertyList") + _OPEN,
                                "instanceswithpath"),
    "OpenAssociatorInstancePaths": (("InstanceName",),
                                    ("AssocClass", "ResultClass", "Role", "ResultRole")
                                    + _OPEN, "instancepaths"),
    "OpenReferenceInstances": (("InstanceName",),
                               ("ResultClass", "Role", "IncludeClassOrigin", "PropertyList")
                               + _OPEN, "instanceswithpath"),
    "OpenReferenceInstancePaths": (("InstanceName",), ("ResultClass", "Role") + _OPEN,
                                   "instancepaths"),
    "OpenQueryInstances": (("FilterQueryLanguage", "FilterQuery"),
                           ("ReturnQueryResultClass", "OperationTimeout",
                            "ContinueOnError", "MaxObjectCount"), "instances"),
    "PullInstancesWithPath": (("EnumerationContext", "MaxObjectCount"), (),
                              "instanceswithpath"),
    "PullInstancePaths": (("EnumerationContext", "MaxObjectCount"), (), "instancepaths"),
    "PullInstances": (("EnumerationContext", "MaxObjectCount"), (), "instances"),
    "CloseEnumeration": (("EnumerationContext",), (), None),
}
_METHOD_NAMES = {name.lower(): name for name in _METHODS}

#: The intrinsic operations that change the mock: refused by a read-only
#: server with CIM_ERR_ACCESS_DENIED, as is every extrinsic method call
#: (InvokeMethod), which may change anything.
WRITE_METHODS = frozenset({
    "CreateInstance", "ModifyInstance", "DeleteInstance", "CreateClass", "ModifyClass",
    "DeleteClass", "SetQualifier", "DeleteQualifier"})


class _HttpError(Exception):
    """A request answered at the HTTP level (DSP0200 ``CIMError`` header)."""

    def __init__(self, status, cimerror=None, detail="", headers=()):
        super().__init__(detail)
        self.status = status
        self.cimerror = cimerror
        self.detail = detail
        self.headers = list(headers)


def _invalid(msg):
    return CIMError(CIM_ERR_INVALID_PARAMETER, msg)


def _convert_param(method, name, value):
    """A parsed IPARAMVALUE value as the mock's ``_imeth_*`` expects it."""
    kind = _PARAM_KINDS[name]
    if value is None:  # an IPARAMVALUE without a value: NULL, as if absent
        return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif kind == "uint32":
        if isinstance(value, str):
            try:
                return Uint32(int(value.strip(), 10))
            except ValueError:
                pass
    elif kind == "string":
        if isinstance(value, str):
            return value
    elif kind == "classname":
        if isinstance(value, CIMClassName):
            return value
        if isinstance(value, str) and value.strip():  # lenient: a VALUE
            return CIMClassName(value.strip())
    elif kind == "instancename":
        # an INSTANCENAME: the namespace is the request's (DSP0200)
        if isinstance(value, CIMInstanceName) and not value.namespace and not value.host:
            return value
    elif kind == "objectname":
        if isinstance(value, (CIMInstanceName, CIMClassName)) and \
                not value.namespace and not value.host:
            return value
    elif kind == "propertylist":
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
    elif kind == "instance":
        if isinstance(value, CIMInstance):
            return value
    elif kind == "namedinstance":
        if isinstance(value, CIMInstance) and value.path is not None:
            return value
    elif kind == "class":
        if isinstance(value, CIMClass):
            return value
    elif kind == "qualifierdeclaration":
        if isinstance(value, CIMQualifierDeclaration):
            return value
    raise _invalid(f"{method}: parameter {name} has an invalid value "
                   f"({type(value).__name__}, expected {kind})")


def _method_params(method, raw_params):
    """Check and convert the (name, value) pairs of an IMETHODCALL."""
    required, optional, _ = _METHODS[method]
    allowed = set(required) | set(optional)
    params = {}
    for raw_name, value in raw_params:
        name = _PARAM_NAMES.get(raw_name.lower())
        if name is None or name not in allowed:
            raise _invalid(f"{method} has no parameter {raw_name!r}")
        if name in params:
            raise _invalid(f"{method}: parameter {name} is given more than once")
        converted = _convert_param(method, name, value)
        if converted is not None:
            params[name] = converted
    missing = [name for name in required if name not in params]
    if missing:
        raise _invalid(f"{method}: missing required parameter(s) {', '.join(missing)}")
    return params


# -- fault injection ------------------------------------------------------------

#: The fault kinds :func:`parse_fault` accepts, and what each does.
FAULT_HELP = {
    "delay:SECONDS": "sleep that long, then answer normally",
    "http500": "HTTP 500 Internal Server Error, no CIM-XML",
    "close": "announce the full Content-Length, send half the body, close the connection",
    "truncated": "valid HTTP whose CIM-XML body is cut in half",
    "invalid-xml": "HTTP 200 MethodResponse whose body is not even well-formed XML",
    "content-type": "the correct CIM-XML body with Content-Type: text/html",
    "401": "HTTP 401 with WWW-Authenticate, whatever the credentials",
}
#: The fault kinds :func:`parse_fault` accepts (``delay`` takes ``:SECONDS``).
FAULT_KINDS = tuple(kind.split(":")[0] for kind in FAULT_HELP)
_FAULT_SYNTAX = f"expected [after:N:]KIND with KIND one of {', '.join(FAULT_HELP)}"


class Fault:
    """A parsed fault specification (see :func:`parse_fault`)."""

    def __init__(self, kind, seconds=0.0, after=0, spec=""):
        self.kind = kind
        self.seconds = seconds
        self.after = after
        self.spec = spec

    def __repr__(self):
        return f"Fault({self.spec!r})"


def parse_fault(spec):
    """A :class:`Fault` from ``"[after:N:]KIND"``; ValueError naming the problem.

    ``None`` (or a :class:`Fault`) is returned as is.
    """
    if spec is None or isinstance(spec, Fault):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"fault {spec!r}: not a string; {_FAULT_SYNTAX}")
    text = spec.strip()
    after = 0
    if text.lower().startswith("after:"):
        count, sep, text = text[len("after:"):].partition(":")
        if not sep:
            raise ValueError(f"fault {spec!r}: after:N must be followed by :KIND; "
                             f"{_FAULT_SYNTAX}")
        try:
            after = int(count.strip(), 10)
        except ValueError:
            raise ValueError(f"fault {spec!r}: after:N needs a whole number of requests, "
                             f"got {count!r}") from None
        if after < 0:
            raise ValueError(f"fault {spec!r}: after:N needs N >= 0, got {after}")
    kind, _, arg = text.partition(":")
    kind = kind.strip().lower()
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault {spec!r}: unknown fault {kind!r}; {_FAULT_SYNTAX}")
    seconds = 0.0
    if kind == "delay":
        try:
            seconds = float(arg)
        except ValueError:
            raise ValueError(f"fault {spec!r}: delay needs :SECONDS (a number), got "
                             f"{arg!r}") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"fault {spec!r}: delay needs 0 <= SECONDS < infinity, "
                             f"got {arg!r}")
    elif arg:
        raise ValueError(f"fault {spec!r}: {kind} takes no argument; {_FAULT_SYNTAX}")
    return Fault(kind, seconds, after, spec)


class _InjectedClose(Exception):
    """Raised from a response body to close the connection mid-response."""


def _closing_body(body):
    """Half the body, then the connection is dropped (by the WSGI server)."""
    yield body[:max(1, len(body) // 2)]
    raise _InjectedClose("fault 'close': connection closed mid-response")


# -- reading a request body ------------------------------------------------------

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


def _request_tree(body):
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
        raise _HttpError(400, "request-not-well-formed", "empty request body")
    try:
        tree = _request_tree(body)
    except _Refused as exc:
        raise _HttpError(exc.status, exc.cimerror, exc.detail) from None
    except expat.ExpatError as exc:
        raise _HttpError(400, "request-not-well-formed",
                         f"not well-formed XML: {expat.ErrorString(exc.code)} "
                         f"(line {exc.lineno}, column {exc.offset})") from None
    except Exception as exc:  # e.g. an encoding expat cannot read
        raise _HttpError(400, "request-not-well-formed",
                         f"not readable as XML: {_one_line(exc)}") from None
    parser = TupleParser()
    try:
        if tree[0] != "CIM":
            raise CIMXMLParseError(f"the root element is {tree[0][:40]!r}, not CIM")
        # Multiple requests are a protocol feature this server does not have.
        message = [k for k in tree[2] if isinstance(k, tuple)]
        if message and message[0][0] == "MESSAGE":
            inner = [k for k in message[0][2] if isinstance(k, tuple)]
            if inner and inner[0][0] == "MULTIREQ":
                raise _HttpError(501, "multiple-requests-unsupported",
                                 "MULTIREQ is not supported")
        cim = parser.parse_cim(tree)
        msg = cim[2]
        if msg[0] != "MESSAGE":
            raise CIMXMLParseError(f"expected MESSAGE, got {msg[0]}")
        req = msg[2]
        if req[0] != "SIMPLEREQ":
            raise CIMXMLParseError(f"expected SIMPLEREQ, got {req[0]}")
        return msg[1]["ID"], req[2]
    except _HttpError:
        raise
    except CIMVersionError as exc:
        raise _HttpError(501, "unsupported-cim-version", _one_line(exc)) from None
    except DTDVersionError as exc:
        raise _HttpError(501, "unsupported-dtd-version", _one_line(exc)) from None
    except ProtocolVersionError as exc:
        raise _HttpError(501, "unsupported-protocol-version", _one_line(exc)) from None
    except Exception as exc:  # CIMXMLParseError, or a value pywbem could not read
        raise _HttpError(400, "request-not-valid", _one_line(exc)) from None


# -- the WSGI application -------------------------------------------------------

_LOCKS = weakref.WeakKeyDictionary()
_PULL_CONTEXTS = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _lock_for(conn):
    """One lock per mock connection, shared by every app serving it."""
    with _LOCKS_GUARD:
        try:
            lock = _LOCKS.get(conn)
            if lock is None:
                lock = _LOCKS[conn] = threading.Lock()
            return lock
        except TypeError:  # not weakly referenceable / hashable
            return threading.Lock()


def _pull_contexts_for(conn):
    """One :class:`_PullContexts` per mock connection, like its lock."""
    with _LOCKS_GUARD:
        try:
            keeper = _PULL_CONTEXTS.get(conn)
            if keeper is None:
                keeper = _PULL_CONTEXTS[conn] = _PullContexts()
            return keeper
        except TypeError:  # not weakly referenceable / hashable
            return _PullContexts()


#: the operations that open a pull enumeration context, and those that use one
_OPENS = frozenset(name for name in _METHODS if name.startswith("Open"))
_PULLS = frozenset(name for name in _METHODS if name.startswith("Pull")) | \
    {"CloseEnumeration"}
#: query operations: (query language parameter, query parameter)
_QUERIES = {"ExecQuery": ("QueryLanguage", "Query"),
            "OpenQueryInstances": ("FilterQueryLanguage", "FilterQuery")}
_MAX_REMEMBERED = 1024  # closed contexts remembered, to say why a Pull on one fails


class _PullContexts:
    """Expiry and cap of a mock's open pull enumeration contexts.

    pywbem_mock keeps every context that is not pulled to its end forever.
    This keeps, beside its table (:func:`_enumeration_contexts`), when each
    context was last used and its timeout, and, called under the mock's lock
    around every operation, closes (deletes from the table) the contexts idle
    for longer than their timeout (:data:`ENUMERATION_TIMEOUT` unless the
    Open gave an OperationTimeout) and, beyond
    :data:`MAX_ENUMERATION_CONTEXTS`, the least recently used ones. A Pull or
    CloseEnumeration on a context closed so is CIM_ERR_INVALID_ENUMERATION_CONTEXT
    saying why.
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.used = {}  # context id -> [last use (clock), timeout in s (0: none)]
        self.closed = collections.OrderedDict()  # context id -> why (recent ones)

    def _close(self, table, context, why):
        table.pop(context, None)
        self.used.pop(context, None)
        self.closed[context] = why
        self.closed.move_to_end(context)
        while len(self.closed) > _MAX_REMEMBERED:
            self.closed.popitem(last=False)

    def before(self, table, method, params):
        """Expire idle contexts; CIMError for a Pull on a closed one."""
        now = self.clock()
        for context in list(self.used):
            if context not in table:  # pulled to the end, or closed by the client
                del self.used[context]
        for context in table:  # opened otherwise (in process, by another app)
            if context not in self.used:
                self.used[context] = [now, ENUMERATION_TIMEOUT]
        for context, (last, timeout) in list(self.used.items()):
            if timeout and now - last > timeout:
                self._close(table, context, f"expired: it was not used for more than "
                                            f"{timeout:g} s (its OperationTimeout)")
        if method in _PULLS:
            context = params.get("EnumerationContext")
            why = self.closed.get(context) if context not in table else None
            if why is not None:
                raise CIMError(CIM_ERR_INVALID_ENUMERATION_CONTEXT,
                               f"enumeration context {context!r} was closed by the server, "
                               f"{why}")

    def after(self, table, method, params, result):
        """Note the use of the context ``result`` carries; enforce the cap."""
        context = None
        for item in result or ():
            if isinstance(item, tuple) and len(item) == 3 and item[0] == "EnumerationContext":
                context = item[2] or None
        if context is None or context not in table:
            return
        now = self.clock()
        if method in _OPENS:
            timeout = params.get("OperationTimeout")
            self.used[context] = [now, ENUMERATION_TIMEOUT if timeout is None
                                  else int(timeout)]
        else:
            self.used.setdefault(context, [now, ENUMERATION_TIMEOUT])[0] = now
        excess = len(table) - MAX_ENUMERATION_CONTEXTS
        if excess > 0:
            oldest = sorted((entry[0], cid) for cid, entry in self.used.items()
                            if cid != context)[:excess]
            for _, cid in oldest:
                self._close(table, cid, f"closed to make room: the server keeps at most "
                                        f"{MAX_ENUMERATION_CONTEXTS} open enumeration "
                                        f"contexts, and this was the least recently used")


class CimXmlApp:
    """WSGI application serving a pywbem_mock connection over CIM-XML."""

    def __init__(self, conn, user=None, password=None, fault=None, read_only=False):
        if user is not None and not str(user):
            raise ValueError("the user name is empty")
        if user is not None and password is None:
            raise ValueError("a password is required when a user is set")
        if user is not None and not str(password):
            raise ValueError("the password is empty: an empty password is not accepted")
        if user is None and password is not None:
            raise ValueError("a password is given without a user: authentication needs both")
        self.fault = parse_fault(fault)
        self.read_only = bool(read_only)
        self._requests = 0
        self._requests_guard = threading.Lock()
        self.stopping = threading.Event()  # set on server stop: ends injected delays
        self.conn = conn
        self.lock = _lock_for(conn)
        self.pull_contexts = _pull_contexts_for(conn)
        self._user = None if user is None else str(user).encode("utf-8")
        self._password = None if password is None else str(password).encode("utf-8")
        self._mock_host = (getattr(conn, "host", None) or "").lower()

    # WSGI entry point
    def __call__(self, environ, start_response):
        fault = self._fault_now()
        if fault is not None:
            return self._faulty(fault, environ, start_response)
        status, headers, body = self._answer(environ)
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def _answer(self, environ):
        try:
            return self._handle(environ)
        except _HttpError as exc:
            return self._http_error(exc)
        except OSError:
            # the client's connection failed while its request was read (a
            # timeout, a reset; not with serve(), which reads requests whole):
            # the HTTP server answers 408 or drops it
            raise
        except Exception:  # a bug here: never a traceback to the client
            LOG.exception("internal error handling a CIM-XML request")
            return self._http_error(_HttpError(500, None, "internal server error"))

    # -- fault injection ------------------------------------------------------

    def _fault_now(self):
        """The fault to inject into this request, or None (counts requests)."""
        if self.fault is None:
            return None
        with self._requests_guard:
            self._requests += 1
            number = self._requests
        return self.fault if number > self.fault.after else None

    def _faulty(self, fault, environ, start_response):
        LOG.info("injecting fault %r", fault.spec)
        kind = fault.kind
        if kind == "delay":
            self.stopping.wait(fault.seconds)
            kind = None  # then a normal answer
        if kind in ("http500", "401"):
            try:  # consume the request, so that keep-alive stays in step
                self._read_body(environ)
            except _HttpError:
                pass
            if kind == "http500":
                exc = _HttpError(500, None, "injected fault: internal server error")
            else:
                exc = _HttpError(401, None, "injected fault: authentication required",
                                 [("WWW-Authenticate", f'Basic realm="{REALM}"')])
            status, headers, body = self._http_error(exc)
        else:
            status, headers, body = self._answer(environ)
        if kind == "truncated":
            body = body[:len(body) // 2]
        elif kind == "invalid-xml":
            status = "200 OK"
            headers = [("Content-Type", _CONTENT_TYPE), ("CIMOperation", "MethodResponse")]
            body = (_XML_DECL + b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="0" '
                    b'PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="x">'
                    b'<IRETURNVALUE>injected fault: this is not CIM-XML & not XML'
                    b'</SIMPLERSP></CIM>\n')
        elif kind == "content-type":
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        if kind == "close":
            return _closing_body(body)
        return [body]

    @staticmethod
    def _status(code):
        return f"{code} {http.client.responses.get(code, '')}".strip()

    def _http_error(self, exc):
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if exc.cimerror:
            headers.append(("CIMError", exc.cimerror))
        headers.extend(exc.headers)
        text = exc.detail or self._status(exc.status)
        if exc.status in (400, 501) and exc.cimerror:
            LOG.info("HTTP %s (CIMError: %s): %s", exc.status, exc.cimerror, exc.detail)
        return self._status(exc.status), headers, (text + "\n").encode("utf-8")

    def _check_auth(self, environ):
        if self._user is None:
            return
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        ok = False
        if scheme.lower() == "basic" and token:
            try:
                decoded = base64.b64decode(token.strip(), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            user, sep, password = decoded.partition(b":")
            if sep:
                # both compared, always: no early exit on a wrong user
                ok_user = hmac.compare_digest(user, self._user)
                ok_password = hmac.compare_digest(password, self._password)
                ok = ok_user and ok_password
        if not ok:
            raise _HttpError(401, None, "authentication required",
                             [("WWW-Authenticate", f'Basic realm="{REALM}"')])

    @classmethod
    def _read_body(cls, environ):
        try:
            return cls._read_body_raw(environ)
        except (ValueError, OverflowError) as exc:  # a malformed body, as another
            # WSGI server's input stream may report it (serve() checks framing itself)
            raise _HttpError(400, None, f"malformed request body: {_one_line(exc)}") from None

    @staticmethod
    def _read_body_raw(environ):
        length = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length.strip():
            if not length.strip().isdigit() or not length.strip().isascii():
                raise _HttpError(400, None, "invalid Content-Length")
            size = int(length)
            if size < 0:
                raise _HttpError(400, None, "invalid Content-Length")
            if size > MAX_REQUEST_BYTES:
                raise _HttpError(413, None, f"request larger than {MAX_REQUEST_BYTES} bytes")
            return stream.read(size)
        body = stream.read(MAX_REQUEST_BYTES + 1)  # chunked, or no body
        if len(body) > MAX_REQUEST_BYTES:
            raise _HttpError(413, None, f"request larger than {MAX_REQUEST_BYTES} bytes")
        return body

    @staticmethod
    def _check_headers(environ):
        method = environ.get("REQUEST_METHOD", "")
        if method == "M-POST":
            raise _HttpError(501, None, "M-POST is not supported; use POST")
        if method != "POST":
            raise _HttpError(405, None, f"method {method} not allowed; CIM-XML is POSTed",
                             [("Allow", "POST")])
        operation = environ.get("HTTP_CIMOPERATION")
        if operation is None or operation.strip().lower() != "methodcall":
            raise _HttpError(400, "unsupported-operation",
                             f"CIMOperation header must be MethodCall, got {operation!r}")
        ctype = environ.get("CONTENT_TYPE", "")
        if ctype:
            mime = ctype.split(";", 1)[0].strip().lower()
            if mime not in ("application/xml", "text/xml"):
                raise _HttpError(400, "header-mismatch",
                                 f"Content-Type must be application/xml or text/xml, "
                                 f"got {ctype!r}")

    def _handle(self, environ):
        self._check_auth(environ)
        self._check_headers(environ)
        body = self._read_body(environ)
        msgid, call = parse_request(body)
        kind = call[0]
        if kind == "METHODCALL":
            name = call[1]["NAME"]
            self._check_method_header(environ, name)
            if self.read_only:
                error = _cim_xml.ERROR(str(CIM_ERR_ACCESS_DENIED),
                                       f"this server is read-only: extrinsic method {name} "
                                       f"is refused")
            else:
                error = _cim_xml.ERROR(str(CIM_ERR_NOT_SUPPORTED),
                                       f"extrinsic method {name} is not supported by this "
                                       f"server")
            return self._response(msgid, _cim_xml.METHODRESPONSE(name, error))
        name, namespace, raw_params = call[1]["NAME"], call[2], call[3]
        self._check_method_header(environ, name)
        cimobject = environ.get("HTTP_CIMOBJECT")
        if cimobject is not None and \
                urllib.parse.unquote(cimobject).strip("/").lower() != namespace.strip("/").lower():
            raise _HttpError(400, "header-mismatch",
                             f"CIMObject header {cimobject!r} does not name the request's "
                             f"namespace {namespace!r}")
        authority = environ.get("HTTP_HOST") or \
            f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '')}"
        children = self._imethod(name, namespace, raw_params, authority)
        return self._response(msgid, _cim_xml.IMETHODRESPONSE(name, children))

    @staticmethod
    def _check_method_header(environ, name):
        header = environ.get("HTTP_CIMMETHOD")
        if header is None or urllib.parse.unquote(header).strip().lower() != name.lower():
            raise _HttpError(400, "header-mismatch",
                             f"CIMMethod header {header!r} does not match the method "
                             f"{name!r} of the request")

    def _response(self, msgid, payload):
        xml = _cim_xml.CIM(
            _cim_xml.MESSAGE(_cim_xml.SIMPLERSP(payload), msgid, _PROTOCOL_VERSION),
            _CIM_VERSION, _DTD_VERSION)
        body = _XML_DECL + xml.toxml().encode("utf-8")
        headers = [("Content-Type", _CONTENT_TYPE), ("CIMOperation", "MethodResponse")]
        return "200 OK", headers, body

    # -- dispatching ----------------------------------------------------------

    def _imethod(self, name, namespace, raw_params, authority):
        """The children of the IMETHODRESPONSE (ERROR, or IRETURNVALUE and PARAMVALUEs)."""
        method = _METHOD_NAMES.get(name.lower())
        try:
            if method is None:
                raise CIMError(CIM_ERR_NOT_SUPPORTED,
                               f"intrinsic method {name!r} is not supported")
            if self.read_only and method in WRITE_METHODS:
                raise CIMError(CIM_ERR_ACCESS_DENIED,
                               f"this server is read-only: {method} is refused")
            params = _method_params(method, raw_params)
            if method in _QUERIES:
                self._check_query(method, params)
            self._acquire()
            try:
                table = _enumeration_contexts(self.conn)
                if table is not None:
                    self.pull_contexts.before(table, method, params)
                result = _mock_imethodcall(self.conn, method, namespace, params)
                if table is not None:
                    self.pull_contexts.after(table, method, params, result)
                return self._encode(method, result, namespace, authority)
            finally:
                self.lock.release()
        except CIMError as exc:
            return _error(exc.status_code, exc.status_description, exc.instances)
        except Exception as exc:
            LOG.exception("the mock failed on %s in %s", method or name, namespace)
            return _error(CIM_ERR_FAILED,
                          f"internal error in the mock server: {type(exc).__name__}: "
                          f"{_one_line(exc)}")

    def _acquire(self):
        """Take the mock's lock; CIMError if the server stops meanwhile (so
        that workers queued behind a long operation do not delay the stop)."""
        while not self.lock.acquire(timeout=0.2):
            if self.stopping.is_set():
                raise CIMError(CIM_ERR_FAILED, "the server is stopping")

    @staticmethod
    def _check_query(method, params):
        """Refuse a WQL query beyond the length limit before the mock's lock is
        taken (the mock checks the other limits as it parses)."""
        language, query = _QUERIES[method]
        if str(params.get(language, "")).strip().upper() == "WQL":
            try:
                check_query_length(params.get(query))
            except WqlSyntaxError as exc:
                raise CIMError(CIM_ERR_INVALID_QUERY, f"{method}: {exc}") from None

    # -- encoding -------------------------------------------------------------

    def _full_path(self, path, namespace, authority):
        """A copy of a path with namespace and host, for INSTANCEPATH/CLASSPATH."""
        out = path.copy()
        if not out.namespace:
            out.namespace = namespace
        out.namespace = out.namespace.strip("/")
        if not out.host or out.host.lower() == self._mock_host:
            out.host = authority
        if isinstance(out, CIMInstanceName):
            for key, value in list(out.keybindings.items()):
                if isinstance(value, CIMInstanceName) and value.host and \
                        value.host.lower() == self._mock_host:
                    ref = value.copy()
                    ref.host = authority
                    out.keybindings[key] = ref
        return out

    def _encode(self, method, result, namespace, authority):
        kind = _METHODS[method][2]
        children = []
        if not result:
            return [_cim_xml.IRETURNVALUE([])] if kind else None
        returned = False
        for item in result:
            tag, _, value = item
            if tag == "IRETURNVALUE":
                returned = True
                objs = [self._unwrap(o) for o in (value or [])]
                children.append(_cim_xml.IRETURNVALUE(
                    self._encode_objects(kind, objs, namespace, authority)))
            elif tag == "EndOfSequence":
                eos = value if isinstance(value, bool) else str(value).upper() == "TRUE"
                children.append(_cim_xml.PARAMVALUE(
                    "EndOfSequence", _cim_xml.VALUE("TRUE" if eos else "FALSE"), "boolean"))
            elif tag == "EnumerationContext":
                data = _cim_xml.VALUE(str(value)) if value else None
                children.append(_cim_xml.PARAMVALUE("EnumerationContext", data, "string"))
            elif tag == "QueryResultClass":
                if value is not None:
                    children.append(_cim_xml.PARAMVALUE("QueryResultClass", value.tocimxml()))
            else:
                raise TypeError(f"unexpected item {tag!r} in the mock's {method} result")
        if kind and not returned:
            children.insert(0, _cim_xml.IRETURNVALUE([]))
        return children

    @staticmethod
    def _unwrap(obj):
        # ("OBJECTPATH", {}, x) / ("VALUE.OBJECTWITHPATH", {}, x) triples: the object
        if isinstance(obj, tuple) and len(obj) == 3 and isinstance(obj[0], str):
            return obj[2]
        return obj

    def _encode_objects(self, kind, objs, namespace, authority):
        if kind in ("instancenames",):
            return [_expect(o, CIMInstanceName, kind).tocimxml(ignore_namespace=True)
                    for o in objs]
        if kind == "namedinstances":
            out = []
            for inst in objs:
                _expect(inst, CIMInstance, kind)
                path = inst.path or CIMInstanceName(inst.classname)
                out.append(_cim_xml.VALUE_NAMEDINSTANCE(
                    path.tocimxml(ignore_namespace=True), inst.tocimxml(ignore_path=True)))
            return out
        if kind in ("instance", "instances"):
            return [_expect(o, CIMInstance, kind).tocimxml(ignore_path=True) for o in objs]
        if kind == "classes":
            return [_expect(o, CIMClass, kind).tocimxml() for o in objs]
        if kind == "classnames":
            return [_cim_xml.CLASSNAME(o.classname if isinstance(o, CIMClassName) else str(o))
                    for o in objs]
        if kind == "qualifiers":
            return [_qualifier_declaration_xml(_expect(o, CIMQualifierDeclaration, kind))
                    for o in objs]
        if kind == "objectpaths":
            return [_cim_xml.OBJECTPATH(self._full_path(
                _expect(o, (CIMInstanceName, CIMClassName), kind), namespace,
                authority).tocimxml()) for o in objs]
        if kind == "instancepaths":
            return [self._full_path(_expect(o, CIMInstanceName, kind), namespace,
                                    authority).tocimxml() for o in objs]
        if kind == "instanceswithpath":
            out = []
            for inst in objs:
                _expect(inst, CIMInstance, kind)
                path = self._full_path(inst.path or CIMInstanceName(inst.classname),
                                       namespace, authority)
                out.append(_cim_xml.VALUE_INSTANCEWITHPATH(
                    path.tocimxml(), inst.tocimxml(ignore_path=True)))
            return out
        if kind == "objectswithpath":
            if any(isinstance(o, CIMInstance) and o.path is None for o in objs):
                # results without paths (a query's projection): VALUE.OBJECT
                return [_cim_xml.VALUE_OBJECT(_expect(o, CIMInstance, kind)
                                              .tocimxml(ignore_path=True)) for o in objs]
            out = []
            for obj in objs:
                if isinstance(obj, CIMInstance):
                    path = self._full_path(obj.path, namespace, authority)
                    out.append(_cim_xml.VALUE_OBJECTWITHPATH(
                        path.tocimxml(), obj.tocimxml(ignore_path=True)))
                elif isinstance(obj, tuple) and len(obj) == 2 and \
                        isinstance(obj[1], CIMClass):
                    path = self._full_path(obj[0], namespace, authority)
                    out.append(_cim_xml.VALUE_OBJECTWITHPATH(path.tocimxml(),
                                                             obj[1].tocimxml()))
                elif isinstance(obj, CIMClass):
                    path = self._full_path(obj.path or CIMClassName(obj.classname),
                                           namespace, authority)
                    out.append(_cim_xml.VALUE_OBJECTWITHPATH(path.tocimxml(), obj.tocimxml()))
                else:
                    raise TypeError(f"unexpected {type(obj).__name__} in a {kind} result")
            return out
        raise TypeError(f"no encoding for result kind {kind!r}")


def _qualifier_declaration_xml(qualdecl):
    """QUALIFIER.DECLARATION without ``ANY="false"`` in SCOPE.

    pywbem's MOF compiler records ``'ANY': False`` in every declaration whose
    scope is not ``any``, and ``_cim_xml.SCOPE`` writes it out as an
    attribute DSP0201 does not have -- which pywbem's own parser then rejects
    ("Element 'SCOPE' has invalid attribute(s)"). A false ANY says nothing, so
    it is left out.
    """
    scopes = qualdecl.scopes
    if any(k.upper() == "ANY" and not v for k, v in scopes.items()):
        qualdecl = qualdecl.copy()
        qualdecl.scopes = {k: v for k, v in scopes.items() if k.upper() != "ANY"}
    return qualdecl.tocimxml()


def _expect(obj, types, kind):
    if not isinstance(obj, types):
        raise TypeError(f"unexpected {type(obj).__name__} in a {kind} result")
    return obj


def _error(code, description, instances=None):
    insts = [i.tocimxml(ignore_path=True) for i in (instances or [])
             if isinstance(i, CIMInstance)]
    return _cim_xml.ERROR(str(int(code)), description or None, insts or None)


def _one_line(exc):
    """The first line of an exception's message, at most _MAX_DETAIL characters."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= _MAX_DETAIL else line[:_MAX_DETAIL] + "..."


def make_app(conn, user=None, password=None, fault=None, read_only=False):
    """A WSGI application serving ``conn`` (a pywbem_mock FakedWBEMConnection,
    e.g. :func:`wbemconform.mock.connect`'s) over CIM-XML at any path.

    With ``user`` (and a non-empty ``password``) set, HTTP Basic
    authentication is required. ``read_only`` refuses every write operation
    (:data:`WRITE_METHODS` and extrinsic methods) with CIM_ERR_ACCESS_DENIED.
    ``fault`` injects a fault into the answers (see :func:`parse_fault`); a
    bad specification is a ValueError. Hosted by another WSGI server, the
    application gets that server's HTTP handling: the strict framing, request
    deadlines and connection limits are :func:`serve`'s.
    """
    return CimXmlApp(conn, user=user, password=password, fault=fault, read_only=read_only)


# -- the HTTP front end ------------------------------------------------------------

_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# what a request line may look like while it is still arriving: refused at
# once when it cannot become one (TLS to the plain port, binary junk)
_REQUEST_LINE_PREFIX = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: [\x21-\x7e]*(?: [A-Z0-9/.]*\r?\n?)?)?")
_REQUEST_LINE = re.compile(
    rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) (HTTP/[0-9]\.[0-9])\r\n")
_HEADER_VALUE_BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;.*)?")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")
_MAX_REQUEST_LINE = 8 * 1024
_MAX_CHUNK_LINE = 1024
_HIGH_WATER = 256 * 1024  # bytes buffered before reading from a client pauses
_LOW_WATER = 64 * 1024
_LINGER = 2.0  # seconds spent draining a refused client's input before closing


class _Reject(Exception):
    """A request refused by the front end: an HTTP error, then the connection closes."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Closed(Exception):
    """The client closed the connection (or it broke)."""


class _Request:
    """A request as read from the wire, complete."""

    def __init__(self, method, target, version, headers, body):
        self.method = method          # str
        self.target = target          # str
        self.version = version        # "HTTP/1.0" / "HTTP/1.1"
        self.headers = headers        # [(lower-case name, value str)]
        self.body = body              # bytes
        tokens = {t.strip().lower() for n, v in headers if n == "connection"
                  for t in v.split(",")}
        self.keep_alive = version == "HTTP/1.1" and "close" not in tokens


def _release(waiter):
    """Let whoever awaits ``waiter`` (a future, or None) go on."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class _Connection(asyncio.Protocol):
    """One client connection: a buffer the conversation coroutine reads from."""

    def __init__(self, frontend):
        self.frontend = frontend
        self.transport = None
        self.task = None
        self.peer = ("", 0)
        self._buffer = bytearray()
        self._eof = False
        self._lost = False
        self._discard = False
        self._reading_paused = False
        self._writing_paused = False
        self._waiter = None
        self._write_waiter = None
        #: what the conversation is doing: "waiting" (for a request), "reading"
        #: (one), "answering" (the application runs, or the answer is written),
        #: "refusing" (an error answer was sent, the connection closes)
        self.state = "waiting"
        #: when a byte last came from the client (or its last answer went out)
        self.active = time.monotonic()

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = peer[:2]
        self.task = asyncio.get_running_loop().create_task(self.frontend.converse(self))

    def data_received(self, data):
        if self._discard:
            return
        self.active = time.monotonic()
        self._buffer += data
        if len(self._buffer) > _HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self):
        self._eof = True
        self._wake()
        # plain TCP: stay half-open, so a complete request can still be
        # answered (TLS ignores this and closes)
        return self.transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc):
        self._eof = self._lost = True
        self._wake()
        _release(self._write_waiter)

    def pause_writing(self):
        self._writing_paused = True

    def resume_writing(self):
        self._writing_paused = False
        _release(self._write_waiter)

    # -- reading ----------------------------------------------------------------

    def _wake(self):
        _release(self._waiter)

    async def _more(self):
        """Wait for more bytes; _Closed if none can come."""
        if self._eof:
            raise _Closed()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _consumed(self):
        if self._reading_paused and len(self._buffer) < _LOW_WATER and not self._lost:
            self._reading_paused = False
            self.transport.resume_reading()

    def buffered(self):
        """The bytes received and not read yet (at most 64 of them)."""
        return bytes(self._buffer[:64])

    async def wait_for_data(self):
        while not self._buffer:
            await self._more()

    async def read_line(self, limit, too_long, check=None):
        """One line, up to and including LF; ``too_long`` (a _Reject) beyond
        ``limit`` bytes; ``check(partial)`` may refuse a line as it arrives."""
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                if end + 1 > limit:
                    raise too_long
                line = bytes(self._buffer[:end + 1])
                del self._buffer[:end + 1]
                self._consumed()
                return line
            if len(self._buffer) >= limit:
                raise too_long
            if check is not None and searched < 256:
                check(bytes(self._buffer[:256]))
            searched = len(self._buffer)
            await self._more()

    async def read_exactly(self, size):
        out = bytearray()
        while len(out) < size:
            if self._buffer:
                take = min(size - len(out), len(self._buffer))
                out += self._buffer[:take]
                del self._buffer[:take]
                self._consumed()
            else:
                await self._more()
        return bytes(out)

    # -- writing ----------------------------------------------------------------

    def write(self, data):
        if not self._lost:
            self.transport.write(data)

    async def drain(self):
        while self._writing_paused and not self._lost:
            self._write_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._write_waiter
            finally:
                self._write_waiter = None

    async def linger(self):
        """After a refusal: send EOF, drop what the client still sends, until
        it closes or _LINGER seconds pass (so that it reads the answer rather
        than a connection reset)."""
        self._discard = True
        self._buffer.clear()
        self._consumed()
        if self._reading_paused and not self._lost:
            self._reading_paused = False
            self.transport.resume_reading()
        if self._lost:
            return
        try:
            if self.transport.can_write_eof():
                self.transport.write_eof()
        except OSError:  # the client is gone already
            return
        try:
            async with asyncio.timeout(_LINGER):
                while not self._eof:
                    await self._more()
        except (TimeoutError, _Closed):
            pass

    def close(self):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def evict(self, max_connections):
        """Closed to make room for a new connection (see MAX_CONNECTIONS): a
        client with a request half sent is told so (503); one waiting for its
        next request is simply closed, as by the idle timeout."""
        if self.state == "reading" and not self._lost:
            body = (f"connection closed to make room for others: the request did not "
                    f"arrive while the server was at its limit of {max_connections} "
                    f"connections\n").encode("utf-8")
            self.write(f"HTTP/1.1 {_status_line(503)}\r\n"
                       f"Content-Type: text/plain; charset=utf-8\r\n"
                       f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                       f"Server: wbemconform\r\n\r\n".encode("latin-1") + body)
        if self.state == "refusing":
            self.abort()
        else:
            self.close()

    def abort(self):
        if self.transport is not None:
            self.transport.abort()


def _status_line(code):
    return f"{code} {http.client.responses.get(code, 'Error')}"


class _Frontend:
    """The asyncio HTTP/1.1 front end of :func:`serve`: reads requests whole
    and strictly, hands each to the WSGI application in a worker thread."""

    def __init__(self, app, sock, ssl_context, numthreads, request_timeout, idle_timeout,
                 max_connections):
        self.app = app
        self.sock = sock
        self.ssl_context = ssl_context
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.scheme = "https" if ssl_context is not None else "http"
        address = sock.getsockname()
        self.server_name, self.server_port = str(address[0]), str(address[1])
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=numthreads, thread_name_prefix=f"wbemconform-worker-{address[1]}")
        self.connections = set()
        self.stopping = False
        self.loop = None
        self.server = None

    # -- the conversation on one connection -----------------------------------

    async def converse(self, conn):
        self.connections.add(conn)
        try:
            if len(self.connections) > self.max_connections and not self._make_room(conn):
                await self._refuse(conn, 503, f"more than {self.max_connections} connections")
                return
            while not self.stopping:
                conn.state = "waiting"
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        await conn.wait_for_data()
                except (TimeoutError, _Closed):
                    return  # idle, or closed between requests: nothing to answer
                conn.state = "reading"
                try:
                    async with asyncio.timeout(self.request_timeout):
                        request = await self._read_request(conn)
                except TimeoutError:
                    await self._refuse(conn, 408, f"the request did not arrive within "
                                                  f"{self.request_timeout:g} s")
                    return
                except _Reject as exc:
                    await self._refuse(conn, exc.status, exc.detail)
                    return
                except _Closed:
                    return  # the client gave up mid-request
                if self.stopping:
                    return
                conn.state = "answering"
                try:
                    answer = await self.loop.run_in_executor(self.executor, self._call_app,
                                                             request, conn.peer)
                except RuntimeError:  # the executor is shut down: the server stops
                    return
                if not await self._respond(conn, request, *answer):
                    return
                conn.active = time.monotonic()
        except asyncio.CancelledError:
            conn.abort()
            raise
        except Exception:  # a bug in the front end: log it, drop the connection
            LOG.exception("internal error in the HTTP front end")
            conn.abort()
        finally:
            self.connections.discard(conn)
            conn.close()

    def _make_room(self, newcomer):
        """Close the connection quiet longest (not one being answered) if it
        has been quiet EVICT_QUIET_SECONDS or more; whether one was closed."""
        victim = None
        for conn in self.connections:
            if conn is newcomer or conn.state == "answering":
                continue
            if victim is None or conn.active < victim.active:
                victim = conn
        if victim is None:
            return False
        quiet = time.monotonic() - victim.active
        if quiet < EVICT_QUIET_SECONDS:
            return False
        self.connections.discard(victim)
        LOG.info("at the limit of %s connections: closing %s:%s (%s, quiet for %.1f s) "
                 "for a new one", self.max_connections, *victim.peer, victim.state, quiet)
        victim.evict(self.max_connections)
        return True

    async def _refuse(self, conn, status, detail):
        conn.state = "refusing"
        host, port = conn.peer
        LOG.info("HTTP %s to %s:%s: %s", status, host, port, detail)
        body = (detail + "\n").encode("utf-8")
        conn.write(f"HTTP/1.1 {_status_line(status)}\r\n"
                   f"Content-Type: text/plain; charset=utf-8\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                   f"Server: wbemconform\r\n\r\n".encode("latin-1") + body)
        await conn.linger()

    # -- reading a request ------------------------------------------------------

    async def _read_request(self, conn):
        def check(partial):
            if not _REQUEST_LINE_PREFIX.fullmatch(partial):
                raise _Reject(400, "malformed HTTP request line")

        too_long = _Reject(414, "request line too long")
        line = await conn.read_line(_MAX_REQUEST_LINE, too_long, check)
        if line == b"\r\n":  # one empty line before a request is tolerated (RFC 9112 2.2)
            line = await conn.read_line(_MAX_REQUEST_LINE, too_long, check)
        match = _REQUEST_LINE.fullmatch(line)
        if match is None:
            raise _Reject(400, "malformed HTTP request line")
        method, target, version = (part.decode("ascii") for part in match.groups())
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise _Reject(505, f"{version} is not supported; use HTTP/1.1")
        headers = await self._read_fields(conn, MAX_HEADER_BYTES - len(line), "header")
        values = {}
        for name, value in headers:
            values.setdefault(name, []).append(value)
        hosts = values.get("host", [])
        if len(hosts) > 1 or (version == "HTTP/1.1" and not hosts):
            raise _Reject(400, "an HTTP/1.1 request needs exactly one Host header")
        encodings = values.get("transfer-encoding")
        lengths = values.get("content-length")
        chunked, length = False, 0
        if encodings is not None:
            if lengths is not None:
                raise _Reject(400, "both Transfer-Encoding and Content-Length: "
                                   "the request could be read two ways")
            if version != "HTTP/1.1":
                raise _Reject(400, "Transfer-Encoding in an HTTP/1.0 request")
            codings = [c.strip().lower() for v in encodings for c in v.split(",")]
            if codings != ["chunked"]:
                if "" in codings or codings.count("chunked") != 1 or codings[-1] != "chunked":
                    raise _Reject(400, f"malformed Transfer-Encoding {', '.join(encodings)!r}"
                                       f"; chunked, once, must be last")
                raise _Reject(501, f"Transfer-Encoding {', '.join(encodings)!r} is not "
                                   f"supported; only chunked")
            chunked = True
        elif lengths is not None:
            if len(lengths) > 1:
                raise _Reject(400, "more than one Content-Length header")
            if not _CONTENT_LENGTH.fullmatch(lengths[0]):
                raise _Reject(400, f"malformed Content-Length {lengths[0][:40]!r}")
            length = int(lengths[0])
            if length > MAX_REQUEST_BYTES:
                raise _Reject(413, f"request body of {length} bytes; at most "
                                   f"{MAX_REQUEST_BYTES} are accepted")
        expect = values.get("expect")
        if expect is not None:
            if [e.strip().lower() for e in expect] != ["100-continue"]:
                raise _Reject(417, f"unsupported Expect {', '.join(expect)[:40]!r}")
            if version == "HTTP/1.1" and (chunked or length):
                conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await (self._read_chunked(conn) if chunked else conn.read_exactly(length))
        extra = conn.buffered()
        if extra == b"\r\n":  # a CRLF after the body, as some old clients send: tolerated
            await conn.read_exactly(2)
        elif extra:
            raise _Reject(400, "bytes after the end of the request body: the Content-Length "
                               "is smaller than the body, or requests are pipelined, which "
                               "this server does not accept")
        return _Request(method, target, version, headers, body)

    @staticmethod
    async def _read_fields(conn, budget, what):
        """Header (or trailer) fields up to the empty line, strictly."""
        too_big = _Reject(431, f"{what} fields larger than {MAX_HEADER_BYTES} bytes")
        fields = []
        while True:
            line = await conn.read_line(max(budget, 0), too_big)
            budget -= len(line)
            if line == b"\r\n":
                return fields
            if not line.endswith(b"\r\n"):
                raise _Reject(400, f"{what} line not terminated by CRLF")
            if line[:1] in (b" ", b"\t"):
                raise _Reject(400, f"obsolete line folding in the {what} fields")
            name, colon, value = line[:-2].partition(b":")
            if not colon or not _TOKEN.fullmatch(name):
                raise _Reject(400, f"malformed {what} line {line[:40]!r}")
            value = value.strip(b" \t")
            if _HEADER_VALUE_BAD.search(value):
                raise _Reject(400, f"control character in {what} {name[:40].decode()!r}")
            fields.append((name.decode("ascii").lower(), value.decode("latin-1")))
            if len(fields) > MAX_HEADER_FIELDS:
                raise _Reject(431, f"more than {MAX_HEADER_FIELDS} {what} fields")

    async def _read_chunked(self, conn):
        body = bytearray()
        while True:
            line = await conn.read_line(_MAX_CHUNK_LINE, _Reject(400, "chunk size line too long"))
            match = _CHUNK_SIZE.fullmatch(line[:-2]) if line.endswith(b"\r\n") else None
            if match is None:
                raise _Reject(400, f"malformed chunk size line {line[:40]!r}")
            digits = match.group(1).lstrip(b"0") or b"0"
            if len(digits) > 8 or int(digits, 16) > MAX_REQUEST_BYTES:
                raise _Reject(400, f"chunk size {match.group(1)[:20].decode()} is beyond any "
                                   f"request this server accepts ({MAX_REQUEST_BYTES} bytes)")
            size = int(digits, 16)
            if size == 0:
                break
            if len(body) + size > MAX_REQUEST_BYTES:
                raise _Reject(413, f"chunked request body larger than {MAX_REQUEST_BYTES} bytes")
            body += await conn.read_exactly(size)
            if await conn.read_exactly(2) != b"\r\n":
                raise _Reject(400, "chunk data not followed by CRLF (chunk size wrong?)")
        await self._read_fields(conn, MAX_HEADER_BYTES, "trailer")
        return bytes(body)

    # -- the application ---------------------------------------------------------

    def _environ(self, request, peer):
        target = request.target
        if target.startswith(("http://", "https://")):  # absolute-form
            split = urllib.parse.urlsplit(target)
            path, query = split.path or "/", split.query
        else:
            path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": request.method, "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path, encoding="latin-1"),
            "QUERY_STRING": query, "SERVER_NAME": self.server_name,
            "SERVER_PORT": self.server_port, "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": str(peer[0]), "REMOTE_PORT": str(peer[1]),
            "CONTENT_LENGTH": str(len(request.body)),
            "wsgi.version": (1, 0), "wsgi.url_scheme": self.scheme,
            "wsgi.input": io.BytesIO(request.body), "wsgi.errors": _LogStream(),
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name, value in request.headers:
            if name in ("content-length", "transfer-encoding"):
                continue  # the body is whole: CONTENT_LENGTH says how long
            key = "CONTENT_TYPE" if name == "content-type" else \
                "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        return environ

    def _call_app(self, request, peer):
        """(status, headers, chunks, broken) from the WSGI application, in a worker."""
        state = {}
        chunks = []

        def start_response(status, headers, exc_info=None):
            state["status"], state["headers"] = status, list(headers)
            return chunks.append

        broken = False
        try:
            result = self.app(self._environ(request, peer), start_response)
            try:
                for chunk in result:
                    if chunk:
                        chunks.append(bytes(chunk))
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except _InjectedClose as exc:  # the 'close' fault, as meant: no traceback
            LOG.info("%s", exc)
            broken = True
        except Exception:
            LOG.exception("the WSGI application failed on %s %s", request.method,
                          request.target[:100])
            if "status" not in state:
                state["status"] = _status_line(500)
                state["headers"] = [("Content-Type", "text/plain; charset=utf-8")]
                chunks[:] = [b"internal server error\n"]
            broken = True
        return state.get("status") or _status_line(500), state.get("headers") or [], \
            chunks, broken

    async def _respond(self, conn, request, status, headers, chunks, broken):
        """Write the answer; whether the connection stays open."""
        keep = request.keep_alive and not broken and not self.stopping
        names = {name.lower() for name, _ in headers}
        body = b"".join(chunks)
        lines = [f"HTTP/1.1 {status}\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers)
        if "content-length" not in names:
            lines.append(f"Content-Length: {len(body)}\r\n")
        if "date" not in names:
            lines.append(f"Date: {email.utils.formatdate(usegmt=True)}\r\n")
        if "server" not in names:
            lines.append("Server: wbemconform\r\n")
        if not keep:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        conn.write(head if request.method == "HEAD" else head + body)
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await conn.drain()
        except TimeoutError:
            LOG.info("%s:%s did not read its answer within %g s", *conn.peer, WRITE_TIMEOUT)
            conn.abort()
            return False
        return keep

    # -- running -----------------------------------------------------------------

    def _loop_exception(self, loop, context):
        exc = context.get("exception")
        if exc is None or isinstance(exc, (OSError, EOFError)):  # a client's failure
            LOG.info("%s%s", context.get("message", "connection error"),
                     f": {_one_line(exc)}" if exc is not None else "")
        else:
            loop.default_exception_handler(context)

    def run(self, ready):
        """The front end's thread: its own event loop until stopped."""
        loop = self.loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        try:
            self.server = loop.run_until_complete(loop.create_server(
                lambda: _Connection(self), sock=self.sock, ssl=self.ssl_context,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if self.ssl_context else None))
        except BaseException as exc:
            ready.append(exc)
            loop.close()
            return
        ready.append(None)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(self._cancel_all())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _cancel_all(self):
        tasks = [c.task for c in list(self.connections) if c.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    async def _shutdown(self):
        self.stopping = True
        self.server.close()
        for conn in list(self.connections):
            conn.abort()
        await self._cancel_all()


class _LogStream:
    """``wsgi.errors``: what the application writes there goes to the log."""

    def write(self, text):
        if text.strip():
            LOG.warning("%s", text.rstrip())

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass


class WbemServer:
    """A running CIM-XML server in a background thread (see :func:`serve`)."""

    def __init__(self, frontend, thread, scheme, host):
        self._frontend = frontend
        self._thread = thread
        self.scheme = scheme
        self.host = host
        self.port = int(frontend.server_port)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{shown}:{self.port}"
        self._stopped = False

    @property
    def read_only(self):
        return self._frontend.app.read_only

    def stop(self, timeout=10):
        """Stop serving and wait for the server thread; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        frontend = self._frontend
        stopping = getattr(frontend.app, "stopping", None)
        if stopping is not None:
            stopping.set()  # injected delays end now
        frontend.stopping = True
        try:
            asyncio.run_coroutine_threadsafe(frontend._shutdown(), frontend.loop) \
                .result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass  # the loop is gone already, or stuck: it is stopped below either way
        try:
            frontend.loop.call_soon_threadsafe(frontend.loop.stop)
        except RuntimeError:  # the loop is closed
            pass
        self._thread.join(timeout)
        frontend.executor.shutdown(wait=False, cancel_futures=True)
        try:
            frontend.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = "stopped" if self._stopped else "running"
        return f"<WbemServer {self.url} {state}>"


def is_loopback(host):
    """True if every address ``host`` names is a loopback one; None if it
    cannot be resolved (binding it fails then, with its own error)."""
    if not host:
        return False  # all interfaces
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    try:
        return bool(infos) and all(
            ipaddress.ip_address(info[4][0].split("%", 1)[0]).is_loopback for info in infos)
    except ValueError:
        return False


def _listen(host, port):
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _PassPhraseAsked(Exception):
    """Raised by the password callback: the private key is encrypted."""


def _refuse_pass_phrase():
    # Called by OpenSSL only for an encrypted key, instead of its own
    # interactive prompt (which reads the terminal, or fails without one).
    raise _PassPhraseAsked()


def _tls_context(certfile, keyfile):
    """The server's TLS context; ValueError, naming the file, for an
    encrypted private key (pass-phrase-protected keys are not supported)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile, password=_refuse_pass_phrase)
    except _PassPhraseAsked:
        raise ValueError(f"{keyfile or certfile}: the private key is encrypted (protected by "
                         f"a pass phrase), which is not supported: give the key unencrypted, "
                         f"readable only by the server's user") from None
    return context


def serve(conn, host="127.0.0.1", port=0, user=None, password=None,
          certfile=None, keyfile=None, numthreads=8, fault=None, read_only=False,
          allow_unauthenticated_remote=False, request_timeout=REQUEST_TIMEOUT,
          idle_timeout=IDLE_TIMEOUT, max_connections=MAX_CONNECTIONS):
    """Serve ``conn`` over CIM-XML at ``http(s)://host:port/`` in a background thread.

    ``port=0`` picks a free port (``server.port``, ``server.url``). With
    ``certfile`` (and ``keyfile``, unless the certificate file holds the key)
    the server speaks HTTPS. ``user`` and a non-empty ``password`` require
    HTTP Basic authentication; a ``host`` that is not loopback is refused
    without them (ValueError) unless ``allow_unauthenticated_remote``.
    ``read_only`` refuses every write operation with CIM_ERR_ACCESS_DENIED.
    A ``port`` outside 0..65535 is a ValueError (not another port modulo
    65536); so is a pass-phrase-protected private key: no pass phrase is ever
    asked for.
    ``numthreads`` workers run the operations; ``request_timeout`` bounds the
    arrival of each request, from its first byte, ``idle_timeout`` a kept-alive
    connection's wait for its next request. ``fault`` makes it misbehave on
    purpose (see :func:`parse_fault`; ValueError if malformed). Returns a
    :class:`WbemServer`; stop it with ``.stop()`` or use it as a context manager.
    """
    for name, value in (("request_timeout", request_timeout), ("idle_timeout", idle_timeout)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if isinstance(port, bool) or (isinstance(port, int) and not 0 <= port <= 65535):
        raise ValueError(f"port {port!r} is not a TCP port number (0 to 65535; 0: any free "
                         f"port)")
    if user is None and not allow_unauthenticated_remote and is_loopback(host) is False:
        raise ValueError(f"{host or 'all interfaces'} is not a loopback address: serving it "
                         f"without authentication would let anyone who reaches it read "
                         f"and change the mock; set a user and password, or allow "
                         f"unauthenticated remote access explicitly")
    app = make_app(conn, user=user, password=password, fault=fault, read_only=read_only)
    ssl_context = None
    if certfile:
        ssl_context = _tls_context(certfile, keyfile or None)
    elif keyfile:
        raise ValueError("keyfile given without certfile")
    sock = _listen(host, port)  # binds now: the port is known before serve() returns
    frontend = _Frontend(app, sock, ssl_context, numthreads, float(request_timeout),
                         float(idle_timeout), max_connections)
    ready = []
    thread = threading.Thread(target=frontend.run, args=(ready,),
                              name=f"wbemconform-server-{frontend.server_port}", daemon=True)
    thread.start()
    while not ready and thread.is_alive():
        thread.join(0.01)
    if not ready or ready[0] is not None:
        sock.close()
        error = ready[0] if ready else RuntimeError("the server thread ended at start")
        raise OSError(f"cannot start serving: {_one_line(error)}")
    return WbemServer(frontend, thread, "https" if ssl_context else "http", host)
