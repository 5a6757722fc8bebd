"""Serving: :func:`serve` puts the CIM-XML application (and any mounted
beside it, see :mod:`wbemconform.server.routes`) behind the asyncio front
end (:mod:`wbemconform.server.frontend`) in a background thread, over HTTP or
HTTPS, and returns the running :class:`WbemServer`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import socket
import ssl
import threading

from .auth import is_loopback
from .cimxml import make_app
from .common import one_line
from .frontend import IDLE_TIMEOUT, MAX_CONNECTIONS, REQUEST_TIMEOUT, Frontend
from .routes import Mount, Routes, check_prefix
from .wsman_auth import NtlmUserFile, parse_auth_schemes

#: where :func:`default_apps` mounts the WS-Management application
WSMAN_PREFIX = "/wsman"


def default_apps():
    """The applications ``wbemconform serve`` mounts beside CIM-XML:
    WS-Management at :data:`WSMAN_PREFIX` (:mod:`wbemconform.server.wsman`),
    so that one served mock answers both protocols. (``serve()`` itself
    mounts only what its ``apps`` names.)"""
    from .wsman import make_wsman_app
    return {WSMAN_PREFIX: make_wsman_app}

class WbemServer:
    """A running CIM-XML server in a background thread (see :func:`serve`)."""

    def __init__(self, frontend, thread, scheme, host, closers=()):
        self._frontend = frontend
        self._closers = list(closers)  # e.g. the NTLM credential file
        self._thread = thread
        self.scheme = scheme
        self.host = host
        self.port = int(frontend.server_port)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{shown}:{self.port}"
        self._stopped = False

    @property
    def read_only(self):
        return self._frontend.app.read_only

    @property
    def mounted(self):
        """The paths applications are mounted at beside CIM-XML (``serve(apps=...)``)."""
        return self._frontend.routes.prefixes

    def stop(self, timeout=10):
        """Stop serving and wait for the server thread; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        frontend = self._frontend
        frontend.routes.stop()  # injected delays, and waits for the mock, end now
        frontend.stopping = True
        try:
            asyncio.run_coroutine_threadsafe(frontend._shutdown(), frontend.loop) \
                .result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass  # the loop is gone already, or stuck: it is stopped below either way
        try:
            frontend.loop.call_soon_threadsafe(frontend.loop.stop)
        except RuntimeError:  # the loop is closed
            pass
        self._thread.join(timeout)
        frontend.executor.shutdown(wait=False, cancel_futures=True)
        try:
            frontend.sock.close()
        except OSError:
            pass
        for close in self._closers:
            close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = "stopped" if self._stopped else "running"
        return f"<WbemServer {self.url} {state}>"


def _listen(host, port):
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _PassPhraseAsked(Exception):
    """Raised by the password callback: the private key is encrypted."""


def _refuse_pass_phrase():
    # Called by OpenSSL only for an encrypted key, instead of its own
    # interactive prompt (which reads the terminal, or fails without one).
    raise _PassPhraseAsked()


