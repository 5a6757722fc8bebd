"""The CIM-XML application: a WSGI application serving a pywbem_mock
connection (:func:`make_app`, :class:`CimXmlApp`).

How a request is handled:

* authentication (:class:`wbemconform.server.auth.BasicAuth`), then the HTTP
  headers DSP0200 prescribes (``POST``, ``CIMOperation: MethodCall``,
  ``Content-Type``), then the body, at most
  :data:`~wbemconform.server.framing.MAX_REQUEST_BYTES`;
* the body is parsed (:func:`wbemconform.server.request.parse_request`) into
  pywbem's ``IMETHODCALL``/``METHODCALL`` tuples, and the ``CIMMethod`` and
  ``CIMObject`` headers are checked against it;
* the intrinsic method's parameters are checked and converted
  (:mod:`wbemconform.server.methods`); with ``read_only=True`` every write
  operation (and every extrinsic method that is not a known read) is refused with
  ``CIM_ERR_ACCESS_DENIED`` first (:mod:`wbemconform.server.readonly`); a WQL
  query (``ExecQuery``, ``OpenQueryInstances``) longer than
  :data:`wbemconform.wql.MAX_QUERY_LENGTH` characters is refused with
  ``CIM_ERR_INVALID_QUERY`` before the mock is touched (the mock refuses
  queries with more than ``MAX_QUERY_TERMS`` comparisons or nested deeper
  than ``MAX_QUERY_DEPTH`` the same way);
* the method is handed to the mock exactly as pywbem's client hands it over
  in process (``conn._mock_imethodcall(name, namespace, **params)``, i.e. the
  mock's ``_imeth_<Name>``), under the mock's lock, because the mock is not
  thread-safe, with its pull enumeration contexts expired and capped around
  it (:mod:`wbemconform.server.pulls`); workers waiting for the lock give up
  when the server stops;
* the result is turned back into CIM-XML with pywbem's generation code
  (:class:`wbemconform.server.pywbem_xml.ResultEncoder`).

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
  :data:`~wbemconform.server.framing.MAX_REQUEST_BYTES` or with more than
  :data:`~wbemconform.server.request.MAX_XML_ELEMENTS` elements;
* an unexpected Python exception in the mock is ``CIM_ERR_FAILED`` naming the
  exception; the traceback goes to the ``wbemconform.server`` logger (it is a
  bug in the mock), never to the client.

Extrinsic method calls (``METHODCALL``) go to the mock's ``InvokeMethod``
under its lock, as pywbem's client calls it in process: the same answer
(:mod:`wbemconform.mock.methods`: GetCentralInstances implemented,
``CIM_ERR_NOT_SUPPORTED`` for a declared method without a provider). With
``read_only`` every extrinsic method but the known reads is refused with
``CIM_ERR_ACCESS_DENIED`` first (:mod:`wbemconform.server.readonly`).
"""

from __future__ import annotations

import threading
import urllib.parse

from pywbem import CIM_ERR_FAILED, CIM_ERR_NOT_SUPPORTED, CIMError

from .auth import BasicAuth
from .common import LOG, HttpError, WsgiApp, mock_lock, one_line
from .faults import FaultInjector
from .framing import MAX_REQUEST_BYTES
from .methods import METHOD_NAMES, METHODS, QUERIES, check_query, method_params
from .pulls import pull_contexts_for
from .pywbem_xml import (CONTENT_TYPE, ResultEncoder, enumeration_contexts, error_element,
                         imethod_response, method_input, method_response,
                         method_result_children, mock_imethodcall, response_body)
from .readonly import check_extrinsic, check_intrinsic, method_declaration
from .request import parse_request


