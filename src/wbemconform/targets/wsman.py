"""URL targets over WS-Management (WinRM, OMI, management controllers): their
option rules and their opener.

Claimed: a ``--wbem-url`` whose path is ``/wsman`` (``--wbem-protocol auto``,
the default), or any ``--wbem-url`` with ``--wbem-protocol wsman``. The
client is :class:`.wsman_conn.WsmanConnection` (pywbem's operation methods,
answered with pywbem's objects), posting through a
:class:`.transport.Transport` -- the same deadline per operation, TLS
choice, answer size limit, refusal of redirects and secret handling as
CIM-XML -- by :class:`.wsman_http.Poster`.

Options of its own: ``--wbem-auth`` (``basic``, the default, is refused over
plain HTTP to any host but a loopback one, since it sends the password in
clear; ``ntlm``, ``negotiate``, ``kerberos`` and ``credssp`` go through
pyspnego, :mod:`.wsman_auth`, and seal every message over HTTP) and
``--wbem-resource-uri PREFIX=URI-base`` (the codec's user rules; classes
without a rule are addressed as Microsoft's MI clients do: DMTF classes by
DMTF's URI, others by ``http://schemas.microsoft.com/wbem/wscim/1/
cim-schema/2/<class>`` with a ``__cimnamespace`` selector, which WinRM and
OMI both take).

Declared capabilities: ``class-retrieval`` when the server answers the class
Get (probed once, at open); ``writes`` with ``--wbem-allow-writes`` (the
instance writes go as WS-Transfer Create, Put and Delete, :mod:`.wsman_writes`;
without it no write is ever sent). Never ``pull-operations``,
``class-enumeration`` or ``exact-fault-codes`` (WS-Management has none of
them: a fault may carry no CIM status).
"""

from __future__ import annotations

import ipaddress

import pywbem

from ..options import DEFAULT_MAX_RESPONSE_BYTES, given, parse_byte_size, redact_url
from ..secrets import Secrets
from ..wsman.resource_uri import ResourceUriMap, parse_rule
from .base import Target, TargetSetupError
from .transport import Transport, password_of, tls_choice, tls_problem
from .urls import parse_url
from .wsman_auth import SpnegoAuth
from .wsman_conn import WsmanConnection
from .wsman_http import Poster

__all__ = ["NAME", "claims", "validate", "open", "connect"]

NAME = "WS-Management"
WSMAN_PATH = "/wsman"


def claims(options) -> bool:
    """Whether these options name a WS-Management target."""
    if not options.url:
        return False
    protocol = getattr(options, "protocol", "auto")
    if protocol != "auto":
        return protocol == "wsman"
    return parse_url(options.url).path.rstrip("/").lower() == WSMAN_PATH


def _is_loopback(host) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate(options) -> None:
    """TargetSetupError (one line naming the option) when a WS-Management
    target's options cannot work. Reads nothing from the network."""
    u = parse_url(options.url)
    if u.credentials_problem:
        raise TargetSetupError(f"--wbem-url {u.shown!r}: {u.credentials_problem}")
    if u.error or u.scheme not in ("http", "https") or not u.host:
        raise TargetSetupError(f"--wbem-url {u.shown!r}: expected "
                               "http[s]://HOST[:PORT]/wsman")
    if u.port_text and not (u.port_text.isascii() and u.port_text.isdigit()
                            and 0 < int(u.port_text) < 65536):
        raise TargetSetupError(f"--wbem-url {u.shown!r}: the port {u.port_text!r} is not a "
                               "number between 1 and 65535")
    if u.extra:
        raise TargetSetupError(f"--wbem-url {u.shown!r}: a query or fragment cannot be used")
    mock_only = given(options, "mock")
    if mock_only:
        raise TargetSetupError(f"{', '.join(mock_only)}: only used with the embedded mock, "
                               f"and --wbem-url {u.shown} is given")
    for rule in getattr(options, "resource_uris", None) or ():
        try:
            parse_rule(rule)
        except ValueError as exc:
            raise TargetSetupError(f"--wbem-resource-uri {rule!r}: {exc}") from None
    user = options.user or u.user
    auth = getattr(options, "auth", "basic")
    if options.password is not None and not user:
        raise TargetSetupError("--wbem-password: given without --wbem-user (and the URL names "
                               "no user)")
    if auth == "basic" and user and u.scheme == "http" and not _is_loopback(u.host):
        raise TargetSetupError(
            f"--wbem-auth basic over http://{u.host}: Basic sends the password in clear; "
            "use https://, or --wbem-auth ntlm|negotiate|kerberos|credssp (encrypted "
            "messages over HTTP)")
    if auth != "basic" and not user and auth not in ("kerberos", "negotiate"):
        raise TargetSetupError(f"--wbem-auth {auth}: needs --wbem-user")
    problem = tls_problem(options)
    if problem:
        raise TargetSetupError(problem)