def _tls_context(certfile, keyfile):
    """The server's TLS context; ValueError, naming the file, for an
    encrypted private key (pass-phrase-protected keys are not supported)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile, password=_refuse_pass_phrase)
    except _PassPhraseAsked:
        raise ValueError(f"{keyfile or certfile}: the private key is encrypted (protected by "
                         f"a pass phrase), which is not supported: give the key unencrypted, "
                         f"readable only by the server's user") from None
    return context


def serve(conn, host="127.0.0.1", port=0, user=None, password=None,
          certfile=None, keyfile=None, numthreads=8, fault=None, read_only=False,
          allow_unauthenticated_remote=False, request_timeout=REQUEST_TIMEOUT,
          idle_timeout=IDLE_TIMEOUT, max_connections=MAX_CONNECTIONS, apps=None,
          auth=("basic",)):
    """Serve ``conn`` over CIM-XML at ``http(s)://host:port/`` in a background thread.

    ``port=0`` picks a free port (``server.port``, ``server.url``). With
    ``certfile`` (and ``keyfile``, unless the certificate file holds the key)
    the server speaks HTTPS. ``user`` and a non-empty ``password`` require
    HTTP Basic authentication; a ``host`` that is not loopback is refused
    without them (ValueError) unless ``allow_unauthenticated_remote``.
    ``read_only`` refuses every write operation with CIM_ERR_ACCESS_DENIED.
    A ``port`` outside 0..65535 is a ValueError (not another port modulo
    65536); so is a pass-phrase-protected private key: no pass phrase is ever
    asked for.
    ``numthreads`` workers run the operations; ``request_timeout`` bounds the
    arrival of each request, from its first byte, ``idle_timeout`` a kept-alive
    connection's wait for its next request. ``fault`` makes it misbehave on
    purpose (see :func:`~wbemconform.server.faults.parse_fault`; ValueError if
    malformed). Returns a :class:`WbemServer`; stop it with ``.stop()`` or use
    it as a context manager.

    CIM-XML is answered at every path. ``apps`` mounts more applications
    beside it, on the same front end and the same mock: ``{prefix: factory}``,
    e.g. ``{"/wsman": make_wsman_app}``; each ``factory`` is called once with
    a :class:`~wbemconform.server.routes.Mount` (the mock, its lock, the
    server's authentication, ``read_only``, a ``stopping`` event) and returns
    the WSGI application that answers at ``prefix`` and below it (see
    :mod:`wbemconform.server.routes`). A prefix that is not a path such as
    ``/wsman`` is a ValueError.

    ``auth``: the schemes the mounted WS-Management application accepts from
    ``user`` -- ``("basic",)``, ``("basic", "ntlm")`` or ``("ntlm",)`` (or
    ``"basic,ntlm"``); NTLM comes with WinRM's sealed messages over HTTP
    (:mod:`wbemconform.server.wsman_auth`; its credential file is removed
    when the server stops). CIM-XML stays Basic. ``"ntlm"`` without ``user``
    is a ValueError.
    """
    for name, value in (("request_timeout", request_timeout), ("idle_timeout", idle_timeout)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if isinstance(port, bool) or (isinstance(port, int) and not 0 <= port <= 65535):
        raise ValueError(f"port {port!r} is not a TCP port number (0 to 65535; 0: any free "
                         f"port)")
    if user is None and not allow_unauthenticated_remote and is_loopback(host) is False:
        raise ValueError(f"{host or 'all interfaces'} is not a loopback address: serving it "
                         f"without authentication would let anyone who reaches it read "
                         f"and change the mock; set a user and password, or allow "
                         f"unauthenticated remote access explicitly")
    schemes = parse_auth_schemes(auth)
    if "ntlm" in schemes and user is None:
        raise ValueError("NTLM authentication needs a user and password")
    app = make_app(conn, user=user, password=password, fault=fault, read_only=read_only)
    routes = Routes(app)
    ntlm = NtlmUserFile(user, password) if "ntlm" in schemes and apps else None
    try:
        for prefix, factory in dict(apps or {}).items():
            mount = Mount(conn, check_prefix(prefix), user=user, password=password,
                          read_only=read_only)
            mount.auth_schemes, mount.ntlm = schemes, ntlm  # see WsmanGate
            routes.mount(prefix, factory(mount), mount)
        ssl_context = None
        if certfile:
            ssl_context = _tls_context(certfile, keyfile or None)
        elif keyfile:
            raise ValueError("keyfile given without certfile")
        sock = _listen(host, port)  # binds now: the port is known before serve() returns
    except BaseException:
        if ntlm is not None:
            ntlm.close()
        raise
    frontend = Frontend(routes, sock, ssl_context, numthreads, float(request_timeout),
                        float(idle_timeout), max_connections)
    ready = []
    thread = threading.Thread(target=frontend.run, args=(ready,),
                              name=f"wbemconform-server-{frontend.server_port}", daemon=True)
    thread.start()
    while not ready and thread.is_alive():
        thread.join(0.01)
    if not ready or ready[0] is not None:
        sock.close()
        if ntlm is not None:
            ntlm.close()
        error = ready[0] if ready else RuntimeError("the server thread ended at start")
        raise OSError(f"cannot start serving: {one_line(error)}")
    return WbemServer(frontend, thread, "https" if ssl_context else "http", host,
                      closers=[ntlm.close] if ntlm is not None else [])
