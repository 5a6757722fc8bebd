"""The transport of a URL target: every operation bounded, nothing silent, no secret shown.

pywbem sends each operation through a requests session. The one it makes by
itself lets a server hold an operation forever (its timeout bounds each socket
read, not the operation), follows redirects to wherever they point, lets
``$REQUESTS_CA_BUNDLE``/``$CURL_CA_BUNDLE`` override ``--wbem-ca-certs`` and
``--wbem-no-verify``, and reads answers of any size. :func:`connect` gives the
``WBEMConnection`` a session of our own (:class:`Transport`) instead:

* **one deadline per operation** -- :meth:`Transport.run` runs the operation
  (connect, send, receive, parse) in a worker thread and waits at most
  ``--wbem-timeout`` seconds for it; then it shuts the connection's sockets
  down, interrupts the worker and raises :class:`OperationTimeoutError`
  naming the operation. Socket timeouts only back this up.
* **bounded answers** -- the body is read by the transport in chunks, and an
  answer that announces or reaches more than ``--wbem-max-response-bytes`` is
  :class:`ResponseTooLargeError` at once, before any parsing. pywbem's own
  text handling, quadratic in the number of text pieces, is replaced by a
  linear one that also stops at the deadline (:mod:`._pywbem_adapter`).
* **no redirects** -- a 3xx is :class:`RedirectRefusedError`, naming the
  status and the Location header.
* **the TLS options win** -- the verification chosen by :func:`tls_choice`
  is passed to every request, so the environment cannot override it;
  ``Transport.tls.description`` says in one line what was used.
* **secrets** -- passwords are held in :class:`Secret` (its repr shows
  stars, it is never pickled) and never handed to pywbem (the session adds
  the Authorization header); URLs are shown without user:password@. Texts
  are scrubbed with :class:`wbemconform.secrets.Secrets` (``Target.secrets``).

All the errors are pywbem error classes, so ``Target.call`` reports them as a
``ServerError`` like any other transport failure.
"""

from __future__ import annotations

import base64
import ctypes
import math
import os
import re
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pywbem
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import _pywbem_adapter
from .secrets import MASK, split_userinfo

__all__ = ["Secret", "redact_url", "TargetSetupError",
           "validate_options", "tls_choice", "TlsChoice", "Transport", "connect",
           "parse_byte_size", "OperationTimeoutError", "ResponseTooLargeError",
           "RedirectRefusedError", "AnswerNotProcessedError",
           "DEFAULT_MAX_RESPONSE_BYTES", "MAX_TIMEOUT"]

#: The default of ``--wbem-max-response-bytes``: 16 MiB. pywbem's tuple tree
#: takes up to ~30 bytes of memory per byte of answer (measured on an answer
#: of empty INSTANCENAME elements), so 16 MiB stays under half a gigabyte on a
#: CI machine, while holding thousands of instances -- far more than any one
#: answer the suites ask for (the Interop namespace's profiles, one class's
#: instances, one association's traversal).
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

#: The largest ``--wbem-timeout`` accepted (a day): bigger values are a typo,
#: and Python's waits cannot take unbounded ones.
MAX_TIMEOUT = 86400.0

_GRACE = 1.0      # socket timeouts outlast the deadline: the deadline ends an operation
_CHUNK = 65536    # bytes per read of an answer


class TargetSetupError(Exception):
    """The target cannot be used at all (bad option, unreachable, bad MOF)."""


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