class CimXmlApp(WsgiApp):
    """WSGI application serving a pywbem_mock connection over CIM-XML."""

    def __init__(self, conn, user=None, password=None, fault=None, read_only=False):
        self.auth = BasicAuth(user, password)
        self._faults = FaultInjector(fault)
        self.fault = self._faults.fault
        self.read_only = bool(read_only)
        self.stopping = threading.Event()  # set on server stop: ends injected delays
        self.conn = conn
        self.lock = mock_lock(conn)
        self.pull_contexts = pull_contexts_for(conn)
        self._encoder = ResultEncoder(getattr(conn, "host", None))

    protocol = "CIM-XML"

    # WSGI entry point: a seeded fault first (--fault), else WsgiApp's answer
    def __call__(self, environ, start_response):
        fault = self._faults.now()
        if fault is not None:
            return self._faults.answer(self, fault, environ, start_response)
        return super().__call__(environ, start_response)

    def internal_error(self, exc):
        return self.http_error(HttpError(500, None, "internal server error"))

    def http_error(self, exc):
        """(status, headers, body) of an HTTP-level error answer."""
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if exc.cimerror:
            headers.append(("CIMError", exc.cimerror))
        headers.extend(exc.headers)
        text = exc.detail or self._status(exc.status)
        if exc.status in (400, 501) and exc.cimerror:
            LOG.info("HTTP %s (CIMError: %s): %s", exc.status, exc.cimerror, exc.detail)
        return self._status(exc.status), headers, (text + "\n").encode("utf-8")

    @classmethod
    def read_body(cls, environ):
        """The request body, at most MAX_REQUEST_BYTES (else HttpError 413)."""
        try:
            return cls._read_body_raw(environ)
        except (ValueError, OverflowError) as exc:  # a malformed body, as another
            # WSGI server's input stream may report it (serve() checks framing itself)
            raise HttpError(400, None, f"malformed request body: {one_line(exc)}") from None

    @staticmethod
    def _read_body_raw(environ):
        length = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length.strip():
            if not length.strip().isdigit() or not length.strip().isascii():
                raise HttpError(400, None, "invalid Content-Length")
            size = int(length)
            if size < 0:
                raise HttpError(400, None, "invalid Content-Length")
            if size > MAX_REQUEST_BYTES:
                raise HttpError(413, None, f"request larger than {MAX_REQUEST_BYTES} bytes")
            return stream.read(size)
        body = stream.read(MAX_REQUEST_BYTES + 1)  # chunked, or no body
        if len(body) > MAX_REQUEST_BYTES:
            raise HttpError(413, None, f"request larger than {MAX_REQUEST_BYTES} bytes")
        return body

    @staticmethod
    def _check_headers(environ):
        method = environ.get("REQUEST_METHOD", "")
        if method == "M-POST":
            raise HttpError(501, None, "M-POST is not supported; use POST")
        if method != "POST":
            raise HttpError(405, None, f"method {method} not allowed; CIM-XML is POSTed",
                            [("Allow", "POST")])
        operation = environ.get("HTTP_CIMOPERATION")
        if operation is None or operation.strip().lower() != "methodcall":
            raise HttpError(400, "unsupported-operation",
                            f"CIMOperation header must be MethodCall, got {operation!r}")
        ctype = environ.get("CONTENT_TYPE", "")
        if ctype:
            mime = ctype.split(";", 1)[0].strip().lower()
            if mime not in ("application/xml", "text/xml"):
                raise HttpError(400, "header-mismatch",
                                f"Content-Type must be application/xml or text/xml, "
                                f"got {ctype!r}")

    def _handle(self, environ):
        self.auth.check(environ)
        self._check_headers(environ)
        body = self.read_body(environ)
        msgid, call = parse_request(body)
        kind = call[0]
        if kind == "METHODCALL":
            name = call[1]["NAME"]
            self._check_method_header(environ, name)
            authority = self._authority(environ)
            return self._response(msgid, method_response(
                name, self._extrinsic(name, call[2], call[3], authority)))
        name, namespace, raw_params = call[1]["NAME"], call[2], call[3]
        self._check_method_header(environ, name)
        cimobject = environ.get("HTTP_CIMOBJECT")
        if cimobject is not None and \
                urllib.parse.unquote(cimobject).strip("/").lower() != namespace.strip("/").lower():
            raise HttpError(400, "header-mismatch",
                            f"CIMObject header {cimobject!r} does not name the request's "
                            f"namespace {namespace!r}")
        children = self._imethod(name, namespace, raw_params, self._authority(environ))
        return self._response(msgid, imethod_response(name, children))

    @staticmethod
    def _authority(environ):
        return environ.get("HTTP_HOST") or \
            f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '')}"

    @staticmethod
    def _check_method_header(environ, name):
        header = environ.get("HTTP_CIMMETHOD")
        if header is None or urllib.parse.unquote(header).strip().lower() != name.lower():
            raise HttpError(400, "header-mismatch",
                            f"CIMMethod header {header!r} does not match the method "
                            f"{name!r} of the request")

    @staticmethod
    def _response(msgid, payload):
        headers = [("Content-Type", CONTENT_TYPE), ("CIMOperation", "MethodResponse")]
        return "200 OK", headers, response_body(msgid, payload)

    # -- dispatching ----------------------------------------------------------

    def _imethod(self, name, namespace, raw_params, authority):
        """The children of the IMETHODRESPONSE (ERROR, or IRETURNVALUE and PARAMVALUEs)."""
        method = METHOD_NAMES.get(name.lower())
        try:
            if method is None:
                raise CIMError(CIM_ERR_NOT_SUPPORTED,
                               f"intrinsic method {name!r} is not supported")
            check_intrinsic(method, self.read_only)
            params = method_params(method, raw_params)
            if method in QUERIES:
                check_query(method, params)
            self._acquire()
            try:
                table = enumeration_contexts(self.conn)
                if table is not None:
                    self.pull_contexts.before(table, method, params)
                result = mock_imethodcall(self.conn, method, namespace, params)
                if table is not None:
                    self.pull_contexts.after(table, method, params, result)
                return self._encoder.children(method, METHODS[method][2], result, namespace,
                                              authority)
            finally:
                self.lock.release()
        except CIMError as exc:
            return error_element(exc.status_code, exc.status_description, exc.instances)
        except Exception as exc:
            LOG.exception("the mock failed on %s in %s", method or name, namespace)
            return error_element(CIM_ERR_FAILED,
                                 f"internal error in the mock server: {type(exc).__name__}: "
                                 f"{one_line(exc)}")

    def _extrinsic(self, name, path, raw_params, authority):
        """The children of the METHODRESPONSE: the mock's own answer
        (``conn.InvokeMethod``, as in process), or the read-only refusal."""
        try:
            check_extrinsic(name, self.read_only)
            self._acquire()
            try:
                decl = method_declaration(self.conn, path, name)
                ret, out = self.conn.InvokeMethod(name, path,
                                                  Params=method_input(raw_params, decl))
                namespace = path.namespace
                return method_result_children(
                    ret, out, decl,
                    lambda p: self._encoder.full_path(p, namespace, authority))
            finally:
                self.lock.release()
        except CIMError as exc:
            return error_element(exc.status_code, exc.status_description, exc.instances)
        except Exception as exc:
            LOG.exception("the mock failed on extrinsic method %s of %s", name, path)
            return error_element(CIM_ERR_FAILED,
                                 f"internal error in the mock server: {type(exc).__name__}: "
                                 f"{one_line(exc)}")

    def _acquire(self):
        """Take the mock's lock; CIMError if the server stops meanwhile (so
        that workers queued behind a long operation do not delay the stop)."""
        while not self.lock.acquire(timeout=0.2):
            if self.stopping.is_set():
                raise CIMError(CIM_ERR_FAILED, "the server is stopping")


def make_app(conn, user=None, password=None, fault=None, read_only=False):
    """A WSGI application serving ``conn`` (a pywbem_mock FakedWBEMConnection,
    e.g. :func:`wbemconform.mock.connect`'s) over CIM-XML at any path.

    With ``user`` (and a non-empty ``password``) set, HTTP Basic
    authentication is required. ``read_only`` refuses every write operation
    (:data:`~wbemconform.server.readonly.WRITE_METHODS`, and extrinsic methods
    but :data:`~wbemconform.server.readonly.READ_METHODS`) with
    CIM_ERR_ACCESS_DENIED. ``fault`` injects a fault into the answers
    (see :func:`~wbemconform.server.faults.parse_fault`); a bad specification
    is a ValueError. Hosted by another WSGI server, the application gets that
    server's HTTP handling: the strict framing, request deadlines and
    connection limits are :func:`~wbemconform.server.serve`'s.
    """
    return CimXmlApp(conn, user=user, password=password, fault=fault, read_only=read_only)
