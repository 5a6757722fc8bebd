"""The transport of a URL target: every operation bounded, nothing silent, no secret shown.

pywbem sends each operation through a requests session. The one it makes by
itself lets a server hold an operation forever (its timeout bounds each socket
read, not the operation), follows redirects to wherever they point, lets
``$REQUESTS_CA_BUNDLE``/``$CURL_CA_BUNDLE`` override ``--wbem-ca-certs`` and
``--wbem-no-verify``, and reads answers of any size. A URL target's opener
(:func:`wbemconform.targets.cimxml.connect`) gives its client a session of
our own (:class:`Transport`) instead; any client that posts through a
requests session can use it:

* **one deadline per operation** -- :meth:`Transport.run` runs the operation
  (connect, send, receive, parse) in a worker thread and waits at most
  ``--wbem-timeout`` seconds for it; then it shuts the connection's sockets
  down, interrupts the worker and raises :class:`OperationTimeoutError`
  naming the operation. Socket timeouts only back this up; a parser calls
  :func:`check_deadline` to stop parsing an answer nobody waits for.
* **bounded answers** -- the body is read by the transport in chunks, and an
  answer that announces or reaches more than ``--wbem-max-response-bytes`` is
  :class:`ResponseTooLargeError` at once, before any parsing.
* **no redirects** -- a 3xx is :class:`RedirectRefusedError`, naming the
  status and the Location header.
* **the TLS options win** -- the verification chosen by :func:`tls_choice`
  is passed to every request, so the environment cannot override it;
  ``Transport.tls.description`` says in one line what was used.
* **secrets** -- passwords are held in :class:`~wbemconform.options.Secret`
  (its repr shows stars, it is never pickled) and never handed to the
  client (the session adds the Authorization header); URLs are shown without
  user:password@. Texts are scrubbed with
  :class:`wbemconform.secrets.Secrets` (``Target.secrets``).

All the errors are pywbem error classes, so ``Target.call`` reports them as a
``ServerError`` like any other transport failure. The private uses of
requests (and pywbem) are in :mod:`.pywbem_adapter`.
"""

from __future__ import annotations

import base64
import ctypes
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass

import pywbem
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .. import interrupts
from ..options import Secret, redact_url
from ..secrets import MASK
from . import pywbem_adapter
from .plain_http import answers_plain_http, plain_http_answer, plain_http_message
from .urls import parse_url

__all__ = ["tls_choice", "TlsChoice", "Transport", "check_deadline", "current_deadline",
           "OperationTimeoutError", "ResponseTooLargeError", "RedirectRefusedError",
           "AnswerNotProcessedError"]

_GRACE = 1.0      # socket timeouts outlast the deadline: the deadline ends an operation
_CHUNK = 65536    # bytes per read of an answer


# -- TLS --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TlsChoice:
    """What verifies the server's certificate (``verify`` as requests takes it)."""

    verify: bool | str
    description: str          # one line, e.g. "tls: verify with /x/ca.pem (from --wbem-ca-certs)"
    env_var: str | None = None  # the environment variable that chose the bundle, if one did


def tls_choice(options, environ=None) -> TlsChoice:
    """The certificate verification for ``options``: ``--wbem-no-verify``,
    then ``--wbem-ca-certs``, then ``$REQUESTS_CA_BUNDLE``, ``$CURL_CA_BUNDLE``
    (as requests itself would), then requests' default bundle (certifi)."""
    environ = os.environ if environ is None else environ
    if not options.url:
        return TlsChoice(False, "tls: none (the embedded mock)")
    u = parse_url(options.url)
    if u.scheme != "https":
        unused = [n for n, given in (("--wbem-no-verify", options.no_verify),
                                     ("--wbem-ca-certs", options.ca_certs)) if given]
        return TlsChoice(False, "tls: none (http)" +
                         (f"; {' and '.join(unused)} not used" if unused else ""))
    if options.no_verify:
        return TlsChoice(False, "tls: not verified (--wbem-no-verify)")
    if options.ca_certs:
        return TlsChoice(os.path.abspath(options.ca_certs),
                         f"tls: verify with {os.path.abspath(options.ca_certs)} "
                         "(from --wbem-ca-certs)")
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if environ.get(var):
            return TlsChoice(environ[var], f"tls: verify with ${var}={environ[var]}", var)
    bundle = requests.certs.where()
    return TlsChoice(bundle, f"tls: verify with the default bundle {bundle} (certifi)")


