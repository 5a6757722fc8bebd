"""The WS-Management application: the served mock over WS-Man, WinRM style.

``serve(conn, apps={"/wsman": make_wsman_app})`` (what ``wbemconform serve``
does, see :func:`wbemconform.server.serving.default_apps`) answers SOAP
envelopes POSTed to ``/wsman`` from the same mock, under the same lock, as
the CIM-XML application: the client sees what the mock answers in process.

How a request is handled:

* authentication through the server's own (:attr:`Mount.auth
  <wbemconform.server.routes.Mount>`): 401 with the Basic challenge and no
  body, as WinRM answers; with ``serve(auth=("basic", "ntlm"))`` NTLM too,
  with WinRM's sealed messages over HTTP (:mod:`~wbemconform.server.wsman_auth`:
  the handshake, the ``Negotiate``/``NTLM`` challenges, a security context
  per connection, ``multipart/encrypted`` requests opened and answers sealed);
  then ``POST`` (else 405) with a SOAP
  ``Content-Type`` (``application/soap+xml``, or ``text/xml``/
  ``application/xml``; else 415), a body of at most
  :data:`~wbemconform.server.framing.MAX_REQUEST_BYTES` (else 413);
* the body is read by the codec's hardened parser
  (:func:`wbemconform.wsman.parse_request`): no DOCTYPE, no entity but the
  predefined ones, at most :data:`~wbemconform.server.request.MAX_XML_DEPTH`
  deep and :data:`~wbemconform.server.request.MAX_XML_ELEMENTS` elements --
  what it refuses is a SOAP fault (``wsman:EncodingLimit`` for hostile or
  over-limit XML, ``wsman:SchemaValidationError`` for what is not a
  WS-Management request), logged in one line, never a traceback;
* the operation is mapped to one call of the mock
  (:mod:`wbemconform.server.wsman_ops`), under the mock's lock; with
  ``read_only`` every custom action but the reading ones
  (:data:`~wbemconform.server.readonly.READ_METHODS`) is refused with
  ``CIM_ERR_ACCESS_DENIED`` before the mock is touched, and so are the
  WS-Transfer writes -- Create, Put, Delete, which a writable server hands
  to the mock's ``CreateInstance``, ``ModifyInstance``, ``DeleteInstance``
  (a provider's refusal comes back as a fault with its CIM status);
* enumerations are answered at once and handed out by Pull from
  :mod:`wbemconform.server.wsman_enum` (capped, expiring);
* a response larger than the request's ``wsman:MaxEnvelopeSize`` (default
  :data:`DEFAULT_MAX_ENVELOPE`, at most :data:`MAX_ENVELOPE`) carries fewer
  items (Pull, optimized Enumerate), or is a ``wsman:EncodingLimit`` fault.

Errors: a ``CIMError`` of the mock is a fault with the matching subcode and
the status in an ``MSFT_WmiError``'s ``CIMStatusCode`` (the codec's
:func:`~wbemconform.wsman.fault_for_cim_error`); every fault is HTTP 500,
as WinRM sends them. An unexpected Python exception is
``wsman:InternalError`` naming it; its traceback goes to the
``wbemconform.server`` logger (a bug), never to the client.

Resource URIs (:class:`wbemconform.wsman.ResourceUriMap`, WinRM style):
``http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<class>`` for
any class; DSP0227's ``http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/
<class>`` (and the other vendor forms the map reads) with the
``__cimnamespace`` selector; the "all classes" URIs ``.../wmi/<namespace>/*``
and ``http://schemas.dmtf.org/wbem/wscim/1/*`` for filtered enumerations;
and OMI's class retrieval URI
(:data:`~wbemconform.wsman.names.CLASS_RETRIEVAL_URI`), whose Get answers the
class as a DSP0201 ``<CLASS>`` element. Answers name every instance by its
own class's URI (``CIM_`` classes in the DMTF form with ``__cimnamespace``,
the others in the WinRM form), in its own namespace.
"""

from __future__ import annotations

import itertools
import time

from lxml import etree
from pywbem import CIM_ERR_FAILED, CIMClass, CIMError