def connect(options, *, probe=True) -> tuple[WsmanConnection, Transport]:
    """A WS-Management connection for ``options.url`` over a bounded transport;
    call :func:`validate` first. ``probe``: ask once whether the server
    offers class retrieval (the answer is kept on the connection)."""
    u = parse_url(options.url)
    user = options.user or u.user
    password = password_of(options, u)
    auth = getattr(options, "auth", "basic")
    transport = Transport(
        url=u.base, timeout=options.timeout,
        max_response_bytes=parse_byte_size(getattr(options, "max_response_bytes",
                                                   DEFAULT_MAX_RESPONSE_BYTES)),
        tls=tls_choice(options), user=user if auth == "basic" else None,
        password=password if auth == "basic" else None)
    spnego = None
    if auth != "basic":
        spnego = SpnegoAuth(auth, user, password, u.host, encrypt=u.scheme == "http")
    path = u.path if u.path not in ("", "/") else WSMAN_PATH
    poster = Poster(u.base + path, transport, spnego)
    conn = WsmanConnection(
        poster, ResourceUriMap(getattr(options, "resource_uris", None) or (), style="omi"),
        default_namespace=options.interop_namespace or "root/interop",
        max_response_bytes=transport.max_response_bytes, operation_timeout=options.timeout)
    if probe:
        try:
            transport.run("GetClass", conn.probe_classes)
        except pywbem.Error as exc:
            text = f"{redact_url(options.url)}: the first request (a class Get) failed: " \
                   f"{type(exc).__name__}: {exc}"
            del exc
            raise TargetSetupError(" ".join(Secrets.from_options(options).scrub(text)
                                            .split())) from None
    return conn, transport


def open(options) -> Target:  # every opener's entry point is open()
    """A Target for ``options.url`` over WS-Management."""
    validate(options)
    conn, transport = connect(options)
    capabilities = set()
    if conn.class_retrieval:
        capabilities.add("class-retrieval")
    if getattr(options, "allow_writes", False):  # WS-Transfer Create/Put/Delete
        capabilities.add("writes")
    retrieval = conn.class_retrieval

    def more():
        extra, extra_transport = connect(options, probe=False)
        extra.class_retrieval = retrieval
        return extra, extra_transport
    auth = getattr(options, "auth", "basic")
    target = _WsmanTarget(conn, f"{redact_url(options.url)} (WS-Management, {auth})",
                          options=options, transport=transport,
                          tls_description=transport.tls.description,
                          capabilities=capabilities,
                          workers=getattr(options, "workers", 1), connect_more=more)
    target.protocol = NAME
    target.auth = auth if auth != "basic" or transport.auth is not None else "none"
    return target


#: bytes of an operation's first request envelope that its evidence keeps
KEPT_ENVELOPE_BYTES = 16384


class _WsmanTarget(Target):
    """A Target whose every Call keeps the request envelope its operation
    sent first (scrubbed, bounded): a report re-sends it with curl."""

    def _issue(self, operation, args, kwargs, desc, conn, transport, requirement):
        conn.take_envelope()  # what an earlier request (the class probe) left
        call, result, error = super()._issue(operation, args, kwargs, desc, conn, transport,
                                             requirement)
        body = conn.take_envelope()
        if body is not None:
            text = body[:KEPT_ENVELOPE_BYTES].decode("utf-8", "replace")
            if len(body) > KEPT_ENVELOPE_BYTES:
                text += f"\n<!-- cut: {len(body) - KEPT_ENVELOPE_BYTES} more bytes -->"
            call.envelope = self.secrets.scrub(text)
        return call, result, error
