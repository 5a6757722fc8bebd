"""Targets: what the suites run against, whatever opened them.

A :class:`Target` wraps a connection object with pywbem's operation methods
(``conn.EnumerateInstanceNames(...)`` etc., answering with pywbem's CIM
objects and raising pywbem's error classes) behind one method,
:meth:`Target.call`, so that the checks never touch the transport: every
operation is logged (for evidence, operation counts and the write audit),
bounded by the opener's transport, and classified -- a CIM error is an
*answer* the checks judge, while a transport failure (unreachable, refused
credentials, garbage, timeout) is a :class:`ServerError`, which makes a
verdict ``error``, never ``fail``. Writes are refused before they are sent
unless the target declares the ``writes`` capability.

What a target can do is DECLARED by its opener (``capabilities``, names of
:data:`CAPABILITIES`); nothing here knows which opener made it.
"""

from __future__ import annotations

import functools
import queue
import time
from concurrent.futures import ThreadPoolExecutor

import pywbem
from pywbem import CIMError

from .. import interrupts
from ..options import TargetOptions
from ..secrets import Secrets

__all__ = ["Target", "ServerError", "WriteRefused", "TargetSetupError", "WRITE_OPERATIONS",
           "READ_ONLY_METHODS", "Call", "is_write", "CAPABILITIES", "PROTOCOL_CAPABILITIES",
           "UndeterminedCIMError", "is_undetermined", "describe_args", "summarize"]


class TargetSetupError(Exception):
    """The target cannot be used at all (bad option, unreachable, bad MOF)."""


#: extrinsic methods that only read (DSP1033 1.1's GetCentralInstances returns the
#: central instances): InvokeMethod of one of these is not a write
READ_ONLY_METHODS = frozenset({"getcentralinstances"})


def is_write(operation, args=()) -> bool:
    """Whether an operation may change the target (never sent unless allowed)."""
    if operation == "InvokeMethod" and args and str(args[0]).lower() in READ_ONLY_METHODS:
        return False
    return operation in WRITE_OPERATIONS


WRITE_OPERATIONS = frozenset({
    "CreateInstance", "ModifyInstance", "DeleteInstance", "CreateClass",
    "ModifyClass", "DeleteClass", "SetQualifier", "DeleteQualifier", "InvokeMethod"})

_TRANSPORT_ERRORS = (pywbem.ConnectionError, pywbem.AuthError, pywbem.HTTPError,
                     pywbem.TimeoutError, pywbem.ParseError, pywbem.VersionError,
                     pywbem.HeaderParseError, pywbem.CIMXMLParseError, pywbem.XMLParseError)


class ServerError(Exception):
    """The server misbehaved at the transport level: not a conformance verdict."""

    def __init__(self, target, operation, exc, secrets: Secrets | None = None):
        self.target = target
        self.operation = operation
        self.kind = type(exc).__name__
        text = f"{target}: {operation} failed: {self.kind}: {exc}"
        super().__init__(secrets.scrub(text) if secrets is not None else text)

    def add_hint(self, hint):
        """Say, after the failure, what the user may change."""
        self.args = (f"{self.args[0]} ({hint})",)


class UndeterminedCIMError(CIMError):
    """An error answer whose CIM status the server did not say (e.g. a
    WS-Management fault with a subcode and a reason but no ``CIMStatusCode``).

    Its ``status_code`` is CIM_ERR_FAILED only because a CIMError needs one:
    ``undetermined`` is True, and a verdict that hinges on WHICH status the
    server answered must not be taken from it (not-applicable instead). The
    description holds what the server did say (``subcode``, ``reason``)."""

    undetermined = True

    def __init__(self, description, *, subcode=None, reason=None, **kwargs):
        super().__init__(pywbem.CIM_ERR_FAILED, description, **kwargs)
        self.subcode = subcode
        self.reason = reason


def is_undetermined(exc) -> bool:
    """Whether an error answer's CIM status is unknown (see :class:`UndeterminedCIMError`)."""
    return bool(getattr(exc, "undetermined", False))


class WriteRefused(Exception):
    """A write operation was attempted against a target that does not allow writes."""


