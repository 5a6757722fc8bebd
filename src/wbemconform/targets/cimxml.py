"""URL targets over CIM-XML (``--wbem-url http[s]://HOST[:PORT]``): their
option rules and their opener.

:func:`validate` is the URL target's part of
:func:`wbemconform.targets.validate_options` (after
:func:`wbemconform.options.check_common`); :func:`open` connects. Each
operation goes through a pywbem ``WBEMConnection`` whose requests all pass
through a bounded :class:`~.transport.Transport` (:func:`connect`), and
pywbem's quadratic text handling is replaced by a linear one that also stops
at the transport's deadline (:mod:`.pywbem_adapter`).

Declared capabilities: the protocol's own (``pull-operations``,
``class-retrieval``, ``class-enumeration``, ``exact-fault-codes``: CIM-XML
has every CIM operation and every error carries its status), and ``writes``
with ``--wbem-allow-writes``.
"""

from __future__ import annotations

import os
import re

import pywbem

from ..options import (DEFAULT_MAX_RESPONSE_BYTES, Secret, given, parse_byte_size, redact_url)
from . import pywbem_adapter
from .base import PROTOCOL_CAPABILITIES, Target, TargetSetupError
from .transport import Transport, check_deadline, password_of, tls_choice, tls_problem
from .urls import Url, parse_url

__all__ = ["NAME", "claims", "validate", "open", "connect"]

NAME = "CIM-XML"


def claims(options) -> bool:
    """Whether these options name a CIM-XML target (a ``--wbem-url``; the
    WS-Management opener, asked first, takes ``/wsman`` URLs)."""
    return bool(options.url) and getattr(options, "protocol", "auto") != "wsman"


_HOST_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*\.?$")


def _url_problem(u: Url) -> str | None:
    """Why ``u`` cannot be a ``--wbem-url``, in a few words (None: it can)."""
    expected = "expected http://HOST[:PORT] or https://HOST[:PORT]"
    if u.credentials_problem:
        return u.credentials_problem
    if u.error:
        return f"{u.error}; {expected}"
    if u.scheme not in ("http", "https") or not u.host:
        return expected
    if ":" not in u.host and not _HOST_NAME.match(u.host):  # urlsplit checks [IPv6]
        return f"the host {u.host!r} is not a valid host name"
    if u.port_text:
        if not u.port_text.isdigit() or not u.port_text.isascii():
            return f"the port {u.port_text!r} is not a number"
        if not 0 < int(u.port_text) < 65536:
            return f"the port {u.port_text} is not between 1 and 65535"
    if u.path not in ("", "/", "/cimom") or u.extra:
        return ("a path, query or fragment cannot be used: requests always go to /cimom "
                "(give http[s]://HOST[:PORT])")
    return None


def _is_utf8(value) -> bool:
    """Whether a user name or password (a str or a Secret) can be sent."""
    if value is None:
        return True
    text = value.reveal() if isinstance(value, Secret) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(options) -> None:
    """Raise :class:`TargetSetupError` (one line naming the option and what is
    wrong) when a URL target's options cannot work. Reads nothing from the
    network."""
    u = parse_url(options.url)
    problem = _url_problem(u)
    if problem:
        raise TargetSetupError(f"--wbem-url {u.shown!r}: {problem}")
    mock_only = given(options, "mock")
    if mock_only:
        raise TargetSetupError(f"{', '.join(mock_only)}: only used with the embedded mock, "
                               f"and --wbem-url {u.shown} is given")
    wsman_only = given(options, "wsman")
    if wsman_only:
        raise TargetSetupError(f"{', '.join(wsman_only)}: only used with a WS-Management "
                               f"target, and --wbem-url {u.shown} is spoken to in CIM-XML")
    for name, value in (("--wbem-user", options.user), ("the user name in --wbem-url", u.user),
                        ("--wbem-password", options.password),
                        ("$WBEM_PASSWORD", os.environ.get("WBEM_PASSWORD")
                         if options.password is None else None),
                        ("the password in --wbem-url", u.password)):
        if not _is_utf8(value):
            raise TargetSetupError(f"{name}: not valid UTF-8 text (HTTP Basic sends it as "
                                   "UTF-8); the value is not shown")
    if options.password is not None and not (options.user or u.user):
        raise TargetSetupError("--wbem-password: given without --wbem-user (and the URL names "
                               "no user)")
    problem = tls_problem(options)
    if problem:
        raise TargetSetupError(problem)


def connect(options) -> tuple[pywbem.WBEMConnection, Transport]:
    """A pywbem connection for ``options.url`` whose every request goes through
    a :class:`Transport`; call :func:`validate` first."""
    u = parse_url(options.url)
    user = options.user or u.user
    password = password_of(options, u)
    transport = Transport(
        url=u.base, timeout=options.timeout,
        max_response_bytes=parse_byte_size(getattr(options, "max_response_bytes",
                                                   DEFAULT_MAX_RESPONSE_BYTES)),
        tls=tls_choice(options), user=user, password=password)
    conn = pywbem.WBEMConnection(
        u.base, None, default_namespace=options.interop_namespace or "root/interop",
        no_verification=options.no_verify, ca_certs=options.ca_certs or None,
        timeout=options.timeout)
    pywbem_adapter.install_session(conn, transport.session)
    pywbem_adapter.install_linear_text_handler(check_deadline)
    return conn, transport


def open(options) -> Target:  # every opener's entry point is open()
    """A Target for ``options.url`` over a bounded transport; no password is
    kept in a plain local here."""
    validate(options)
    conn, transport = connect(options)
    target = Target(conn, redact_url(options.url), options=options, transport=transport,
                    tls_description=transport.tls.description,
                    capabilities=PROTOCOL_CAPABILITIES | ({"writes"} if options.allow_writes
                                                          else set()),
                    workers=getattr(options, "workers", 1),
                    connect_more=lambda: connect(options))
    target.protocol = NAME
    target.auth = "basic" if transport.auth is not None else "none"  # Basic only
    return target