def password_of(options, url_parts) -> Secret | None:
    """The password a URL target uses: the option, else ``$WBEM_PASSWORD``,
    else the URL's own (``url_parts``: :func:`.urls.parse_url`'s answer);
    always a :class:`Secret` (never shown). The same rule for every protocol."""
    password = options.password
    if password is None and os.environ.get("WBEM_PASSWORD") is not None:
        password = Secret(os.environ["WBEM_PASSWORD"])
    if password is None:
        password = url_parts.password
    if password is not None and not isinstance(password, Secret):
        password = Secret(password)
    return password


def tls_problem(options) -> str | None:
    """What is wrong with the TLS options of a URL target (one line), or None:
    both --wbem-no-verify and --wbem-ca-certs, a CA bundle that is missing, or
    an environment variable naming a bundle that is missing. The same rules
    for every protocol."""
    if options.no_verify and options.ca_certs:
        return ("--wbem-no-verify and --wbem-ca-certs: give one of them (verify with that "
                "CA bundle, or do not verify)")
    if options.ca_certs and not os.path.exists(options.ca_certs):
        return f"--wbem-ca-certs {options.ca_certs}: no such file"
    tls = tls_choice(options)
    if tls.env_var and not os.path.exists(tls.verify):
        return (f"${tls.env_var}={tls.verify}: no such file (it chooses the CA bundle when "
                "--wbem-ca-certs is not given; fix or unset it, or give --wbem-ca-certs)")
    return None


# -- errors -----------------------------------------------------------------------------

class OperationTimeoutError(pywbem.TimeoutError):
    """An operation had no complete answer within ``--wbem-timeout``."""


class ResponseTooLargeError(pywbem.ConnectionError):
    """An answer announced or reached more than ``--wbem-max-response-bytes``."""


class RedirectRefusedError(pywbem.ConnectionError):
    """The server answered with a redirect (3xx): never followed."""


class AnswerNotProcessedError(pywbem.ParseError):
    """pywbem failed on an answer with an error of its own (not a pywbem one)."""


class _Abandoned(BaseException):
    """Raised inside a worker whose operation is over (see Transport.run)."""


# -- the transport ------------------------------------------------------------------------

_current = threading.local()  # in a worker thread: .job, the operation it runs


class _Job:
    """One operation in its worker thread."""

    def __init__(self, transport, operation, deadline, fn, args, kwargs):
        self.transport = transport
        self.operation = operation
        self.deadline = deadline
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done = threading.Event()
        self.lock = threading.Lock()  # orders "finished" against an interrupt
        self.finished = False
        self.abandoned = False
        self.answered = False  # a whole answer was read (what fails next is its processing)
        self.handshaking = False  # connecting to an https:// URL (TCP, TLS handshake)
        self.result = self.error = None

    def __repr__(self):
        return f"<operation {self.operation}>"

    def run(self):
        _current.job = self
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            if self.answered and isinstance(exc, Exception) and \
                    not isinstance(exc, pywbem.Error):
                exc = AnswerNotProcessedError(
                    f"{self.operation}: pywbem failed on the answer: "
                    f"{type(exc).__name__}: {exc}")
            self.error = exc
        finally:
            _current.job = None
            self.fn = self.args = self.kwargs = None
            with self.lock:
                self.finished = True
            self.done.set()

    def expired(self) -> bool:
        return self.abandoned or time.monotonic() > self.deadline


def check_deadline():
    """Called while pywbem parses: ends a parse whose operation is over."""
    job = getattr(_current, "job", None)
    if job is not None and job.expired():
        raise OperationTimeoutError(job.transport.timeout_message(job.operation))


def current_deadline():
    """The ``time.monotonic()`` by which the operation this thread runs must
    be over (None outside :meth:`Transport.run`): a client that sends several
    requests for one operation (WS-Management's Enumerate + Pulls) sees how
    much of its one deadline is left."""
    job = getattr(_current, "job", None)
    if job is None:
        return None
    return float("-inf") if job.abandoned else job.deadline