from ..wsman import (ResourceUriMap, WsmanFault, build_enumerate_response, build_fault,
                     build_get_response, build_invoke_response, build_pull_response,
                     build_release_response, fault_for_cim_error, parse_request)
from ..wsman.envelope import make_envelope, serialize
from ..wsman.names import ACTION_GET_RESPONSE
from ..wsman.transfer import (build_create_response, build_delete_response,
                              build_put_response)
from .cimxml import CimXmlApp
from .common import LOG, HttpError, WsgiApp, one_line
from .framing import MAX_REQUEST_BYTES
from .pulls import ENUMERATION_TIMEOUT, MAX_ENUMERATION_CONTEXTS
from .readonly import check_intrinsic
from .request import MAX_XML_DEPTH, MAX_XML_ELEMENTS
from .wsman_auth import WsmanGate
from .wsman_enum import EnumerationContexts
from .wsman_ops import MockOps, Resource, fault

__all__ = ["WsmanApp", "make_wsman_app", "CONTENT_TYPE", "DEFAULT_MAX_ENVELOPE",
           "MAX_ENVELOPE", "MIN_ENVELOPE"]

CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
_SOAP_TYPES = ("application/soap+xml", "text/xml", "application/xml")
#: response size when the request gives no wsman:MaxEnvelopeSize (what the
#: codec's client parser accepts by default)
DEFAULT_MAX_ENVELOPE = 4 * 1024 * 1024
#: largest response the server writes, whatever MaxEnvelopeSize says
MAX_ENVELOPE = 16 * 1024 * 1024
#: DSP0226 6.2: a MaxEnvelopeSize below 8192 octets is refused
MIN_ENVELOPE = 8192


