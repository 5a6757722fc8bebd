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

* the body is parsed with pywbem's own CIM-XML parser (``_tupletree``'s SAX
  parser into a tuple tree, ``_tupleparse.TupleParser`` into tuples and CIM
  objects: ``SIMPLEREQ``/``IMETHODCALL``/``IPARAMVALUE``);
* the intrinsic method is handed to the mock exactly as pywbem's client hands
  it over in process (``conn._mock_imethodcall(name, namespace, **params)``,
  i.e. the mock's ``_imeth_<Name>``), under a lock, because the mock is not
  thread-safe;
* the result -- the tuple structure ``WBEMConnection._imethodcall`` returns --
  is turned back into CIM-XML with pywbem's generation code (``_cim_xml`` and
  the objects' ``tocimxml()``), in the element DSP0200 prescribes for the
  operation (``VALUE.NAMEDINSTANCE`` for enumerations, ``INSTANCENAME``,
  ``VALUE.OBJECTWITHPATH`` for associators/references/ExecQuery, ``OBJECTPATH``,
  ``CLASS``/``CLASSNAME``, ``QUALIFIER.DECLARATION``, ``VALUE.INSTANCEWITHPATH``
  / ``INSTANCEPATH`` / ``INSTANCE`` for pull operations with the out
  parameters ``EnumerationContext`` and ``EndOfSequence`` as ``PARAMVALUE``).

Errors, as DSP0200 divides them:

* a ``CIMError`` of the operation (or a wrong parameter, or an unknown
  intrinsic method: ``CIM_ERR_NOT_SUPPORTED``) is an ``ERROR`` element inside
  a normal ``IMETHODRESPONSE``, HTTP 200, no ``CIMError`` header;
* a request that is not CIM-XML is an HTTP error with the ``CIMError``
  header: 400 ``request-not-well-formed`` (not well-formed XML),
  400 ``request-not-valid`` (well-formed but not a valid CIM-XML request),
  400 ``unsupported-operation`` (``CIMOperation`` is not ``MethodCall``),
  400 ``header-mismatch`` (``CIMMethod``/``CIMObject`` disagree with the body),
  501 ``unsupported-protocol-version`` / ``unsupported-cim-version`` /
  ``unsupported-dtd-version`` / ``multiple-requests-unsupported``;
  405 for other HTTP methods, 501 for ``M-POST`` (so clients fall back to
  ``POST``), 413 for bodies over :data:`MAX_REQUEST_BYTES`;
* an unexpected Python exception in the mock is ``CIM_ERR_FAILED`` naming the
  exception; the traceback goes to the ``wbemconform.server`` logger, never to
  the client.

Extrinsic method calls (``METHODCALL``) are answered with
``CIM_ERR_NOT_SUPPORTED``: the WMI mock serves no methods.

With ``user`` set, every request needs HTTP Basic authentication (compared in
constant time); otherwise the answer is 401 with
``WWW-Authenticate: Basic realm="wbemconform"``.

Paths the mock marks with its own fake host (``conn.host``,
``FakedUrl:5988``) or with no host, where DSP0201 needs one
(``INSTANCEPATH``/``CLASSPATH``), carry the authority the client addressed
(the ``Host`` header), as a real server names itself.

Fault injection (``fault=``, for testing clients such as the suites against
a misbehaving server; never on by default): one of

* ``"delay:SECONDS"`` -- sleep that long, then answer normally;
* ``"http500"`` -- HTTP 500 Internal Server Error, no CIM-XML;
* ``"close"`` -- the headers announce the full ``Content-Length``, half the
  body is sent, then the connection is closed (a truncated response);
* ``"truncated"`` -- valid HTTP whose CIM-XML body is cut in half;
* ``"invalid-xml"`` -- HTTP 200 with ``CIMOperation: MethodResponse`` and a
  body that is not CIM-XML (not even well-formed XML);
* ``"content-type"`` -- the correct CIM-XML body with ``Content-Type: text/html``;
* ``"401"`` -- HTTP 401 with ``WWW-Authenticate``, whatever the credentials;

optionally prefixed ``"after:N:"`` to let the first N requests through
(``"after:20:http500"``), so that the fault hits mid-run. See
:func:`parse_fault`.

Why cheroot for the HTTP side: it is pure Python (no compiler, installs
anywhere the suite does), actively maintained (it is CherryPy's server, with
regular releases for current Pythons), a plain WSGI server (so
:func:`make_app` stays a standard WSGI application that any other WSGI server
could host too), serves TLS through its builtin ``ssl`` adapter (no
pyOpenSSL needed) and is threaded with a worker pool and keep-alive handling,
which the standard library's ``wsgiref`` is not (single-threaded, HTTP/1.0,
no TLS).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import http.client
import logging
import math
import sys
import threading
import urllib.parse
import weakref

