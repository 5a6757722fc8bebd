"""The lowest layer of :mod:`wbemconform.observe`: asking the target once.

Every operation goes through :meth:`Operations.op`, which issues it at most
once -- the answer, CIM error included, is remembered -- and keeps the
:class:`~wbemconform.targets.base.Call` as evidence in an :class:`Outcome`.
:meth:`Operations.prefetch` issues several together (concurrently, on a URL
target with several workers) so that each later :meth:`~Operations.op` is
answered from memory; :meth:`Operations.pull` runs an Open*Paths sequence to
its end. :meth:`Operations.derived` remembers what the higher layers compute
from the answers.

What the target lacks is asked with :meth:`Operations.can` (its declared
capabilities, :data:`~wbemconform.targets.base.CAPABILITIES`): an operation
that needs a capability the target lacks (:data:`NEEDED_FOR`) is never sent
-- :meth:`~Operations.op` answers it with a CIM_ERR_NOT_SUPPORTED that says
so -- and the higher layers find out another way. A CIM error whose status
the target could not determine (``undetermined``: a WS-Management fault
without a CIM status) is :attr:`Outcome.undetermined`.

This module imports no other part of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pywbem import CIM_ERR_NOT_SUPPORTED, CIMError, CIMInstanceName

from ..paths import exact_key
from ..targets.base import (Call, ServerError, Target, describe_args, is_undetermined,
                            summarize)

__all__ = ["Outcome", "Operations", "PULL_OPERATIONS", "CLASS_RETRIEVAL", "CLASS_ENUMERATION",
           "EXACT_FAULT_CODES", "NEEDED_FOR", "has_capability", "is_undetermined"]

#: the capabilities CIM-XML has and WS-Management may lack (names of
#: wbemconform.targets.base.CAPABILITIES)
PULL_OPERATIONS = "pull-operations"
CLASS_RETRIEVAL = "class-retrieval"
CLASS_ENUMERATION = "class-enumeration"
EXACT_FAULT_CODES = "exact-fault-codes"
#: operation -> the capability it needs; never sent to a target that lacks it
NEEDED_FOR = {
    "GetClass": CLASS_RETRIEVAL, "EnumerateClasses": CLASS_ENUMERATION,
    "EnumerateClassNames": CLASS_ENUMERATION,
    **{op: PULL_OPERATIONS for op in (
        "OpenEnumerateInstancePaths", "OpenEnumerateInstances", "OpenAssociatorInstancePaths",
        "OpenAssociatorInstances", "OpenReferenceInstancePaths", "OpenReferenceInstances",
        "OpenQueryInstances", "PullInstancePaths", "PullInstancesWithPath", "PullInstances",
        "CloseEnumeration")},
}


def has_capability(target, name) -> bool:
    """Whether the target has a capability (it declares what it has)."""
    return target.can(name)


#: what the evidence of a whole pull sequence says after the paths it returned
SEQUENCE_NOTE = " (the whole pull sequence: the Open and its PullInstancePaths)"


def _sequence_call(calls, paths):
    """The evidence of a pull sequence that ended well: one Call for the whole
    sequence -- the Open* as issued, answering every path the sequence
    returned -- since how many PullInstancePaths it took, and what each
    carried, is the server's choice (DSP0200: an answer may carry fewer
    objects than MaxObjectCount) and changes from run to run on a server such
    as OpenPegasus. The operation log keeps every request as sent."""
    # one Call even where the Open* answered everything: whether it did is the
    # server's choice too, and the evidence must not say which
    first = calls[0]
    whole = Call(first.operation, first.args, "ok",
                 lambda: summarize(paths) + SEQUENCE_NOTE, sum(c.seconds for c in calls),
                 first.requirement)
    whole.envelope = first.envelope
    return whole


@dataclass
class Outcome:
    """An operation's answer: a value or a CIM error, with its evidence."""

    value: object = None
    error: CIMError | None = None
    call: Call | None = None
    calls: list = field(default_factory=list)  # every call behind it (pull sequences)

    @property
    def ok(self):
        return self.error is None

    @property
    def status(self):
        return self.error.status_code if self.error is not None else None

    @property
    def undetermined(self):
        """Whether the error's status could not be determined (see module docstring)."""
        return self.error is not None and is_undetermined(self.error)

    @property
    def error_name(self):
        return self.error.status_code_name if self.error is not None else None

    def __str__(self):
        if self.call:
            return self.call.summary
        return str(self.error) if self.error else str(self.value)


def _arg_key(value):
    """An operation argument in the key of its answer: a path exactly as
    written (paths.exact_key), anything else as text."""
    return exact_key(value) if type(value) is CIMInstanceName else str(value)