class Call:
    """One operation as issued: the evidence unit.

    ``args`` and ``summary`` may be given as zero-argument callables: they are
    then worked out on first use (most calls of a large run are never shown,
    and naming 50,000 paths costs more than the operations). Calls compare by
    identity: each is one operation as issued."""

    __slots__ = ("operation", "_args", "outcome", "_summary", "seconds", "requirement",
                 "status_code", "envelope")

    def __init__(self, operation, args, outcome, summary, seconds, requirement=None,
                 status_code=None):
        self.operation = operation
        self._args = args
        self.outcome = outcome  # "ok" | "cim-error" | "server-error" | "refused"
        self._summary = summary
        self.seconds = seconds
        self.requirement = requirement
        self.status_code = status_code
        #: the request a WS-Management target sent first for this operation
        #: (scrubbed text, bounded; None for other protocols): a report's curl line
        self.envelope = None

    @property
    def args(self) -> dict:
        if callable(self._args):
            self._args = self._args()
        return self._args

    @property
    def summary(self) -> str:
        if callable(self._summary):
            self._summary = self._summary()
        return self._summary

    def __repr__(self):
        return f"Call({self.operation}, {self.outcome})"


#: answers up to this long are summarised in a stable order; longer ones as the
#: server listed them (naming every object of a 10,000-object answer to sort
#: it would cost more than the operation)
SORTED_SUMMARY_UP_TO = 500


def _summary(value, limit=6):
    """What an answer was, in one line. A list is summarised in a stable
    order (servers return objects in any order; the evidence should not
    change from run to run for that)."""
    if value is None:
        return "nothing"
    if isinstance(value, list):
        if len(value) <= SORTED_SUMMARY_UP_TO:
            items = sorted(_summary(v) for v in value)[:limit]
        else:
            items = [_summary(v) for v in value[:limit]]
        more = f", ... ({len(value)} in all)" if len(value) > limit else ""
        return f"{len(value)} object(s): [" + ", ".join(items) + more + "]"
    if isinstance(value, pywbem.CIMInstance):
        return str(value.path) if value.path is not None else value.classname
    if isinstance(value, pywbem.CIMClass):
        return f"class {value.classname}"
    if hasattr(value, "paths") or hasattr(value, "instances"):
        return _summary(getattr(value, "paths", None) or getattr(value, "instances", None) or [])
    return str(value)


def summarize(value):
    """What an answer was, in one line (as an operation's evidence says it)."""
    return _summary(value)


def describe_args(args, kwargs):
    out = {}
    for i, a in enumerate(args):
        out[f"arg{i}"] = str(a)
    for k, v in kwargs.items():
        if v is not None:
            out[k] = str(v) if not isinstance(v, (bool, int, float)) else v
    return out


#: what a target can do beyond answering operations; checks ask for these,
#: never for "is it the mock"
CAPABILITIES = {
    "writes": "write operations may be sent to it",
    "class-definitions": "it accepts class definitions from us (CreateClass probes)",
    "load-findings": "it reports conformance problems found while loading its MOF",
    "scratch-instances": "instances may be created and deleted freely (a throwaway target)",
    "pull-operations": "it has the pull operations (Open*/Pull*/CloseEnumeration, DSP0200 1.3)",
    "class-retrieval": "GetClass answers with the class declaration",
    "class-enumeration": "EnumerateClassNames/EnumerateClasses list the classes",
    "exact-fault-codes": "every error answer carries its CIM status code (never guessed)",
}

#: what a protocol with every CIM operation gives (CIM-XML, the mock); a
#: WS-Management target declares the ones it has
PROTOCOL_CAPABILITIES = frozenset({"pull-operations", "class-retrieval", "class-enumeration",
                                   "exact-fault-codes"})