class WsmanApp(WsgiApp):
    """The WSGI application of one :class:`~wbemconform.server.routes.Mount`."""

    def __init__(self, mount, *, uri_map=None, enumeration_timeout=ENUMERATION_TIMEOUT,
                 max_contexts=MAX_ENUMERATION_CONTEXTS, clock=time.monotonic,
                 error_class="MSFT_WmiError"):
        self.mount = mount
        self.conn = mount.conn
        self.lock = mount.lock
        self.auth = mount.auth
        self.gate = WsmanGate(mount.auth, getattr(mount, "auth_schemes", ("basic",)),
                              getattr(mount, "ntlm", None))
        self.read_only = mount.read_only
        self.stopping = mount.stopping
        self.uri_map = uri_map or ResourceUriMap()
        self.contexts = EnumerationContexts(enumeration_timeout, max_contexts, clock)
        self.error_class = error_class

    # -- HTTP -----------------------------------------------------------------------

    protocol = "WS-Management"

    def internal_error(self, exc):
        return self._fault(build_fault("wsman:InternalError", f"internal server error: "
                                       f"{type(exc).__name__}"))

    def http_error(self, exc):
        headers = list(exc.headers)
        if exc.status == 401:  # as WinRM: the challenge, no body
            return self._status(401), headers, b""
        LOG.info("WS-Management: HTTP %s: %s", exc.status, exc.detail)
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
        text = exc.detail or self._status(exc.status)
        return self._status(exc.status), headers, (text + "\n").encode("utf-8")

    def _fault(self, body):
        return self._status(500), [("Content-Type", CONTENT_TYPE)], body

    @staticmethod
    def _check_method(environ):
        method = environ.get("REQUEST_METHOD", "")
        if method != "POST":
            raise HttpError(405, None, f"method {method} not allowed; WS-Management is POSTed",
                            [("Allow", "POST")])

    @staticmethod
    def _check_type(environ):
        ctype = environ.get("CONTENT_TYPE", "")
        mime = ctype.split(";", 1)[0].strip().lower()
        if mime not in _SOAP_TYPES:
            raise HttpError(415, None, f"Content-Type must be application/soap+xml, got "
                                       f"{ctype[:80]!r}")

    def _handle(self, environ):
        admitted = self.gate.admit(environ)  # Basic, or NTLM (server/wsman_auth.py)
        if admitted.answer is not None:  # a leg of an NTLM handshake
            return admitted.answer
        self._check_method(environ)
        if admitted.encrypted:  # sealed over HTTP: answered sealed
            return admitted.seal(self._soap(admitted.open(environ,
                                                          CimXmlApp.read_body(environ))))
        self._check_type(environ)
        return admitted.seal(self._soap(CimXmlApp.read_body(environ)))

    def _soap(self, body):
        """(status, headers, body) of the answer to a SOAP envelope."""
        try:
            req = parse_request(body, self.uri_map, max_bytes=MAX_REQUEST_BYTES,
                                max_depth=MAX_XML_DEPTH, max_elements=MAX_XML_ELEMENTS)
        except WsmanFault as exc:
            LOG.info("WS-Management request refused: %s", one_line(exc))
            return self._fault(exc.to_xml(error_class=self.error_class))
        except ValueError as exc:  # anything else the codec could not read
            LOG.info("WS-Management request refused: %s", one_line(exc))
            return self._fault(build_fault("wsman:SchemaValidationError", one_line(exc)))
        try:
            return "200 OK", [("Content-Type", CONTENT_TYPE)], self._dispatch(req)
        except WsmanFault as exc:
            LOG.debug("WS-Management %s answered with a fault: %s", req.operation, exc)
            return self._fault(exc.to_xml(req.message_id, error_class=self.error_class))
        except CIMError as exc:
            LOG.debug("WS-Management %s: %s", req.operation, one_line(exc))
            return self._fault(fault_for_cim_error(exc, operation=req.operation,
                                                   relates_to=req.message_id,
                                                   error_class=self.error_class))

    # -- operations -----------------------------------------------------------------

    def _limit(self, req):
        size = req.max_envelope_size
        if size is None:
            return DEFAULT_MAX_ENVELOPE
        if size < MIN_ENVELOPE:
            raise fault("wsman:EncodingLimit", f"MaxEnvelopeSize {size} is below the minimum "
                        f"of {MIN_ENVELOPE} octets", "MinimumEnvelopeLimit")
        return min(size, MAX_ENVELOPE)

    def _dispatch(self, req):
        if req.operation == "Pull":
            return self._pull(req)
        if req.operation == "Release":
            self.contexts.release(req.context)
            return build_release_response(req.message_id)
        if req.operation in _WRITES:
            return self._write(req)
        if req.operation not in ("Get", "Enumerate", "Invoke"):
            raise fault("wsa:ActionNotSupported", f"action {req.action[:200]!r} is not "
                        f"supported by this server", "ActionMismatch")
        limit = self._limit(req)
        res = Resource(req, self.uri_map)
        if req.operation == "Get":
            result = self._locked(lambda ops: ops.get(req, res), req)
            if isinstance(result, CIMClass):
                return self._fits(self._class_response(req, result), limit)
            return self._fits(build_get_response(req.message_id, result, self.uri_map,
                                                 namespace=res.namespace), limit)
        if req.operation == "Invoke":
            ret, out = self._locked(lambda ops: ops.invoke(req, res, self.read_only), req)
            return self._fits(build_invoke_response(req.message_id, res.uri, req.method, ret,
                                                    out, uri_map=self.uri_map,
                                                    namespace=res.namespace), limit)
        items = list(self._locked(lambda ops: ops.enumerate(req, res), req))
        return self._enumerate(req, res, items, limit)

    def _write(self, req):
        """Create, Put, Delete: refused on a read-only server before the mock
        is touched, else the mock's CreateInstance/ModifyInstance/DeleteInstance."""
        check_intrinsic(_WRITES[req.operation], self.read_only)
        limit = self._limit(req)
        res = Resource(req, self.uri_map)
        if req.operation == "Create":
            path = self._locked(lambda ops: ops.create(req, res), req)
            return self._fits(build_create_response(req.message_id, path, self.uri_map,
                                                    namespace=res.namespace), limit)
        if req.operation == "Put":
            self._locked(lambda ops: ops.put(req, res), req)
            return self._fits(build_put_response(req.message_id), limit)
        self._locked(lambda ops: ops.delete(req, res), req)
        return self._fits(build_delete_response(req.message_id), limit)

    def _locked(self, operation, req):
        """``operation(MockOps)`` under the mock's lock."""
        deadline = None if not req.operation_timeout else \
            time.monotonic() + req.operation_timeout
        while not self.lock.acquire(timeout=0.2):
            if self.stopping.is_set():
                raise fault("wsa:EndpointUnavailable", "the server is stopping")
            if deadline is not None and time.monotonic() > deadline:
                raise fault("wsman:TimedOut", f"the mock stayed busy for longer than the "
                            f"OperationTimeout ({req.operation_timeout:g} s)")
        try:
            return operation(MockOps(self.conn, self.uri_map))
        except (CIMError, WsmanFault):
            raise
        except Exception as exc:  # a bug in the mock: CIM_ERR_FAILED, as over CIM-XML
            LOG.exception("the mock failed on WS-Management %s of %s", req.operation,
                          req.resource_uri)
            raise CIMError(CIM_ERR_FAILED, f"internal error in the mock server: "
                                           f"{type(exc).__name__}: {one_line(exc)}") from None
        finally:
            self.lock.release()

    def _class_response(self, req, cimclass):
        root, body = make_envelope(ACTION_GET_RESPONSE, relates_to=req.message_id)
        body.append(etree.fromstring(cimclass.tocimxmlstr()))
        return serialize(root)

    @staticmethod
    def _fits(body, limit):
        if len(body) > limit:
            raise fault("wsman:EncodingLimit", f"the response ({len(body)} octets) exceeds "
                        f"the MaxEnvelopeSize of {limit} octets", "MaxEnvelopeSize")
        return body

    def _page(self, render, items, count, limit):
        """(body, number of items in it): as many of ``items[:count]`` as fit
        in ``limit`` octets (at least one, or a wsman:EncodingLimit fault)."""
        n = min(count, len(items))
        while True:
            body = render(items[:n])
            if len(body) <= limit:
                return body, n
            if n <= 1:
                self._fits(body, limit)
            n = max(1, min(n - 1, n * limit // len(body)))

    def _enumerate(self, req, res, items, limit):
        mode = req.enumeration_mode
        kwargs = {"mode": mode, "uri_map": self.uri_map, "namespace": res.namespace}
        if not req.optimize:
            context = self.contexts.open(items, mode, res.namespace)
            return build_enumerate_response(req.message_id, context=context, **kwargs)
        count = req.max_elements or 1  # DSP0226 8.2.3: one item unless told more

        def render(part, context="uuid:00000000-0000-0000-0000-000000000000"):
            end = len(part) == len(items)
            return build_enumerate_response(req.message_id, part, optimized=True,
                                            end_of_sequence=end,
                                            context=None if end else context, **kwargs)
        body, n = self._page(render, items, count, limit)
        if n == len(items):
            return body
        context = self.contexts.open(items[n:], mode, res.namespace)
        return render(items[:n], context)

    def _pull(self, req):
        limit = self._limit(req)
        enum = self.contexts.get(req.context)
        kwargs = {"mode": enum.mode, "uri_map": self.uri_map, "namespace": enum.namespace}
        count = req.max_elements or 1  # WS-Enumeration: one item unless told more
        with enum.lock:
            remaining = len(enum.items)
            head = list(itertools.islice(enum.items, count))

            def render(part):
                return build_pull_response(req.message_id, part, context=req.context,
                                           end_of_sequence=len(part) == remaining, **kwargs)
            body, n = self._page(render, head, count, limit)
            enum.take(n)
        if n == remaining:
            self.contexts.finish(req.context)
        return body


#: WS-Transfer writes -> the mock's operation (refused by a read-only server)
_WRITES = {"Create": "CreateInstance", "Put": "ModifyInstance", "Delete": "DeleteInstance"}


def make_wsman_app(mount, **options):
    """The WS-Management application of ``mount`` (a factory for
    ``serve(apps={"/wsman": make_wsman_app})``); ``options`` are
    :class:`WsmanApp`'s (``uri_map``, ``enumeration_timeout``,
    ``max_contexts``, ``clock``, ``error_class``)."""
    return WsmanApp(mount, **options)
