"""Secrets a run was given, and the one function that removes them from text.

Every text the suite writes -- messages, problems, evidence, the operation
log, JUnit properties, JSON, HTML, the terminal -- goes through
:meth:`Secrets.scrub`. A server that echoes credentials back (in a CIM error
description, a profile name, an HTTP error body) therefore cannot make the
suite publish them, not even truncated, quoted, escaped or base64-encoded.

:func:`split_userinfo` is the one place that says where a URL's user name and
password are; the transport (:mod:`wbemconform.targets.transport`) parses
``--wbem-url`` with it, so the password the transport sends and the one
scrubbed here are always the same.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
from urllib.parse import quote, quote_plus, unquote

__all__ = ["MASK", "MAX_FRAGMENT", "MIN_DERIVED", "MIN_FRAGMENT", "Secrets", "fragment_length",
           "split_userinfo"]

MASK = "********"

#: a fragment of a password is masked on its own from this many characters
#: (words shorter than this are never masked, unless one is the whole password) ...
MIN_FRAGMENT = 6
#: ... and always from this many (however long the password)
MAX_FRAGMENT = 8
#: the shortest encoded piece (the middle of a base64 blob) that is masked
MIN_DERIVED = 6

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def split_userinfo(url: str) -> tuple[str, str | None, str]:
    """``(before, userinfo, after)`` of a URL as a user types it; never raises.

    The user-info is everything between ``scheme://`` (or the start, when
    there is no scheme) and the LAST ``@``: a password may hold ``#``, ``/``,
    ``?``, ``@``, ``:`` or ``[`` unencoded, as users type them. (A
    ``--wbem-url`` has no path, query or fragment but ``/cimom``, so an ``@``
    after the host is no URL we accept anyway.) ``userinfo`` is None when
    there is no ``@``; ``before + after`` is the URL without it (and without
    its ``@``)."""
    head, sep, rest = url.partition("://")
    if not sep or not _SCHEME.match(head):
        head, sep, rest = "", "", url
    userinfo, at, after = rest.rpartition("@")
    if not at:
        return url, None, ""
    return head + sep, userinfo, after


def fragment_length(n: int) -> int:
    """The shortest piece of an ``n``-character password masked on its own:
    half the password, but at least :data:`MIN_FRAGMENT` and at most
    :data:`MAX_FRAGMENT` characters (see :class:`Secrets`)."""
    return max(MIN_FRAGMENT, min(MAX_FRAGMENT, (n + 1) // 2))


def _escaped_backslash_quote(value: str) -> str:
    """How a WBEM URI (``str`` of a pywbem instance path) writes a key string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


#: how texts escape a string with backslashes: a secret is also looked for in
#: each of these forms, up to 3 deep (a WBEM URI key holding a reference,
#: i.e. a path in a path, in a JSON line: the operation log's arguments)
_BACKSLASH_ESCAPES = (
    lambda v: json.dumps(v)[1:-1],                      # JSON, ASCII only
    lambda v: json.dumps(v, ensure_ascii=False)[1:-1],  # JSON, UTF-8
    _escaped_backslash_quote,                           # WBEM URI key strings
    lambda v: repr(v)[1:-1],                            # Python repr (tracebacks)
)
#: other escapes, once, of a secret or its forms one escape deep
_OTHER_ESCAPES = (
    lambda v: html.escape(v, quote=True),               # HTML, XML attributes
    lambda v: html.escape(v, quote=False),              # HTML, XML text
    lambda v: quote(v, safe=""),                        # URLs
    lambda v: quote(v),
    lambda v: quote_plus(v, safe=""),
)
_DEPTH = 3


def _escaped(forms, escapes) -> set[str]:
    out = set()
    for form in forms:
        for escape in escapes:
            try:
                out.add(escape(form))
            except ValueError:  # e.g. a lone surrogate has no UTF-8 to URL-quote
                pass
    return out


def _forms(text: str) -> set[str]:
    """``text``, escaped with up to :data:`_DEPTH` of :data:`_BACKSLASH_ESCAPES`;
    ``text`` and its forms one escape deep also with each of
    :data:`_OTHER_ESCAPES`. Every escape works character by character, so the
    forms of a piece of a secret are pieces of the forms of the secret."""
    out = level = {text}
    shallow = set()
    for depth in range(_DEPTH):
        level = _escaped(level, _BACKSLASH_ESCAPES) - out
        out = out | level
        if depth == 0:
            shallow = set(out)
    return out | _escaped(shallow, _OTHER_ESCAPES)


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8; a lone surrogate (bytes that were no UTF-8 in the
    command line or the environment) as the bytes it stands for."""
    for errors in ("strict", "surrogateescape", "surrogatepass"):
        try:
            return text.encode("utf-8", errors)
        except UnicodeEncodeError:
            continue
    return text.encode("utf-8", "replace")


def _base64_forms(data: bytes) -> set[str]:
    """base64 of ``data`` alone (standard and URL-safe alphabet), and the
    stable middle of it when ``data`` is embedded at each of the 3 byte
    alignments of a longer base64 blob (the characters that depend on
    ``data`` only, whatever precedes and follows it)."""
    out = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        out.add(encode(data).decode("ascii"))
        for align in range(3):
            # char i of base64 holds bits 6i..6i+5: those inside data's bits
            # [8 * align, 8 * (align + len)) depend on data alone
            start = -(-8 * align // 6)
            end = 8 * (align + len(data)) // 6
            middle = encode(b"\0" * align + data + b"\0\0").decode("ascii")[start:end]
            if len(middle) >= MIN_DERIVED:
                out.add(middle)
    return out


class Secrets:
    """A set of secret strings; :meth:`scrub` masks each wherever it appears,
    in every form a server, a library or our own writers may put it in:

    * the secret itself; escaped as JSON (ASCII-only and UTF-8), in a WBEM
      URI key string (``\\"`` and ``\\\\``) and by Python's repr, up to 3
      escapes deep (a reference key in a path in a JSON line: the operation
      log's arguments, dumped before they are scrubbed); and the secret and
      its forms one escape deep URL-quoted (``quote``, ``quote_plus``) or
      escaped by HTML/XML;
    * base64 (standard and URL-safe) of ``user:secret`` (HTTP Basic) and of
      the secret alone, whole, and -- when embedded in a longer base64 blob
      -- the stable middle of it at each of the 3 byte alignments (pieces
      shorter than :data:`MIN_DERIVED` characters are not masked on their own);
    * fragments: any piece of the secret of at least
      :func:`fragment_length` characters (half of the secret, but at least 6
      and at most 8 characters), in each of the forms above. So a server
      echoing a truncated password (all but its last character, its first 8
      characters) is masked; a common word of 5 characters or fewer is never masked
      because a password contains it; a longer word only when it is half of
      the password or 8 characters of it. Passwords of 6 characters or fewer
      are masked whole only.

    Overlapping matches are masked as one :data:`MASK`.
    """

    def __init__(self, values=(), user=None):
        self._patterns: set[str] = set()
        self._user = user
        for v in values:
            self.add(v)

    @classmethod
    def from_options(cls, options):
        """The secrets of a set of target options: the password (option,
        ``WBEM_PASSWORD``, or the URL's, as typed and percent-decoded).
        Never raises, whatever the options hold (a malformed URL included):
        it is called before the options are validated."""
        url = getattr(options, "url", None)
        if isinstance(url, bytes):
            url = url.decode("utf-8", "replace")
        url_user = url_password = None
        if isinstance(url, str):
            _, userinfo, _ = split_userinfo(url.strip())
            if userinfo is not None:
                name, colon, password = userinfo.partition(":")
                url_user = name or None
                url_password = password if colon else None
        user = getattr(options, "user", None) or url_user
        if isinstance(user, str) and user == url_user:
            user = _unquote(user)
        out = cls(user=user)  # the user first: the encoded user:password form needs it
        for value in (getattr(options, "password", None), os.environ.get("WBEM_PASSWORD"),
                      url_password, _unquote(url_password) if url_password else None):
            with contextlib.suppress(Exception):  # a value with no text has nothing to mask
                out.add(value)
        return out

    def add(self, value):
        """Add a secret (a str, or anything with ``reveal()``, e.g. a Secret)."""
        if value is None:
            return
        reveal = getattr(value, "reveal", None)
        value = str(reveal() if callable(reveal) else value)
        if not value:
            return
        self._patterns |= _forms(value)
        size = fragment_length(len(value))
        for i in range(len(value) - size + 1) if len(value) > size else ():
            self._patterns |= _forms(value[i:i + size])
        self._patterns |= _base64_forms(_utf8(value))
        if self._user is not None:
            self._patterns |= _base64_forms(_utf8(f"{self._user}:{value}"))

    def __bool__(self):
        return bool(self._patterns)

    def __repr__(self):
        return f"Secrets({len(self._patterns)} pattern(s))"

    def scrub(self, text):
        """``text`` with every secret masked (non-strings are returned as they are)."""
        if not isinstance(text, str) or not self._patterns:
            return text
        spans = []
        for pattern in self._patterns:
            at = text.find(pattern)
            while at != -1:  # the next occurrence that does not overlap this one
                spans.append((at, at + len(pattern)))
                at = text.find(pattern, at + len(pattern))
        if not spans:
            return text
        spans.sort()
        out, pos = [], 0
        start, end = spans[0]
        for s, e in spans[1:]:
            if s <= end:
                end = max(end, e)
                continue
            out += [text[pos:start], MASK]
            pos, start, end = end, s, e
        out += [text[pos:start], MASK, text[end:]]
        return "".join(out)


def _unquote(text: str) -> str:
    try:
        return unquote(text)
    except Exception:  # noqa: BLE001 -- never raises; the text as typed is kept too
        return text
