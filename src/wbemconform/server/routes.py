"""Which application answers a request: the mount table of the front end.

One front end serves one mock. Its default application, the CIM-XML one
(:func:`wbemconform.server.make_app`), answers at every path, as it always
has; more applications can be mounted beside it, each at a path prefix of
its own, on the same front end and the same mock::

    def make_wsman_app(mount):                 # mount: a Mount
        def app(environ, start_response):      # a WSGI application
            mount.auth.check(environ)          # the server's own Basic auth
            with mount.lock:                   # the mock is not thread-safe
                ...                            # mount.conn is the served mock
        return app

    serve(conn, apps={"/wsman": make_wsman_app})

A request whose path (``PATH_INFO``, decoded) is a mount's prefix, or
starts with the prefix and ``/``, goes to that application, with
``SCRIPT_NAME`` set to the prefix and ``PATH_INFO`` to the rest (WSGI's
convention); the longest prefix wins. Every other path is CIM-XML's, with
``SCRIPT_NAME`` empty and ``PATH_INFO`` the whole path. A mounted
application gets the front end's framing, limits, deadlines, TLS and
eviction, but not CIM-XML's fault injection (``fault=``); it checks
authentication itself (:attr:`Mount.auth`), so that it can answer a failure
in its own protocol's terms.
"""

from __future__ import annotations

import re
import threading

from .auth import BasicAuth
from .common import mock_lock

# a prefix: one or more path segments of URL path characters (no "." or "..")
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+")


class Mount:
    """What a mounted application shares with the CIM-XML application of the
    same server (the argument of the factories given to ``serve(apps=...)``):

    * ``conn``: the served mock;
    * ``lock``: the mock's lock, the one CIM-XML operations take (the mock is
      not thread-safe: hold it around every use of ``conn``);
    * ``auth``: a :class:`wbemconform.server.auth.BasicAuth` with the server's
      user and password: ``auth.check(environ)`` returns if the request may
      pass (every request, when the server has no user) and raises
      :class:`wbemconform.server.common.HttpError` otherwise (``status`` 401,
      ``headers`` the ``WWW-Authenticate`` challenge);
    * ``read_only``: whether the server refuses every write operation;
    * ``stopping``: a ``threading.Event`` set when the server stops (end long
      waits then);
    * ``prefix``: the path the application is mounted at.
    """

    def __init__(self, conn, prefix, user=None, password=None, read_only=False):
        self.conn = conn
        self.prefix = prefix
        self.lock = mock_lock(conn)
        self.auth = BasicAuth(user, password)
        self.read_only = bool(read_only)
        self.stopping = threading.Event()

    def __repr__(self):
        return f"<Mount {self.prefix}>"


def check_prefix(prefix):
    """``prefix`` if it can be a mount's path (``/wsman``, ``/a/b``); ValueError if not."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix) or \
            any(segment in (".", "..") for segment in prefix.split("/")):
        raise ValueError(f"cannot mount an application at {prefix!r}: a path such as "
                         f"'/wsman' is needed (no trailing '/'; '/' itself is CIM-XML's)")
    return prefix


class Routes:
    """The applications of one front end by path: the default one (CIM-XML)
    and the mounted ones (:meth:`mount`)."""

    def __init__(self, default):
        self.default = default
        self._mounted = []  # (prefix, application, Mount or None), longest prefix first

    def mount(self, prefix, app, context=None):
        """Answer requests at ``prefix`` (and below it) with the WSGI
        application ``app``; ``context`` is the :class:`Mount` it was made with."""
        check_prefix(prefix)
        if any(known == prefix for known, _, _ in self._mounted):
            raise ValueError(f"an application is mounted at {prefix!r} already")
        if not callable(app):
            raise TypeError(f"the application mounted at {prefix!r} is not callable: "
                            f"{type(app).__name__}")
        self._mounted.append((prefix, app, context))
        self._mounted.sort(key=lambda entry: -len(entry[0]))

    @property
    def prefixes(self):
        """The mounted prefixes, longest first."""
        return [prefix for prefix, _, _ in self._mounted]

    def dispatch(self, environ):
        """The application for a WSGI request; for a mounted one, ``environ``'s
        ``SCRIPT_NAME``/``PATH_INFO`` are set to its prefix and the rest."""
        path = environ.get("PATH_INFO", "")
        for prefix, app, _ in self._mounted:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = prefix
                environ["PATH_INFO"] = path[len(prefix):]
                return app
        return self.default

    def stop(self):
        """Tell every application the server stops (its ``stopping`` event,
        and each mount's): injected delays and waits for the mock end."""
        for app, context in [(self.default, None)] + \
                [(app, context) for _, app, context in self._mounted]:
            for event in (getattr(app, "stopping", None), getattr(context, "stopping", None)):
                if isinstance(event, threading.Event):
                    event.set()