@dataclass(frozen=True)
class _Url:
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
        """scheme://host[:port], what pywbem is given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port_text}" if self.port_text else "")


def _parse_url(url) -> _Url:
    """``url`` taken apart; never raises. The user-info is everything before
    the LAST ``@`` (:func:`wbemconform.secrets.split_userinfo`): a password
    typed with ``#``, ``/``, ``?``, ``@`` or ``[`` in it is understood, and the
    rest of the URL is parsed without it, so no message shows the password."""
    if isinstance(url, bytes):
        url = url.decode("utf-8", "replace")
    if not isinstance(url, str):
        return _Url(shown=repr(url), error="not a string")
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
        return _Url(shown=rest, user=user, password=password,
                    error=f"not a valid URL ({exc})", credentials_problem=problem)
    if netloc.startswith("["):
        host, bracket, tail = netloc[1:].partition("]")
        port_text = tail.removeprefix(":")
        if not bracket:
            port_text = ""
    else:
        host, _, port_text = netloc.partition(":")
    extra = (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    return _Url(rest, scheme.lower(), host, port_text, path, extra, user, password,
                credentials_problem=problem)


def redact_url(url) -> str:
    """The URL with any user name or password removed (never raises)."""
    try:
        return _parse_url(url).shown
    except Exception:  # noqa: BLE001 -- a URL that is no text at all
        return f"<a {type(url).__name__}>"


_HOST_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*\.?$")


def _url_problem(u: _Url) -> str | None:
    """Why ``u`` cannot be a ``--wbem-url``, in a few words (None: it can)."""
    expected = "expected http://HOST[:PORT] or https://HOST[:PORT]"
    if u.credentials_problem:
        return u.credentials_problem
    if u.error:
        return f"{u.error}; {expected}"
    if u.scheme not in ("http", "https") or not u.host:
        return expected
    if ":" not in u.host and not _HOST_NAME.match(u.host):  # urlsplit checks [IPv6]
        return f"the host {u.host!r} is not a valid host name"
    if u.port_text:
        if not u.port_text.isdigit() or not u.port_text.isascii():
            return f"the port {u.port_text!r} is not a number"
        if not 0 < int(u.port_text) < 65536:
            return f"the port {u.port_text} is not between 1 and 65535"
    if u.path not in ("", "/", "/cimom") or u.extra:
        return ("a path, query or fragment cannot be used: requests always go to /cimom "
                "(give http[s]://HOST[:PORT])")
    return None


# -- options ----------------------------------------------------------------------------

def _is_utf8(value) -> bool:
    """Whether a user name or password (a str or a Secret) can be sent."""
    if value is None:
        return True
    text = value.reveal() if isinstance(value, Secret) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SIZE = re.compile(r"^\s*(\d+)\s*(|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.I)


def parse_byte_size(text) -> int:
    """An int from ``16777216``, ``16M``, ``64MiB``, ``512k`` (1024-based);
    ValueError when it is none."""
    if isinstance(text, bool):
        raise ValueError("expected a number of bytes")
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError("expected a number of bytes, optionally with K, M or G")
    unit = m.group(2).lower()[:1]
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit]


def _url_only_options(options):
    return [name for name, given in (
        ("--wbem-user", options.user), ("--wbem-password", options.password is not None),
        ("--wbem-no-verify", options.no_verify), ("--wbem-ca-certs", options.ca_certs))
        if given]


def validate_options(options) -> None:
    """Raise :class:`TargetSetupError` (one line naming the option and what is
    wrong) when the ``--wbem-*`` transport options cannot work. Reads nothing
    from the network; call it before anything else happens."""
    timeout = options.timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        raise TargetSetupError(f"--wbem-timeout {timeout}: expected a number of seconds > 0 "
                               f"and at most {MAX_TIMEOUT:g}")
    workers = getattr(options, "workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise TargetSetupError(f"--wbem-workers {workers}: expected a whole number from 1 "
                               "to 64")
    limit = getattr(options, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)
    try:
        size = parse_byte_size(limit)
    except ValueError as exc:
        raise TargetSetupError(f"--wbem-max-response-bytes {limit!r}: {exc}") from None
    if size < 1024:
        raise TargetSetupError(f"--wbem-max-response-bytes {limit!r}: expected at least 1024 "
                               "bytes (no CIM-XML answer is smaller)")
    if not options.url:
        unused = _url_only_options(options)
        if unused:
            raise TargetSetupError(f"{', '.join(unused)}: only used with --wbem-url, and no "
                                   "--wbem-url is given (the target is the embedded mock)")
        return
    u = _parse_url(options.url)
    problem = _url_problem(u)
    if problem:
        raise TargetSetupError(f"--wbem-url {u.shown!r}: {problem}")
    mock_only = [name for name, given in (
        ("--wbem-mock-mof", getattr(options, "mock_mof", None)),
        ("--wbem-mock-provider", getattr(options, "mock_providers", None)),
        ("--wbem-mock-quirk", getattr(options, "mock_quirks", None)),
        ("--wbem-mock-schema", getattr(options, "mock_schema", None)),
        ("--wbem-mock-dialect", getattr(options, "mock_dialect", "wmi") != "wmi")) if given]
    if mock_only:
        raise TargetSetupError(f"{', '.join(mock_only)}: only used with the embedded mock, "
                               f"and --wbem-url {u.shown} is given")
    for name, value in (("--wbem-user", options.user), ("the user name in --wbem-url", u.user),
                        ("--wbem-password", options.password),
                        ("$WBEM_PASSWORD", os.environ.get("WBEM_PASSWORD")
                         if options.password is None else None),
                        ("the password in --wbem-url", u.password)):
        if not _is_utf8(value):
            raise TargetSetupError(f"{name}: not valid UTF-8 text (HTTP Basic sends it as "
                                   "UTF-8); the value is not shown")
    if options.password is not None and not (options.user or u.user):
        raise TargetSetupError("--wbem-password: given without --wbem-user (and the URL names "
                               "no user)")
    if options.no_verify and options.ca_certs:
        raise TargetSetupError("--wbem-no-verify and --wbem-ca-certs: give one of them "
                               "(verify with that CA bundle, or do not verify)")
    if options.ca_certs and not os.path.exists(options.ca_certs):
        raise TargetSetupError(f"--wbem-ca-certs {options.ca_certs}: no such file")
    tls = tls_choice(options)
    if tls.env_var and not os.path.exists(tls.verify):
        raise TargetSetupError(f"${tls.env_var}={tls.verify}: no such file (it chooses the CA "
                               "bundle when --wbem-ca-certs is not given; fix or unset it, or "
                               "give --wbem-ca-certs)")


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
    u = _parse_url(options.url)
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


def _check_deadline():
    """Called while pywbem parses: ends a parse whose operation is over."""
    job = getattr(_current, "job", None)
    if job is not None and job.expired():
        raise OperationTimeoutError(job.transport.timeout_message(job.operation))


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
            super().connect()
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
        except requests.RequestException:
            if job is not None and job.expired():
                raise OperationTimeoutError(t.timeout_message(operation)) from None
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
        resp.raw = _pywbem_adapter.BodyAlreadyRead(body, original)
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
        if not job.done.wait(max(0.0, deadline - time.monotonic())):
            job.abandoned = True
            self.abort()
            _interrupt(job, worker)
            self.abandoned.append(worker)
            raise OperationTimeoutError(self.timeout_message(operation))
        error, job.error = job.error, None
        if error is not None:
            raise error
        return job.result


def connect(options) -> tuple[pywbem.WBEMConnection, Transport]:
    """A pywbem connection for ``options.url`` whose every request goes through
    a :class:`Transport`; call :func:`validate_options` first."""
    u = _parse_url(options.url)
    user = options.user or u.user
    password = options.password
    if password is None and os.environ.get("WBEM_PASSWORD") is not None:
        password = Secret(os.environ["WBEM_PASSWORD"])
    if password is None:
        password = u.password
    if password is not None and not isinstance(password, Secret):
        password = Secret(password)
    transport = Transport(
        url=u.base, timeout=options.timeout,
        max_response_bytes=parse_byte_size(getattr(options, "max_response_bytes",
                                                   DEFAULT_MAX_RESPONSE_BYTES)),
        tls=tls_choice(options), user=user, password=password)
    conn = pywbem.WBEMConnection(
        u.base, None, default_namespace=options.interop_namespace or "root/interop",
        no_verification=options.no_verify, ca_certs=options.ca_certs or None,
        timeout=options.timeout)
    _pywbem_adapter.install_session(conn, transport.session)
    _pywbem_adapter.install_linear_text_handler(_check_deadline)
    return conn, transport