class Target:
    """A connection plus the rules every call obeys (see module docstring)."""

    #: the protocol its opener speaks ("CIM-XML", "WS-Management", "embedded
    #: mock"), and the authentication scheme ("basic", "ntlm", ... or "none"):
    #: set by the opener, shown in the terminal, the JSON and the HTML (never a secret)
    protocol = None
    auth = None

    def __init__(self, conn, description, *, capabilities=(), options=None,
                 tls_description="tls: unknown", transport=None, workers=1,
                 connect_more=None, load_failures=(), load_warnings=()):
        """``capabilities``: what the opener declares the target can do (names of
        :data:`CAPABILITIES`); ``transport``: bounds each operation as a whole
        (``transport.run(operation, fn, *args, **kwargs)``), or None;
        ``connect_more()``: another ``(conn, transport)`` pair for the workers of
        :meth:`call_many` (None: one operation at a time, ``workers`` ignored)."""
        unknown = set(capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"unknown target capabilities {sorted(unknown)}")
        self.conn = conn
        self.description = description
        #: the URL target's transport (bounds every operation as a whole), or None
        self.transport = transport
        #: one line: which certificate verification the target uses
        self.tls_description = tls_description
        self.capabilities = frozenset(capabilities)
        self.load_failures = list(load_failures)  # problems found while loading (a mock)
        self.load_warnings = list(load_warnings)  # what loaded but looks wrong (a mock)
        self.options = options or TargetOptions()
        #: the passwords this target was given: every text it records is scrubbed
        #: of them (a server may echo the credentials it received)
        self.secrets = Secrets.from_options(self.options)
        self.calls: list[Call] = []
        self.current_requirement = None
        #: the first transport failure: after it, no operation is sent any more
        #: (every check that still needs the server ends at once, as an error)
        self.failure: ServerError | None = None
        #: how many operations call_many may have under way at once (separate
        #: connections); 1 unless the opener can open more connections
        self.workers = max(1, int(workers or 1)) if connect_more is not None else 1
        self._connect_more = connect_more
        self._pool = None
        #: called with the operation's name before anything is sent; a
        #: ServerError it raises (e.g. the run budget is spent) ends the target
        self.before_call = None
        #: a host the target's object paths carry that names no server (the
        #: embedded mock's ``FakedUrl:5988``): text shows those paths without it
        self.placeholder_host = None
        #: called as ``observer(event, detail)``: ("call", the Call) after each
        #: operation is recorded, ("phase", (name, result or None)) as discovery
        #: starts and ends a phase -- a front end's progress display; an
        #: observer must not raise
        self.observers: list = []

    def __str__(self):
        return self.description

    def can(self, capability) -> bool:
        """Whether the target has a capability (see CAPABILITIES)."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown target capability {capability!r}")
        return capability in self.capabilities

    def __repr__(self):
        return f"<Target {self.description} ({self.tls_description})>"

    def _refuse(self, operation, desc, args=()):
        """The Call and exception for an operation that must not be sent, or None."""
        if is_write(operation, args) and "writes" not in self.capabilities:
            return (Call(operation, desc, "refused", "not sent: writes not allowed", 0.0,
                         self.current_requirement),
                    WriteRefused(f"{operation} not sent to {self}: writes are not allowed "
                                 "(use --wbem-allow-writes)"))
        if self.failure is not None:
            return (Call(operation, desc, "server-error", "not sent: the server failed earlier",
                         0.0, self.current_requirement), self.failure)
        if self.before_call is not None:
            try:
                self.before_call(operation)
            except ServerError as exc:
                return (Call(operation, desc, "server-error", f"not sent: {exc}", 0.0,
                             self.current_requirement), exc)
        return None

    def _issue(self, operation, args, kwargs, desc, conn, transport, requirement):
        """Send one operation over ``conn``: (Call, result, exception). Touches
        nothing shared, so workers can run it side by side."""
        start = time.perf_counter()
        try:
            if transport is not None:  # bounded as a whole (connect .. parse)
                result = transport.run(operation, getattr(conn, operation), *args, **kwargs)
            else:
                result = getattr(conn, operation)(*args, **kwargs)
        except CIMError as exc:
            answer = _without_secrets(exc, self.secrets)
            del exc  # a traceback's locals must not show what a server echoed
            return (Call(operation, desc, "cim-error",
                         f"{answer.status_code_name}: {answer.status_description}",
                         time.perf_counter() - start, requirement, answer.status_code),
                    None, answer)
        except _TRANSPORT_ERRORS as exc:
            summary = self.secrets.scrub(f"{type(exc).__name__}: {exc}")
            failure = ServerError(self.description, operation, exc, self.secrets)
            del exc
            return (Call(operation, desc, "server-error", summary,
                         time.perf_counter() - start, requirement), None, failure)
        secrets = self.secrets
        return (Call(operation, desc, "ok", lambda: secrets.scrub(_summary(result)),
                     time.perf_counter() - start, requirement), result, None)

    def _notify(self, event, detail):
        for observer in self.observers:
            observer(event, detail)

    def phase(self, name, result=None):
        """Discovery starts (``result`` None) or ends a phase: observers are told."""
        self._notify("phase", (name, result))

    def _append(self, call):
        self.calls.append(call)
        if self.observers:
            self._notify("call", call)

    def _record(self, call, result, error):
        self._append(call)
        if isinstance(error, ServerError) and call.outcome == "server-error" and \
                not call.summary.startswith("not sent"):
            self.failure = error
        if error is not None:
            raise error
        return result

    def call(self, operation, *args, **kwargs):
        """Issue one operation. Returns its result; raises CIMError (an
        answer), ServerError (transport) or WriteRefused."""
        interrupts.checkpoint()  # a Ctrl-C or SIGTERM asked the run to end
        desc = functools.partial(describe_args, args, kwargs)
        refused = self._refuse(operation, desc, args)
        if refused is not None:
            call, error = refused
            if isinstance(error, ServerError) and self.failure is None:
                self.failure = error  # e.g. the run budget is spent
            self._append(call)
            raise error
        call, result, error = self._issue(operation, args, kwargs, desc, self.conn,
                                          self.transport, self.current_requirement)
        return self._record(call, result, error)

    def call_many(self, requests):
        """Issue independent read operations, ``[(operation, args, kwargs)]``;
        returns ``[(result, exception)]`` in request order.

        With ``workers`` > 1 (a URL target) they go out concurrently over
        separate connections; the calls are still logged in request order,
        and everything after the first transport failure (in request order)
        counts as not sent -- the same log and the same answers as issuing
        them one after the other with :meth:`call`."""
        out = []
        if self.workers <= 1 or len(requests) < 2 or self.failure is not None:
            for op, args, kwargs in requests:
                try:
                    out.append((self.call(op, *args, **kwargs), None))
                except (CIMError, ServerError, WriteRefused) as exc:
                    out.append((None, exc))
            return out
        if any(is_write(op, args) for op, args, _ in requests):
            raise ValueError("call_many issues reads only")
        pool = self._worker_connections()
        slots = queue.SimpleQueue()
        for pair in pool:
            slots.put(pair)
        requirement = self.current_requirement

        def work(item):
            op, args, kwargs = item
            conn, transport = slots.get()
            try:
                call, result, error = self._issue(op, args, kwargs,
                                                  functools.partial(describe_args, args, kwargs),
                                                  conn, transport, requirement)
            finally:
                slots.put((conn, transport))
            if isinstance(error, ServerError):
                error.add_hint(f"sent with up to {len(pool)} operations under way at once, "
                               f"--wbem-workers {self.workers}: a server that stops answering "
                               "concurrent requests needs fewer")
            return call, result, error

        with ThreadPoolExecutor(max_workers=len(pool),
                                thread_name_prefix="wbemconform-worker") as ex:
            with interrupts.interruptible():  # the main thread only waits
                issued = list(ex.map(work, requests))
        for (op, args, kwargs), (call, result, error) in zip(requests, issued):
            refused = self._refuse(op, call.args, args)
            if refused is not None:  # after a failure, or the run budget spent
                call, error = refused
                result = None
                if isinstance(error, ServerError) and self.failure is None:
                    self.failure = error
                self._append(call)
                out.append((None, error))
                continue
            try:
                out.append((self._record(call, result, error), None))
            except (CIMError, ServerError) as exc:
                out.append((None, exc))
        return out

    def _worker_connections(self):
        """The connections the workers use (made once, each with its own
        bounded transport): the target's own, and ``workers - 1`` more."""
        if self._pool is None:
            self._pool = [(self.conn, self.transport)]
            for _ in range(self.workers - 1):
                self._pool.append(self._connect_more())
        return self._pool


def _without_secrets(exc: CIMError, secrets: Secrets) -> CIMError:
    """``exc``, or a copy whose description no longer holds one of
    ``secrets`` (a server may echo the credentials it received)."""
    description = exc.status_description
    clean = secrets.scrub(description)
    if clean == description:
        return exc
    if isinstance(exc, UndeterminedCIMError):
        return UndeterminedCIMError(clean, subcode=exc.subcode,
                                    reason=secrets.scrub(exc.reason or "") or None,
                                    instances=exc.instances, conn_id=exc.conn_id,
                                    request_data=exc.request_data)
    return CIMError(exc.status_code, clean, instances=exc.instances, conn_id=exc.conn_id,
                    request_data=exc.request_data)


