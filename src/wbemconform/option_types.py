"""The value types of the options that hold secrets or URLs: :class:`Secret`
(a password) and :func:`redact_url` (a URL without its user-info). Kept
apart from :mod:`wbemconform.options` (which re-exports both) so that the
option table stays one readable module."""

from __future__ import annotations

from .secrets import MASK, split_userinfo

__all__ = ["Secret", "redact_url"]


# -- secrets ------------------------------------------------------------------------

class Secret:
    """A password: shown as stars by repr and str, revealed only by :meth:`reveal`
    (where a request needs it), never pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self):
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __bool__(self):
        return bool(self._value)

    def __eq__(self, other):
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self):
        return hash((Secret, self._value))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce_ex__(self, protocol):
        raise TypeError("a wbemconform Secret is never pickled")


# -- URLs -----------------------------------------------------------------------------

def redact_url(url) -> str:
    """The URL with any user name or password removed (never raises): the
    user-info is everything up to the LAST ``@``
    (:func:`wbemconform.secrets.split_userinfo`, as
    :func:`wbemconform.targets.urls.parse_url` reads it)."""
    try:
        if isinstance(url, bytes):
            url = url.decode("utf-8", "replace")
        if not isinstance(url, str):
            return repr(url)
        before, _, after = split_userinfo(url.strip())
        return before + after
    except Exception:  # noqa: BLE001 -- a URL that is no text at all
        return f"<a {type(url).__name__}>"
