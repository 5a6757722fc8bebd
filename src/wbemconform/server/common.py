"""What every part of the served mock shares: its logger, the one-line form
of an error detail, the HTTP-level error of a request, and the per-mock
state (one lock per mock connection) that every application serving the
same mock shares."""

from __future__ import annotations

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