def start_thread(thread: threading.Thread) -> None:
    """Start ``thread`` from an operation's worker (or anywhere else).

    An interrupt (:func:`_interrupt`) meant for the worker must not reach the
    new thread: CPython gives a thread's state its creator's id until the
    thread runs, and PyThreadState_SetAsyncExc raises in every thread state
    with the id it is given. So no interrupt is sent while the thread starts
    (``Thread.start`` returns once the new thread has its own id)."""
    job = getattr(_current, "job", None)
    if job is None:
        thread.start()
        return
    with job.lock:
        thread.start()


def _work(job):
    """A worker thread's body: the job, and the end of an interrupted one."""
    try:
        job.run()
    except _Abandoned:
        pass  # interrupted after its operation timed out: nobody waits for it


def _interrupt(job, thread) -> None:
    """Best effort: make an abandoned worker stop at its next Python bytecode
    (it may be deep in pywbem's parse of an answer nobody waits for any more).
    Uses CPython's documented PyThreadState_SetAsyncExc; elsewhere a no-op.
    Sent only while the job has not finished, so it lands inside :func:`_work`."""
    api = getattr(ctypes, "pythonapi", None)
    if api is None or thread.ident is None:
        return
    with job.lock:
        if not job.finished:
            api.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                          ctypes.py_object(_Abandoned))


class _BasicAuth:
    """The Authorization header for ``user`` and a Secret password."""

    def __init__(self, user: str, password: Secret | None):
        self.user = user
        self._token = Secret(base64.b64encode(
            f"{user}:{password.reveal() if password else ''}".encode("utf-8")).decode("ascii"))

    def header(self) -> str:
        return "Basic " + self._token.reveal()

    def __repr__(self):
        return f"_BasicAuth({self.user!r}, {MASK!r})"


def _pool_classes(register):
    """urllib3 pool classes whose connections are registered once connected
    (so that :meth:`Transport.abort` can shut their sockets down)."""
    class Conn(HTTPConnection):
        def connect(self):
            super().connect()
            register(self)

    class TlsConn(HTTPSConnection):
        def connect(self):
            job = getattr(_current, "job", None)
            if job is not None:  # connecting (TCP, then the TLS handshake)
                job.handshaking = True
            try:
                super().connect()
            finally:
                if job is not None:
                    job.handshaking = False
            register(self)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TlsConn

    return {"http": Pool, "https": TlsPool}


