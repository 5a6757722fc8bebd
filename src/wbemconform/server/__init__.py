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

The package, by responsibility (each module's docstring says more):

* :mod:`~wbemconform.server.serving`: :func:`serve` and :class:`WbemServer`
  (listening, TLS, the loopback-without-authentication rule);
* :mod:`~wbemconform.server.frontend`: the asyncio HTTP/1.1 front end
  (deadlines, connection limit and eviction, handing requests to worker
  threads), with :mod:`~wbemconform.server.connection` (one client
  connection) and :mod:`~wbemconform.server.framing` (reading a request,
  strictly, within the size limits);
* :mod:`~wbemconform.server.routes`: which application answers a path --
  CIM-XML everywhere, others mounted beside it (``serve(apps={"/wsman":
  factory})``, see :class:`Mount`);
* :mod:`~wbemconform.server.cimxml`: the CIM-XML application
  (:func:`make_app`): headers, dispatch to the mock under its lock, errors as
  DSP0200 divides them; with :mod:`~wbemconform.server.request` (parsing a
  request body within the XML limits), :mod:`~wbemconform.server.methods`
  (the intrinsic methods and their parameters),
  :mod:`~wbemconform.server.readonly` (``read_only=True``),
  :mod:`~wbemconform.server.pulls` (pull enumeration contexts expire and are
  capped) and :mod:`~wbemconform.server.faults` (``fault=``: misbehaving on
  purpose);
* :mod:`~wbemconform.server.wsman`: the WS-Management application
  (:func:`make_wsman_app`, mounted at ``/wsman`` by ``wbemconform serve``:
  :func:`default_apps`), with :mod:`~wbemconform.server.wsman_ops` (each
  request as one call of the mock) and :mod:`~wbemconform.server.wsman_enum`
  (its enumeration contexts, capped and expiring);
* :mod:`~wbemconform.server.auth`: HTTP Basic authentication, loopback
  addresses;
* :mod:`~wbemconform.server.pywbem_xml`: the one module that uses pywbem's
  private API (pywbem is a client library: it has no public API to read
  CIM-XML *requests* or write *responses*; ``TupleParser``, ``_cim_xml``, the
  mock's ``_mock_imethodcall`` and its enumeration context table are used
  there, and tests/test_server_pywbem_adapter.py and
  tests/test_private_apis.py fail loudly if pywbem changes them);
* :mod:`~wbemconform.server.common`: the logger (``wbemconform.server``, for
  every module), the mock's lock.
"""

from __future__ import annotations

from .auth import REALM, BasicAuth, is_loopback
from .cimxml import CimXmlApp, make_app  # noqa: F401
from .faults import FAULT_HELP, FAULT_KINDS, Fault, parse_fault
from .framing import MAX_HEADER_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_BYTES
from .frontend import (EVICT_QUIET_SECONDS, IDLE_TIMEOUT, MAX_CONNECTIONS, REQUEST_TIMEOUT,
                       TLS_HANDSHAKE_TIMEOUT, WRITE_TIMEOUT)  # noqa: F401
from .pulls import ENUMERATION_TIMEOUT, MAX_ENUMERATION_CONTEXTS
from .readonly import WRITE_METHODS
from .request import MAX_XML_ATTRIBUTES, MAX_XML_DEPTH, MAX_XML_ELEMENTS, parse_request
from .request import request_tree as _request_tree  # noqa: F401  (the name tests use)
from .routes import Mount
from .serving import WSMAN_PREFIX, WbemServer, default_apps, serve
from .wsman import WsmanApp, make_wsman_app

__all__ = ["make_app", "serve", "WbemServer", "parse_request", "is_loopback",
           "MAX_REQUEST_BYTES", "MAX_XML_ELEMENTS", "MAX_XML_DEPTH", "MAX_XML_ATTRIBUTES",
           "MAX_HEADER_BYTES", "MAX_HEADER_FIELDS", "REQUEST_TIMEOUT", "IDLE_TIMEOUT",
           "TLS_HANDSHAKE_TIMEOUT", "MAX_CONNECTIONS", "EVICT_QUIET_SECONDS",
           "MAX_ENUMERATION_CONTEXTS", "ENUMERATION_TIMEOUT", "REALM", "Fault", "parse_fault",
           "FAULT_KINDS", "FAULT_HELP", "WRITE_METHODS", "Mount", "BasicAuth",
           "make_wsman_app", "WsmanApp", "default_apps", "WSMAN_PREFIX"]
