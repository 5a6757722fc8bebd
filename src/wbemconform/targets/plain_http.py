"""An https:// URL whose server speaks plain HTTP: how to tell, and the one
line that says so (the transport's errors; wbemconform.targets.transport).

Two ways it shows: the server answers the TLS ClientHello with an HTTP error
(OpenSSL's WRONG_VERSION_NUMBER), or it never answers it at all (OMI's
HTTP port waits for the end of request headers that never come) -- then the
operation times out in its handshake, and a plain-HTTP HEAD request, bounded,
tells a plain-HTTP server from a silent one."""

from __future__ import annotations

import socket
import time

import requests

from ..options import redact_url
from .urls import parse_url

__all__ = ["answers_plain_http", "plain_http_answer", "plain_http_message"]


def plain_http_answer(exc, url) -> str | None:
    """When a TLS handshake failed because the server answered plain HTTP
    (OpenSSL's WRONG_VERSION_NUMBER, or "http request" on the server's side):
    one line saying so and what to give instead; else None."""
    text = str(exc)
    if not isinstance(exc, requests.exceptions.SSLError) or not (
            "WRONG_VERSION_NUMBER" in text or "wrong version number" in text.lower() or
            "http request" in text.lower()):
        return None
    return plain_http_message(url, "answered plain HTTP to an https:// URL")


def plain_http_message(url, what) -> str:
    shown = redact_url(url)
    plain = "http://" + shown.split("://", 1)[-1]
    return f"the server at {shown} {what}; use {plain} (or the server's HTTPS port)"


_PROBE_BOUND = 2.0  # seconds the plain-HTTP probe of a silent TLS handshake may take
#: credentials of no one (empty user and password: no secret): OMI answers
#: nothing at all to a request without an Authorization header, 401 to this
_NO_ONE = b"Authorization: Basic Og==\r\n"


def answers_plain_http(url, bound=_PROBE_BOUND) -> bool:
    """Whether the server of the https:// ``url`` answers a plain-HTTP HEAD
    request (with the credentials of no one, never the user's) within
    ``bound`` seconds (connect, send, read), whatever its status: a server that
    never answered a TLS handshake (OMI's HTTP port waits for the end of
    the headers of a request that never comes) may be a plain-HTTP one."""
    parts = parse_url(url)
    end = time.monotonic() + bound
    try:
        name = f"[{parts.host}]" if ":" in parts.host else parts.host  # IPv6 in brackets
        host = name.encode("ascii") if ":" in name else name.encode("idna")
        port = int(parts.port_text or 443)
        with socket.create_connection((parts.host, port), timeout=bound) as sock:
            sock.sendall(b"HEAD / HTTP/1.1\r\nHost: " + host + b"\r\n" + _NO_ONE +
                         b"Connection: close\r\n\r\n")
            head = b""
            while len(head) < 5 and time.monotonic() < end:
                sock.settimeout(max(0.01, end - time.monotonic()))
                chunk = sock.recv(5 - len(head))
                if not chunk:
                    break
                head += chunk
    except (OSError, UnicodeError, ValueError):
        return False
    return head == b"HTTP/"
