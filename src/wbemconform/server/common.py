"""What every part of the served mock shares: its logger, the one-line form
of an error detail, the HTTP-level error of a request, and the per-mock
state (one lock per mock connection) that every application serving the
same mock shares, and how an application answers a request (WsgiApp)."""

from __future__ import annotations

import http.client
import logging
import threading
import weakref

#: The logger of the whole server (every module of the package logs here).
LOG = logging.getLogger("wbemconform.server")

_MAX_DETAIL = 300  # characters of an error detail sent back and logged


def one_line(exc):
    """The first line of an exception's message, at most _MAX_DETAIL characters."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= _MAX_DETAIL else line[:_MAX_DETAIL] + "..."


class HttpError(Exception):
    """A request answered at the HTTP level (DSP0200 ``CIMError`` header)."""

    def __init__(self, status, cimerror=None, detail="", headers=()):
        super().__init__(detail)
        self.status = status
        self.cimerror = cimerror
        self.detail = detail
        self.headers = list(headers)


class WsgiApp:
    """What every application of the served mock does with a request: answer
    it (``_handle``), an HTTP-level error as ``http_error`` says, a bug as
    ``internal_error`` says -- never a traceback to the client -- and a
    connection that failed while its request was read left to the front end
    (which answers 408 or drops it). ``protocol`` names the application in
    the log."""

    protocol = "HTTP"

    def __call__(self, environ, start_response):  # the WSGI entry point
        status, headers, body = self.answer(environ)
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def answer(self, environ):
        """(status, headers, body) of the answer to a request (a WSGI environ)."""
        try:
            return self._handle(environ)
        except HttpError as exc:
            return self.http_error(exc)
        except OSError:
            raise  # the client's connection failed: the front end answers or drops it
        except Exception as exc:  # a bug here: never a traceback to the client
            LOG.exception("internal error handling a %s request", self.protocol)
            return self.internal_error(exc)

    @staticmethod
    def _status(code):
        return f"{code} {http.client.responses.get(code, '')}".strip()


_LOCKS = weakref.WeakKeyDictionary()
_PER_MOCK_GUARD = threading.Lock()


def per_mock(registry, conn, make):
    """The object ``registry`` (a WeakKeyDictionary) keeps for ``conn``, made
    by ``make()`` the first time; a fresh one if ``conn`` cannot be a key."""
    with _PER_MOCK_GUARD:
        try:
            value = registry.get(conn)
            if value is None:
                value = registry[conn] = make()
            return value
        except TypeError:  # not weakly referenceable / hashable
            return make()


def mock_lock(conn):
    """One lock per mock connection, shared by every app serving it (the
    mock is not thread-safe: every operation on it runs under this lock)."""
    return per_mock(_LOCKS, conn, threading.Lock)