from pywbem import (CIMClass, CIMClassName, CIMError, CIMInstance,
                    CIMInstanceName, CIMQualifierDeclaration, Uint32)
from pywbem import _cim_xml
from pywbem._cim_constants import (CIM_ERR_FAILED, CIM_ERR_INVALID_PARAMETER,
                                   CIM_ERR_NOT_SUPPORTED)
from pywbem._exceptions import (CIMVersionError, CIMXMLParseError,
                                DTDVersionError, ProtocolVersionError,
                                XMLParseError)
from pywbem._tupleparse import TupleParser
from pywbem._tupletree import xml_to_tupletree_sax

__all__ = ["make_app", "serve", "WbemServer", "MAX_REQUEST_BYTES", "REALM", "Fault",
           "parse_fault", "FAULT_KINDS"]

LOG = logging.getLogger("wbemconform.server")

#: Largest request body accepted (bytes); larger ones get HTTP 413.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
#: The realm named in ``WWW-Authenticate``.
REALM = "wbemconform"

_XML_DECL = b'<?xml version="1.0" encoding="utf-8" ?>\n'
_CONTENT_TYPE = 'application/xml; charset="utf-8"'
_PROTOCOL_VERSION = "1.0"
_CIM_VERSION = "2.0"
_DTD_VERSION = "2.0"

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

#: The fault kinds :func:`parse_fault` accepts (``delay`` takes ``:SECONDS``).
FAULT_KINDS = ("delay", "http500", "close", "truncated", "invalid-xml", "content-type", "401")
_FAULT_SYNTAX = ("expected [after:N:]KIND with KIND one of delay:SECONDS, http500, close, "
                 "truncated, invalid-xml, content-type, 401")


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


# -- the WSGI application -------------------------------------------------------

_LOCKS = weakref.WeakKeyDictionary()
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


class CimXmlApp:
    """WSGI application serving a pywbem_mock connection over CIM-XML."""

    def __init__(self, conn, user=None, password=None, fault=None):
        if user is not None and password is None:
            raise ValueError("a password is required when a user is set")
        self.fault = parse_fault(fault)
        self._requests = 0
        self._requests_guard = threading.Lock()
        self.stopping = threading.Event()  # set on server stop: ends injected delays
        self.conn = conn
        self.lock = _lock_for(conn)
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
            # timeout, a reset): the HTTP server answers 408 or drops it
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
        except ValueError as exc:  # e.g. a malformed chunked body (cheroot)
            raise _HttpError(400, None, f"malformed request body: {_one_line(exc)}") from None

    @staticmethod
    def _read_body_raw(environ):
        length = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length.strip():
            try:
                size = int(length)
            except ValueError:
                raise _HttpError(400, None, "invalid Content-Length") from None
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
        if b"<!ENTITY" in body:
            raise _HttpError(400, "request-not-valid", "entity declarations are not accepted")
        msgid, call = self._parse(body)
        kind = call[0]
        if kind == "METHODCALL":
            name = call[1]["NAME"]
            self._check_method_header(environ, name)
            error = _cim_xml.ERROR(str(CIM_ERR_NOT_SUPPORTED),
                                   f"extrinsic method {name} is not supported by this server")
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

    # -- parsing ------------------------------------------------------------

    @staticmethod
    def _parse(body):
        """(message id, parsed IMETHODCALL or METHODCALL) of a request body."""
        if not body.strip():
            raise _HttpError(400, "request-not-well-formed", "empty request body")
        try:
            tree = xml_to_tupletree_sax(body, "CIM-XML request")
        except XMLParseError as exc:
            raise _HttpError(400, "request-not-well-formed", _one_line(exc)) from None
        except Exception as exc:  # anything else the SAX layer raises
            raise _HttpError(400, "request-not-well-formed", _one_line(exc)) from None
        parser = TupleParser()
        try:
            if not (isinstance(tree, tuple) and tree[0] == "CIM"):
                raise CIMXMLParseError("the root element is not CIM")
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

    # -- dispatching ----------------------------------------------------------

    def _imethod(self, name, namespace, raw_params, authority):
        """The children of the IMETHODRESPONSE (ERROR, or IRETURNVALUE and PARAMVALUEs)."""
        method = _METHOD_NAMES.get(name.lower())
        try:
            if method is None:
                raise CIMError(CIM_ERR_NOT_SUPPORTED,
                               f"intrinsic method {name!r} is not supported")
            params = _method_params(method, raw_params)
            with self.lock:
                result = self.conn._mock_imethodcall(method, namespace, **params)
                return self._encode(method, result, namespace, authority)
        except CIMError as exc:
            return _error(exc.status_code, exc.status_description, exc.instances)
        except Exception as exc:
            LOG.exception("the mock failed on %s in %s", method or name, namespace)
            return _error(CIM_ERR_FAILED,
                          f"internal error in the mock server: {type(exc).__name__}: "
                          f"{_one_line(exc)}")

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
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def make_app(conn, user=None, password=None, fault=None):
    """A WSGI application serving ``conn`` (a pywbem_mock FakedWBEMConnection,
    e.g. :func:`wbemconform.mock.connect`'s) over CIM-XML at any path.

    With ``user`` (and ``password``) set, HTTP Basic authentication is required.
    ``fault`` injects a fault into the answers (see :func:`parse_fault`);
    a bad specification is a ValueError.
    """
    return CimXmlApp(conn, user=user, password=password, fault=fault)