class Operations:
    """The operations of one target, each issued at most once.

    ``target`` is the :class:`~wbemconform.targets.base.Target` asked. A CIM error
    is an answer (an :class:`Outcome` whose ``error`` is set); a transport
    failure (:class:`~wbemconform.targets.base.ServerError`) raises, and raises
    again when the same operation is asked again."""

    def __init__(self, target: Target):
        self.target = target
        self._memo = {}  # operation key -> Outcome, or the ServerError it raised
        self._derived = {}  # key -> what a higher layer computed (see derived())

    @staticmethod
    def _key(operation, args, kwargs):
        return (operation, tuple(_arg_key(a) for a in args),
                tuple(sorted((k, _arg_key(v)) for k, v in kwargs.items() if v is not None)))

    def can(self, capability) -> bool:
        """Whether the target has a capability (:func:`has_capability`)."""
        return has_capability(self.target, capability)

    def _not_sent(self, operation, args, kwargs):
        """The Outcome of an operation the target lacks the capability for
        (nothing is sent), or None."""
        needed = NEEDED_FOR.get(operation)
        if needed is None or self.can(needed):
            return None
        text = f"not sent: the target lacks {needed}"
        call = Call(operation, describe_args(args, kwargs), "refused", text, 0.0,
                    self.target.current_requirement)
        return Outcome(error=CIMError(CIM_ERR_NOT_SUPPORTED, text), call=call, calls=[call])

    def prefetch(self, requests):
        """Issue together the operations ``[(operation, args, kwargs)]`` not
        asked yet -- concurrently, on a URL target with several workers -- so
        that each later :meth:`op` is answered from memory. The operation log
        and every answer are the same as asking one after the other."""
        if self.target.workers < 2:
            return  # one at a time anyway: each op() issues its own when asked
        todo, seen = [], set()
        for operation, args, kwargs in requests:
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            key = self._key(operation, args, kwargs)
            if key in self._memo or key in seen or \
                    self._not_sent(operation, args, kwargs) is not None:
                continue
            seen.add(key)
            todo.append((key, operation, args, kwargs))
        if len(todo) < 2:
            return
        answers = self.target.call_many([(op, args, kw) for _, op, args, kw in todo])
        first = len(self.target.calls) - len(todo)
        for i, ((key, *_), (result, error)) in enumerate(zip(todo, answers)):
            call = self.target.calls[first + i]
            if isinstance(error, ServerError):
                self._memo[key] = error
            elif isinstance(error, CIMError):
                self._memo[key] = Outcome(error=error, call=call, calls=[call])
            elif error is None:
                self._memo[key] = Outcome(value=result, call=call, calls=[call])

    def op(self, operation, *args, **kwargs) -> Outcome:
        """Issue an operation once; CIM errors are answers, transport errors raise."""
        key = self._key(operation, args, kwargs)
        if key in self._memo:
            hit = self._memo[key]
            if isinstance(hit, Exception):
                raise hit
            return hit
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        refused = self._not_sent(operation, args, kwargs)
        if refused is not None:
            self._memo[key] = refused
            return refused
        try:
            value = self.target.call(operation, *args, **kwargs)
            out = Outcome(value=value, call=self.target.calls[-1])
        except CIMError as exc:
            out = Outcome(error=exc, call=self.target.calls[-1])
        except ServerError as exc:
            self._memo[key] = exc
            raise
        out.calls = [out.call]
        self._memo[key] = out
        return out

    def pull(self, open_operation, *args, max_pulls=10000, **kwargs) -> Outcome:
        """An Open*Paths operation followed by PullInstancePaths to the end:
        Outcome whose value is every path, or the first CIM error; its
        ``calls`` are every call of the sequence."""
        key = ("pull", open_operation, tuple(str(a) for a in args),
               tuple(sorted((k, str(v)) for k, v in kwargs.items() if v is not None)))
        if key in self._memo:
            return self._memo[key]
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        refused = self._not_sent(open_operation, args, kwargs)
        if refused is not None:
            self._memo[key] = refused
            return refused
        kwargs.setdefault("MaxObjectCount", 1000)
        calls = []
        try:
            res = self.target.call(open_operation, *args, **kwargs)
            calls.append(self.target.calls[-1])
            paths = list(res.paths)
            pulls = 0
            while not res.eos:
                if pulls >= max_pulls or not res.context:
                    raise CIMError(0, f"{open_operation}: the enumeration did not end after "
                                      f"{pulls} pull(s)" if res.context else
                                   f"{open_operation}: not at the end, but no enumeration "
                                   "context to pull with")
                res = self.target.call("PullInstancePaths", res.context, MaxObjectCount=1000)
                calls.append(self.target.calls[-1])
                paths.extend(res.paths)
                pulls += 1
            whole = _sequence_call(calls, paths)
            out = Outcome(value=paths, call=whole, calls=[whole])
        except CIMError as exc:
            if self.target.calls and (not calls or self.target.calls[-1] is not calls[-1]):
                calls.append(self.target.calls[-1])
            out = Outcome(error=exc, call=calls[-1] if calls else None, calls=calls)
        self._memo[key] = out
        return out

    def derived(self, key, compute):
        """What ``compute()`` gives, computed once per ``key`` (a tuple whose
        first item names what is computed): the memo of what the higher
        layers derive from the answers."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]
