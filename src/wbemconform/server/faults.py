"""Fault injection: a served mock that misbehaves on purpose.

``serve(conn, fault=...)`` / ``wbemconform serve --fault``, for testing
clients such as the suites against a misbehaving server; never on by
default. The fault is one of :data:`FAULT_HELP`, optionally prefixed
``"after:N:"`` to let the first N requests through (``"after:20:http500"``),
so that the fault hits mid-run. See :func:`parse_fault`.
"""

from __future__ import annotations

import math
import threading

from .auth import challenge
from .common import LOG, HttpError
from .pywbem_xml import CONTENT_TYPE, XML_DECL

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


class InjectedClose(Exception):
    """Raised from a response body to close the connection mid-response."""


def closing_body(body):
    """Half the body, then the connection is dropped (by the WSGI server:
    :func:`wbemconform.server.serve`'s front end catches :class:`InjectedClose`)."""
    yield body[:max(1, len(body) // 2)]
    raise InjectedClose("fault 'close': connection closed mid-response")



class FaultInjector:
    """The fault of one application (or None) and the number of requests it
    has seen, so that ``after:N:`` lets the first N through."""

    def __init__(self, fault):
        self.fault = parse_fault(fault)
        self._requests = 0
        self._requests_guard = threading.Lock()

    def now(self):
        """The fault to inject into this request, or None (counts requests)."""
        if self.fault is None:
            return None
        with self._requests_guard:
            self._requests += 1
            number = self._requests
        return self.fault if number > self.fault.after else None

    @staticmethod
    def answer(app, fault, environ, start_response):
        """Answer a WSGI request with ``fault``: ``app`` (the CIM-XML
        application) gives the normal answer (``app.answer(environ)``), reads
        the body (``app.read_body``), writes an HTTP error
        (``app.http_error``), and ends delays when it stops (``app.stopping``)."""
        LOG.info("injecting fault %r", fault.spec)
        kind = fault.kind
        if kind == "delay":
            app.stopping.wait(fault.seconds)
            kind = None  # then a normal answer
        if kind in ("http500", "401"):
            try:  # consume the request, so that keep-alive stays in step
                app.read_body(environ)
            except HttpError:
                pass
            if kind == "http500":
                exc = HttpError(500, None, "injected fault: internal server error")
            else:
                exc = HttpError(401, None, "injected fault: authentication required",
                                challenge())
            status, headers, body = app.http_error(exc)
        else:
            status, headers, body = app.answer(environ)
        if kind == "truncated":
            body = body[:len(body) // 2]
        elif kind == "invalid-xml":
            status = "200 OK"
            headers = [("Content-Type", CONTENT_TYPE), ("CIMOperation", "MethodResponse")]
            body = (XML_DECL + b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="0" '
                    b'PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="x">'
                    b'<IRETURNVALUE>injected fault: this is not CIM-XML & not XML'
                    b'</SIMPLERSP></CIM>\n')
        elif kind == "content-type":
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        if kind == "close":
            return closing_body(body)
        return [body]
