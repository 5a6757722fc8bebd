"""Expiry and cap of the served mock's pull enumeration contexts.

pywbem_mock keeps every pull enumeration context that is not pulled to its
end (``Open*`` never pulled to the end) forever, so a client that opens
enumerations and never pulls them would grow the server without bound.
Here contexts expire after their ``OperationTimeout`` without use
(:data:`ENUMERATION_TIMEOUT` seconds unless the Open gave one), and at most
:data:`MAX_ENUMERATION_CONTEXTS` are kept (the least recently used goes
first); a Pull on one closed so is ``CIM_ERR_INVALID_ENUMERATION_CONTEXT``
saying why. The table itself is pywbem_mock's
(:func:`wbemconform.server.pywbem_xml.enumeration_contexts`).
"""

from __future__ import annotations

import collections
import time
import weakref

from pywbem import CIM_ERR_INVALID_ENUMERATION_CONTEXT, CIMError

from .common import per_mock
from .methods import METHODS

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

#: the operations that open a pull enumeration context, and those that use one
OPENS = frozenset(name for name in METHODS if name.startswith("Open"))
PULLS = frozenset(name for name in METHODS if name.startswith("Pull")) | \
    {"CloseEnumeration"}
_MAX_REMEMBERED = 1024  # closed contexts remembered, to say why a Pull on one fails

_PULL_CONTEXTS = weakref.WeakKeyDictionary()


class PullContexts:
    """Expiry and cap of a mock's open pull enumeration contexts.

    pywbem_mock keeps every context that is not pulled to its end forever.
    This keeps, beside its table
    (:func:`wbemconform.server.pywbem_xml.enumeration_contexts`), when each
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
        if method in PULLS:
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
        if method in OPENS:
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


def pull_contexts_for(conn):
    """One :class:`PullContexts` per mock connection, like its lock."""
    return per_mock(_PULL_CONTEXTS, conn, PullContexts)
