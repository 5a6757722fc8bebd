"""Who may talk to the served mock.

With a user set, every request needs HTTP Basic authentication
(:class:`BasicAuth`, the user and password compared in constant time);
otherwise the answer is 401 with ``WWW-Authenticate: Basic
realm="wbemconform"``. :func:`wbemconform.server.serve` refuses to listen on
an address that is not loopback (:func:`is_loopback`) without
authentication, unless told ``allow_unauthenticated_remote=True``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import socket

from .common import HttpError

#: The realm named in ``WWW-Authenticate``.
REALM = "wbemconform"


def challenge():
    """The headers of a 401 answer: ``WWW-Authenticate`` naming :data:`REALM`."""
    return [("WWW-Authenticate", f'Basic realm="{REALM}"')]


class BasicAuth:
    """HTTP Basic authentication of a WSGI request against one user and
    password (``user=None``: none required, every request passes).

    A user without a non-empty password (or a password without a user, or an
    empty user name) is a ValueError.
    """

    def __init__(self, user=None, password=None):
        if user is not None and not str(user):
            raise ValueError("the user name is empty")
        if user is not None and password is None:
            raise ValueError("a password is required when a user is set")
        if user is not None and not str(password):
            raise ValueError("the password is empty: an empty password is not accepted")
        if user is None and password is not None:
            raise ValueError("a password is given without a user: authentication needs both")
        self._user = None if user is None else str(user).encode("utf-8")
        self._password = None if password is None else str(password).encode("utf-8")

    @property
    def required(self):
        """Whether requests must authenticate."""
        return self._user is not None

    def check(self, environ):
        """Nothing if the request (a WSGI environ) may pass; HttpError 401 with
        the challenge otherwise."""
        if self._user is None:
            return
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        ok = False
        if scheme.lower() == "basic" and token:
            try:
                decoded = base64.b64decode(token.strip(), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            user, sep, password = decoded.partition(b":")
            if sep:
                # both compared, always: no early exit on a wrong user
                ok_user = hmac.compare_digest(user, self._user)
                ok_password = hmac.compare_digest(password, self._password)
                ok = ok_user and ok_password
        if not ok:
            raise HttpError(401, None, "authentication required", challenge())


def is_loopback(host):
    """True if every address ``host`` names is a loopback one; None if it
    cannot be resolved (binding it fails then, with its own error)."""
    if not host:
        return False  # all interfaces
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    try:
        return bool(infos) and all(
            ipaddress.ip_address(info[4][0].split("%", 1)[0]).is_loopback for info in infos)
    except ValueError:
        return False