# -- the HTTP server -------------------------------------------------------------

class WbemServer:
    """A running CIM-XML server in a background thread (see :func:`serve`)."""

    def __init__(self, httpd, thread, scheme, host):
        self._httpd = httpd
        self._thread = thread
        self.scheme = scheme
        self.host = host
        self.port = httpd.bind_addr[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{shown}:{self.port}"
        self._stopped = False

    def stop(self, timeout=10):
        """Stop serving and wait for the server thread; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        stopping = getattr(self._httpd.wsgi_app, "stopping", None)
        if stopping is not None:
            stopping.set()  # injected delays end now
        self._httpd.stop()
        self._thread.join(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = "stopped" if self._stopped else "running"
        return f"<WbemServer {self.url} {state}>"


def _cheroot_log(msg="", level=logging.INFO, traceback=False):
    if traceback and isinstance(sys.exc_info()[1], _InjectedClose):
        LOG.info("%s", sys.exc_info()[1])  # the 'close' fault, as meant: no traceback
        return
    LOG.log(level, "%s", msg, exc_info=traceback)


def serve(conn, host="127.0.0.1", port=0, user=None, password=None,
          certfile=None, keyfile=None, numthreads=8, fault=None):
    """Serve ``conn`` over CIM-XML at ``http(s)://host:port/`` in a background thread.

    ``port=0`` picks a free port (``server.port``, ``server.url``). With
    ``certfile`` (and ``keyfile``, unless the certificate file holds the key)
    the server speaks HTTPS. ``fault`` makes it misbehave on purpose (see
    :func:`parse_fault`; ValueError if malformed). Returns a :class:`WbemServer`;
    stop it with ``.stop()`` or use it as a context manager.
    """
    from cheroot import wsgi

    app = make_app(conn, user=user, password=password, fault=fault)
    httpd = wsgi.Server((host, port), app, numthreads=numthreads,
                        server_name="wbemconform", timeout=10, shutdown_timeout=2)
    httpd.error_log = _cheroot_log  # to logging, not straight to stderr
    scheme = "http"
    if certfile:
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        httpd.ssl_adapter = BuiltinSSLAdapter(certfile, keyfile or certfile)
        scheme = "https"
    elif keyfile:
        raise ValueError("keyfile given without certfile")
    httpd.prepare()  # binds now: the port is known before serve() returns

    def run():
        try:
            httpd.serve()
        except Exception:
            LOG.exception("the CIM-XML server stopped on an error")

    thread = threading.Thread(target=run, name=f"wbemconform-server-{httpd.bind_addr[1]}",
                              daemon=True)
    thread.start()
    return WbemServer(httpd, thread, scheme, host)
