"""The WS-Management app's enumeration contexts: capped, expiring, released.

A WS-Enumeration Enumerate (DSP0226 8.2) is answered from the mock at once,
under its lock (:mod:`wbemconform.server.wsman_ops`): the whole result is
kept here, under a fresh ``uuid:`` context, and Pulls hand it out in
pieces, so that a slow client never holds the mock's lock. Like the CIM-XML
pull contexts (:mod:`wbemconform.server.pulls`, whose limits are used), a
context expires after :data:`~wbemconform.server.pulls.ENUMERATION_TIMEOUT`
seconds without a Pull, at most
:data:`~wbemconform.server.pulls.MAX_ENUMERATION_CONTEXTS` are kept (the
least recently used goes first), one pulled to its end or Released is gone,
and a Pull or Release of a context closed so is
``wsen:InvalidEnumerationContext`` (with
``CIM_ERR_INVALID_ENUMERATION_CONTEXT`` in the detail) saying why.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from dataclasses import dataclass, field

from pywbem import CIM_ERR_INVALID_ENUMERATION_CONTEXT, CIMError

from .pulls import ENUMERATION_TIMEOUT, MAX_ENUMERATION_CONTEXTS

_MAX_REMEMBERED = 1024  # closed contexts remembered, to say why a Pull on one fails


@dataclass
class Enumeration:
    """One open enumeration: what is left to pull, and how to write it."""
    items: collections.deque
    mode: str | None          # None (objects), EnumerateEPR, EnumerateObjectAndEPR
    namespace: str | None     # the request's CIM namespace (for items without one)
    last_used: float = 0.0
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # one Pull at a time

    def take(self, count):
        """Up to ``count`` items off the front."""
        return [self.items.popleft() for _ in range(min(count, len(self.items)))]


class EnumerationContexts:
    """The open enumerations of one WS-Management app (thread-safe)."""

    def __init__(self, timeout=ENUMERATION_TIMEOUT, limit=MAX_ENUMERATION_CONTEXTS,
                 clock=time.monotonic):
        if timeout is not None and not timeout > 0:
            raise ValueError(f"enumeration timeout must be positive seconds, got {timeout!r}")
        if not (isinstance(limit, int) and limit > 0):
            raise ValueError(f"enumeration context limit must be a positive integer, got "
                             f"{limit!r}")
        self.timeout = timeout
        self.limit = limit
        self.clock = clock
        self._open = collections.OrderedDict()  # id -> Enumeration, least recently used first
        self._closed = collections.OrderedDict()  # id -> why
        self._guard = threading.Lock()

    def __len__(self):
        with self._guard:
            self._expire(self.clock())
            return len(self._open)

    def _close(self, context, why):
        self._open.pop(context, None)
        self._closed[context] = why
        self._closed.move_to_end(context)
        while len(self._closed) > _MAX_REMEMBERED:
            self._closed.popitem(last=False)

    def _expire(self, now):
        if self.timeout is None:
            return
        for context, enum in list(self._open.items()):
            if now - enum.last_used > self.timeout:
                self._close(context, f"expired: it was not pulled for more than "
                                     f"{self.timeout:g} s")

    def open(self, items, mode, namespace):
        """A new context holding ``items``; its id."""
        context = f"uuid:{uuid.uuid4()}"
        with self._guard:
            now = self.clock()
            self._expire(now)
            self._open[context] = Enumeration(collections.deque(items), mode, namespace, now,
                                              len(items))
            while len(self._open) > self.limit:
                oldest = next(iter(self._open))
                self._close(oldest, f"closed to make room: the server keeps at most "
                                    f"{self.limit} open enumeration contexts, and this was "
                                    f"the least recently used")
        return context

    def get(self, context):
        """The open :class:`Enumeration` ``context`` names; CIMError
        (CIM_ERR_INVALID_ENUMERATION_CONTEXT) saying why if there is none."""
        with self._guard:
            now = self.clock()
            self._expire(now)
            enum = self._open.get(context)
            if enum is None:
                why = self._closed.get(context)
                raise CIMError(CIM_ERR_INVALID_ENUMERATION_CONTEXT,
                               f"enumeration context {context[:80]!r} "
                               + (f"was closed by the server, {why}" if why else
                                  "is not open (unknown, pulled to its end, or released)"))
            enum.last_used = now
            self._open.move_to_end(context)
            return enum

    def finish(self, context, why="pulled to its end"):
        """Close ``context`` (pulled to its end, or released)."""
        with self._guard:
            if context in self._open:
                self._close(context, why)

    def release(self, context):
        """Release ``context``; CIMError if it is not open."""
        self.get(context)
        self.finish(context, "released by the client")