class _Adapter(HTTPAdapter):
    """requests' transport adapter, with the transport's rules (module docstring)."""

    def __init__(self, transport):
        self._transport = transport
        super().__init__(max_retries=urllib3.Retry(
            total=None, connect=2, read=0, redirect=0, status=0, other=0,
            backoff_factor=0.1, raise_on_redirect=False, raise_on_status=False))

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._transport._register)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        t = self._transport
        job = getattr(_current, "job", None)
        operation = job.operation if job else "request"
        deadline = job.deadline if job else time.monotonic() + t.timeout
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OperationTimeoutError(t.timeout_message(operation))
        connect_timeout = timeout[0] if isinstance(timeout, tuple) and timeout[0] else remaining
        io_timeout = remaining + _GRACE
        if t.auth is not None:
            request.headers["Authorization"] = t.auth.header()
        try:
            resp = super().send(request, stream=True, verify=t.tls.verify, cert=cert,
                                proxies=proxies,
                                timeout=(min(connect_timeout, io_timeout), io_timeout))
        except requests.RequestException as exc:
            if job is not None and job.expired():
                raise OperationTimeoutError(t.timeout_message(operation)) from None
            plain = plain_http_answer(exc, t.url)
            if plain:
                raise pywbem.ConnectionError(f"{operation}: {plain}") from None
            raise  # pywbem turns these into its own errors
        except OSError as exc:  # e.g. the CA bundle vanished since validate_options
            raise pywbem.ConnectionError(f"{operation}: {type(exc).__name__}: {exc}") from None
        try:
            if 300 <= resp.status_code < 400:
                location = redact_url(resp.headers.get("Location", "(none)"))
                raise RedirectRefusedError(
                    f"{operation}: the server answered HTTP {resp.status_code} {resp.reason} "
                    f"with Location {location!r}; redirects are not followed (give the final "
                    "address with --wbem-url)")
            body = self._read_body(resp, operation, deadline, job)
        except BaseException:
            resp.close()
            raise
        original = resp.raw
        resp.raw = pywbem_adapter.BodyAlreadyRead(body, original)
        original.release_conn()
        if job is not None:
            job.answered = True
        return resp

    def _read_body(self, resp, operation, deadline, job) -> bytes:
        t = self._transport
        limit = t.max_response_bytes
        declared = resp.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                f"{operation}: the server announced an answer of {int(declared)} bytes "
                f"(Content-Length), more than the limit of {limit} bytes "
                "(--wbem-max-response-bytes)")
        chunks, total = [], 0
        while True:
            if time.monotonic() > deadline or (job is not None and job.abandoned):
                raise OperationTimeoutError(t.timeout_message(operation))
            try:
                data = resp.raw.read1(_CHUNK, decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if job is not None and job.expired():
                    raise OperationTimeoutError(t.timeout_message(operation)) from None
                if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
                    raise pywbem.TimeoutError(
                        f"{operation}: the answer stalled for {t.timeout:g} s while being "
                        "read (--wbem-timeout)") from None
                raise pywbem.ConnectionError(
                    f"{operation}: reading the answer failed: {type(exc).__name__}: "
                    f"{exc}") from None
            if not data:
                return b"".join(chunks)
            total += len(data)
            if total > limit:
                raise ResponseTooLargeError(
                    f"{operation}: the answer exceeds the limit of {limit} bytes "
                    f"(--wbem-max-response-bytes); stopped reading after {total} bytes")
            chunks.append(data)


class Transport:
    """The session pywbem sends through, and the deadline of each operation."""

    def __init__(self, *, url: str, timeout: float, max_response_bytes: int,
                 tls: TlsChoice, user: str | None = None, password: Secret | None = None):
        self.url = url
        self.timeout = float(timeout)
        self.max_response_bytes = int(max_response_bytes)
        self.tls = tls
        self.auth = _BasicAuth(user, password) if user else None
        self._connections = weakref.WeakSet()
        self._lock = threading.Lock()
        self.abandoned: list[threading.Thread] = []  # workers of timed-out operations
        self.session = requests.Session()
        self.session.verify = tls.verify
        adapter = _Adapter(self)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self):
        user = f", user={self.auth.user!r}" if self.auth else ""
        return (f"Transport({self.url!r}, timeout={self.timeout:g}, "
                f"max_response_bytes={self.max_response_bytes}{user}, {self.tls.description!r})")

    def describe(self) -> list[str]:
        """Lines for the terminal: TLS, limits, user."""
        return [self.tls.description,
                f"transport: each operation within {self.timeout:g} s, answers up to "
                f"{self.max_response_bytes} bytes, redirects refused",
                f"credentials: user {self.auth.user}, password not shown" if self.auth else
                "credentials: none"]

    def timeout_message(self, operation) -> str:
        return (f"{operation} timed out: no complete answer within {self.timeout:g} s "
                "(--wbem-timeout)")

    def _register(self, conn):
        with self._lock:
            self._connections.add(conn)

    def abort(self) -> None:
        """Shut down every socket of this transport (the worker blocked on one
        wakes up at once); idle pooled connections are replaced when next used."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def run(self, operation: str, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` (a pywbem operation), bounded as a whole by
        the timeout: OperationTimeoutError when it is not over by then."""
        deadline = time.monotonic() + self.timeout
        job = _Job(self, operation, deadline, fn, args, kwargs)
        worker = threading.Thread(target=_work, args=(job,), name=f"wbemconform {operation}",
                                  daemon=True)
        worker.start()
        with interrupts.interruptible():  # the main thread only waits
            done = job.done.wait(max(0.0, deadline - time.monotonic()))
        if not done:
            handshaking = job.handshaking  # read before the interrupt can end it
            job.abandoned = True
            self.abort()
            _interrupt(job, worker)
            self.abandoned.append(worker)
            if handshaking and answers_plain_http(self.url):
                raise pywbem.ConnectionError(f"{operation}: " + plain_http_message(
                    self.url, "never answered the TLS handshake but answers plain HTTP"))
            raise OperationTimeoutError(self.timeout_message(operation))
        error, job.error = job.error, None
        if error is not None:
            raise error
        return job.result
