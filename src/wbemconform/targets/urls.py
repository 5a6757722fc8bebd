"""A ``--wbem-url`` taken apart (for every URL target's opener and the transport).

:func:`parse_url` never raises and never shows the password: the user-info
is read as :func:`wbemconform.secrets.split_userinfo` says (everything up to
the LAST ``@``), the password is a :class:`~wbemconform.options.Secret`, and
``Url.shown`` is :func:`wbemconform.options.redact_url`'s text. What a URL
must look like is each opener's rule (e.g. :mod:`.cimxml`: ``/cimom`` only).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..options import Secret
from ..secrets import split_userinfo

__all__ = ["Url", "parse_url"]


@dataclass(frozen=True)
class Url:
    """A ``--wbem-url`` taken apart without ever raising; its password is a Secret."""

    shown: str             # the URL without user and password (for messages)
    scheme: str = ""
    host: str = ""         # as written (IPv6 without brackets)
    port_text: str = ""
    path: str = ""
    extra: str = ""        # "?query" / "#fragment", if any
    user: str | None = None
    password: Secret | None = None
    error: str | None = None  # why it is no URL at all
    #: why its user name or password cannot be used (neither is shown)
    credentials_problem: str | None = None

    @property
    def base(self) -> str:
        """scheme://host[:port], what the client is given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port_text}" if self.port_text else "")


def parse_url(url) -> Url:
    """``url`` taken apart; never raises. The user-info is everything before
    the LAST ``@`` (:func:`wbemconform.secrets.split_userinfo`): a password
    typed with ``#``, ``/``, ``?``, ``@`` or ``[`` in it is understood, and the
    rest of the URL is parsed without it, so no message shows the password."""
    if isinstance(url, bytes):
        url = url.decode("utf-8", "replace")
    if not isinstance(url, str):
        return Url(shown=repr(url), error="not a string")
    before, userinfo, after = split_userinfo(url.strip())
    rest = before + after if userinfo is not None else before
    user = password = None
    problem = None
    if userinfo is not None:
        name, colon, pw = userinfo.partition(":")
        user = unquote(name) or None
        password = Secret(unquote(pw)) if colon else None
        for part, text, option in (("user name", name, "--wbem-user"),
                                   ("password", pw, "--wbem-password or $WBEM_PASSWORD")):
            if any(c.isspace() or not c.isprintable() for c in text):
                problem = (
                    f"the {part} in the URL holds a space, a control character or a byte "
                    f"that is not UTF-8; percent-encode it (a space is %20) or give {option}")
                break
    try:
        scheme, netloc, path, query, fragment = urlsplit(rest)
    except ValueError as exc:  # e.g. an unbalanced "[" (IPv6)
        return Url(shown=rest, user=user, password=password,
                   error=f"not a valid URL ({exc})", credentials_problem=problem)
    if netloc.startswith("["):
        host, bracket, tail = netloc[1:].partition("]")
        port_text = tail.removeprefix(":")
        if not bracket:
            port_text = ""
    else:
        host, _, port_text = netloc.partition(":")
    extra = (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    return Url(rest, scheme.lower(), host, port_text, path, extra, user, password,
               credentials_problem=problem)
