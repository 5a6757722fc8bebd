"""Targets: what the suites run against, and the ONE place that picks how to open one.

Layout (no module here imports an opener but this one):

* :mod:`.base` -- :class:`Target` (one ``call`` for every operation: logged,
  bounded, classified, writes refused unless declared), its errors, the
  write/read operation sets, :class:`Call` and :data:`CAPABILITIES`;
* openers, one module per way of reaching a target: :mod:`.wsman` (a
  ``/wsman`` ``--wbem-url`` or ``--wbem-protocol wsman``: WS-Management, its
  client in :mod:`.wsman_conn`, :mod:`.wsman_http`, :mod:`.wsman_auth`),
  :mod:`.cimxml` (any other ``--wbem-url``, CIM-XML over HTTP(S)) and
  :mod:`.mock` (the embedded mock);
* what the URL openers share: :mod:`.urls` (a ``--wbem-url`` taken apart),
  :mod:`.transport` (a deadline per operation, the TLS choice, the answer
  size limit, no redirects) and :mod:`.pywbem_adapter` (the transport's
  only private uses of pywbem and requests).

The options themselves, and the checks every target's options pass, are
:mod:`wbemconform.options`.

An opener module has:

``NAME``               what it opens, for messages;
``claims(options)``    whether the options name its kind of target;
``validate(options)``  its option rules (:class:`TargetSetupError`, one line,
                       nothing read from the network);
``open(options)``      a :class:`Target`, built with the capabilities it
                       DECLARES (``capabilities=``), its ``tls_description``,
                       its ``transport`` and, for concurrent reads,
                       ``workers``/``connect_more``.

**A second protocol** (e.g. WS-Management) is one more opener module,
``targets/wsman.py`` with those four names: its ``claims`` picks its
targets (a ``wsman``/``/wsman`` URL, or a protocol option) -- put it in
:data:`OPENERS` before :mod:`.cimxml`, whose ``claims`` then leaves those
URLs alone; its client may post through :class:`.transport.Transport` (the
same deadline, TLS choice and size limit) and must answer with pywbem's CIM
objects and raise pywbem's error classes, as :meth:`Target.call` expects.
Any option of its own is a row of :data:`wbemconform.options.TABLE`.
Nothing else changes: the checks ask ``target.can(capability)``, never
which opener made the target.
"""

from __future__ import annotations

from ..options import (DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_WORKERS, OptionError, Secret,
                       TargetOptions, check_common, redact_url)
from . import cimxml, mock, wsman
from .base import (CAPABILITIES, PROTOCOL_CAPABILITIES, READ_ONLY_METHODS, WRITE_OPERATIONS, Call,
                   ServerError, Target, TargetSetupError, UndeterminedCIMError, WriteRefused,
                   is_undetermined, is_write)

__all__ = ["open_target", "validate_options", "opener_for", "OPENERS",
           "Target", "ServerError", "WriteRefused", "TargetSetupError", "Call",
           "CAPABILITIES", "PROTOCOL_CAPABILITIES", "UndeterminedCIMError", "is_undetermined",
           "WRITE_OPERATIONS", "READ_ONLY_METHODS", "is_write",
           "TargetOptions", "Secret", "redact_url", "DEFAULT_MAX_RESPONSE_BYTES",
           "DEFAULT_WORKERS"]

#: the openers, asked in this order: the first that claims the options opens them
OPENERS = (wsman, cimxml, mock)


def opener_for(options):
    """The opener module whose ``claims(options)`` is true (the first of :data:`OPENERS`)."""
    for opener in OPENERS:
        if opener.claims(options):
            return opener
    raise TargetSetupError("no kind of target fits these options")  # pragma: no cover


def validate_options(options) -> None:
    """Raise :class:`TargetSetupError` (one line naming the option and what is
    wrong) when the ``--wbem-*`` options cannot work: the common checks, then
    the opener's rules. Reads nothing from the network; call it before
    anything else happens."""
    try:
        check_common(options)
    except OptionError as exc:
        raise TargetSetupError(str(exc)) from None
    opener_for(options).validate(options)


def open_target(options: TargetOptions) -> Target:
    """Connect to the target the options name; TargetSetupError on bad input."""
    validate_options(options)
    return opener_for(options).open(options)
