"""Secrets a run was given, and the one function that removes them from text.

Every text the suite writes -- messages, problems, evidence, the operation
log, JUnit properties, JSON, HTML, the terminal -- goes through
:meth:`Secrets.scrub`. A server that echoes credentials back (in a CIM error
description, a profile name, an HTTP error body) therefore cannot make the
suite publish them.
"""

from __future__ import annotations

import base64
import os
from urllib.parse import quote, unquote, urlsplit

__all__ = ["Secrets", "MASK"]

MASK = "********"


class Secrets:
    """A set of secret strings; :meth:`scrub` masks each wherever it appears,
    also in the encodings a server or a library might echo it in (URL
    quoting, HTTP Basic's base64 of ``user:password``)."""

    def __init__(self, values=(), user=None):
        self._values: set[str] = set()
        self._user = user
        for v in values:
            self.add(v)

    @classmethod
    def from_options(cls, options):
        """The secrets of a set of target options: the password (option,
        ``WBEM_PASSWORD``, or the URL's), and the URL's user:password part."""
        url = getattr(options, "url", None)
        parts = None
        if url:
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018 -- a malformed URL names no secret we can take apart
            except ValueError:
                parts = None
        user = getattr(options, "user", None) or (unquote(parts.username)
                                                  if parts and parts.username else None)
        out = cls(user=user)  # the user first: the encoded user:password form needs it
        out.add(getattr(options, "password", None))
        out.add(os.environ.get("WBEM_PASSWORD"))
        if parts is not None and parts.password:
            out.add(unquote(parts.password))
        return out

    def add(self, value):
        if value is None:
            return
        value = getattr(value, "reveal", lambda: value)()
        value = str(value)
        if not value:
            return
        self._values.add(value)
        self._values.add(quote(value, safe=""))
        if self._user is not None:
            pair = f"{self._user}:{value}".encode("utf-8")
            self._values.add(base64.b64encode(pair).decode("ascii"))

    def __bool__(self):
        return bool(self._values)

    def __repr__(self):
        return f"Secrets({len(self._values)} value(s))"

    def scrub(self, text):
        """``text`` with every secret masked (non-strings are returned as they are)."""
        if not isinstance(text, str) or not self._values:
            return text
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

