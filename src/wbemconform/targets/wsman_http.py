"""Posting WS-Management envelopes through the bounded transport.

:class:`Poster` sends one envelope through a :class:`.transport.Transport`'s
session (so the operation's deadline, the TLS choice, the answer size limit,
the refusal of redirects and the Basic ``Authorization`` header are the
transport's) and returns the answer's envelope bytes -- a fault's too: a
WS-Management server answers a fault with HTTP 400 or 500 and a SOAP body,
which the codec reads. Everything else is a transport failure, as pywbem's
error classes (``Target.call`` makes them a ``ServerError``):

* refused, reset, closed without an answer: ``pywbem.ConnectionError``;
* no answer in time: ``pywbem.TimeoutError`` (the transport's deadline);
* HTTP 401: ``pywbem.AuthError``; any other HTTP status without a SOAP
  envelope in its body: ``pywbem.HTTPError``.

Schemes other than Basic (:mod:`.wsman_auth`) authenticate first, on the
same connection, and seal each message over plain HTTP.
"""

from __future__ import annotations

import threading

import pywbem
import requests

__all__ = ["Poster", "SOAP_CONTENT_TYPE"]

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"


def _looks_like_envelope(body: bytes) -> bool:
    head = body.lstrip()[:2048]
    return head.startswith(b"<") and b"Envelope" in head


class Poster:
    """Posts envelopes to one URL through ``transport`` (see the module docstring)."""

    def __init__(self, url, transport, auth=None):
        self.url = url
        self.transport = transport
        self.auth = auth  # a wsman_auth.SpnegoAuth, or None (Basic or no credentials)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"Poster({self.url!r}, {self.auth!r})"

    def _send(self, body, headers, operation):
        try:
            return self.transport.session.post(self.url, data=body, headers=headers,
                                               allow_redirects=False,
                                               timeout=self.transport.timeout + 1.0)
        except pywbem.Error:
            raise
        except requests.Timeout:
            raise pywbem.TimeoutError(f"{operation}: no answer within "
                                      f"{self.transport.timeout:g} s (--wbem-timeout)") from None
        except requests.ConnectionError as exc:
            raise pywbem.ConnectionError(f"{operation}: {_why(exc)}") from None
        except requests.RequestException as exc:
            raise pywbem.ConnectionError(f"{operation}: {type(exc).__name__}: "
                                         f"{_why(exc)}") from None

    def post(self, body: bytes, operation: str) -> bytes:
        """The answer's envelope (bytes) to ``body``; pywbem errors otherwise."""
        if self.auth is None:
            resp = self._send(body, {"Content-Type": SOAP_CONTENT_TYPE}, operation)
            return self._answer(resp, resp.content, operation)
        with self._lock:  # one security context per connection: one message at a time
            for attempt in (1, 2):
                if not self.auth.complete:
                    self.auth.handshake(lambda b, h: self._send(b, h, operation), operation)
                data, ctype = self.auth.wrap(body)
                resp = self._send(data, {"Content-Type": ctype}, operation)
                if resp.status_code == 401 and attempt == 1:
                    self.auth.context = None  # e.g. a new connection: authenticate again
                    continue
                return self._answer(resp, self.auth.unwrap(resp, operation)
                                    if resp.status_code != 401 else b"", operation)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _answer(resp, content, operation):
        status = resp.status_code
        if status == 200:
            return content
        if status == 401:
            raise pywbem.AuthError(f"{operation}: the server refused the credentials "
                                   "(HTTP 401)")
        if status in (400, 500) and _looks_like_envelope(content):
            return content  # a fault: the codec reads it
        raise pywbem.HTTPError(status, f"{resp.reason or ''} (WS-Management {operation}; "
                                       f"{'an empty body' if not content else 'no SOAP fault'}"
                                       ")".strip())


def _why(exc) -> str:
    """One line for a requests connection failure, without the URL's internals."""
    text = str(exc)
    for known, said in (("RemoteDisconnected", "the server closed the connection without "
                                               "an answer"),
                        ("Connection refused", "connection refused"),
                        ("ConnectionResetError", "the connection was reset"),
                        ("Name or service not known", "the host name is unknown")):
        if known in text:
            return said
    return " ".join(text.split())[:300]

