"""Who may talk to the WS-Management application: Basic, and NTLM with
WinRM's HTTP message encryption (``serve(..., auth=("basic", "ntlm"))``,
``wbemconform serve --auth basic,ntlm``).

NTLM is a handshake on one connection (RFC 4559 framing, as WinRM does it):
the client sends ``Authorization: Negotiate <NTLM NEGOTIATE>`` (or ``NTLM
<...>``, or an SPNEGO token wrapping NTLM), the server answers 401 with
``WWW-Authenticate: Negotiate <CHALLENGE>``, the client sends the
AUTHENTICATE message and the server answers 200 (an empty body: nothing was
asked yet), or processes the request that came with it. From then on the
connection is authenticated -- the front end names each connection with a
key of its own in the WSGI environ (:data:`CONNECTION_KEY`), and the security
context lives as long as that connection (a weak reference). Over plain HTTP
every message of an authenticated connection must be sealed as MS-WSMV
2.2.9.1 describes (a ``multipart/encrypted`` body, protocol
``application/HTTP-SPNEGO-session-encrypted``: an
``OriginalContent: type=...;Length=N`` part, then an
``application/octet-stream`` part holding the signature's length in 4 bytes
little endian, the signature and the sealed envelope); the answer is sealed
the same way. A sealed message whose signature does not verify is refused
(HTTP 400, one line; the context is dropped, as its RC4 stream is out of
step); a plain one over HTTP is refused (HTTP 400); a sealed one on a
connection without a context is answered 401 (authenticate again).

The cryptography is pyspnego's (``spnego.server``, ``step``,
``wrap_winrm``/``unwrap_winrm``). Its NTLM acceptor takes no credential in
process: it reads them from the file named by ``$NTLM_USER_FILE``. So
:class:`NtlmUserFile` writes the server's one user, in the smbpasswd form
(its NT hash, not the password), to a file readable by the server's user
only (0600, in a 0700 folder of its own), removed when the server stops
(:meth:`WbemServer.stop <wbemconform.server.serving.WbemServer.stop>`) or the
process ends; the variable is set only while pyspnego reads it, under a lock,
and restored after. No token, hash or password is ever logged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
import struct
import tempfile
import threading
import weakref

from .auth import REALM, challenge
from .common import LOG, HttpError, one_line
from .connection import CONNECTION_KEY

__all__ = ["AUTH_SCHEMES", "CONNECTION_KEY", "ENCRYPTED_PROTOCOL", "NtlmUserFile",
           "WsmanGate", "parse_auth_schemes", "seal", "unseal", "nt_hash"]

#: what ``serve(auth=...)`` and ``wbemconform serve --auth`` accept
AUTH_SCHEMES = ("basic", "ntlm")
ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
_BOUNDARY = "Encrypted Boundary"
_ENCRYPTED_TYPE = f'multipart/encrypted;protocol="{ENCRYPTED_PROTOCOL}";boundary="{_BOUNDARY}"'
_SOAP = "application/soap+xml;charset=UTF-8"
_HANDSHAKE_SCHEMES = {"negotiate": "Negotiate", "ntlm": "NTLM"}
_ENV_LOCK = threading.Lock()  # $NTLM_USER_FILE is the process's: one reader at a time


def parse_auth_schemes(value):
    """``"basic,ntlm"`` (or an iterable of names) -> ``("basic", "ntlm")``;
    ValueError for an empty list or an unknown scheme."""
    names = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for name in names:
        name = str(name).strip().lower()
        if name not in AUTH_SCHEMES:
            raise ValueError(f"unknown authentication scheme {name!r}: give "
                             f"{' and/or '.join(AUTH_SCHEMES)}, comma-separated")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"no authentication scheme given: give "
                         f"{' and/or '.join(AUTH_SCHEMES)}, comma-separated")
    return tuple(out)


# -- the credential file -------------------------------------------------------------

def _md4(data: bytes) -> bytes:
    """MD4 (RFC 1320): the NT hash's digest, which OpenSSL 3 no longer offers."""
    mask = 0xFFFFFFFF

    def rotl(v, s):
        v &= mask
        return ((v << s) | (v >> (32 - s))) & mask
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    rounds = (
        (lambda x, y, z: (x & y) | (~x & z), 0, range(16), (3, 7, 11, 19)),
        (lambda x, y, z: (x & y) | (x & z) | (y & z), 0x5A827999,
         [i % 4 * 4 + i // 4 for i in range(16)], (3, 5, 9, 13)),
        (lambda x, y, z: x ^ y ^ z, 0x6ED9EBA1,
         (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15), (3, 9, 11, 15)),
    )
    for offset in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[offset:offset + 64])
        a, b, c, d = h
        for func, const, order, shifts in rounds:
            for i, k in enumerate(order):
                a = rotl(a + func(b, c, d) + x[k] + const, shifts[i % 4])
                a, b, c, d = d, a, b, c
        h = [(v + w) & mask for v, w in zip(h, (a, b, c, d))]
    return struct.pack("<4I", *h)


def nt_hash(password: str) -> bytes:
    """The NT one-way function of ``password`` (MD4 of its UTF-16LE form)."""
    return _md4(password.encode("utf-16-le"))


def _remove(folder):
    shutil.rmtree(folder, ignore_errors=True)


class NtlmUserFile:
    """The NTLM acceptor's credential store (see the module docstring): one
    line, ``USER:0:<LM zeros>:<NT hash>:[U]:LCT-00000000``, in a private
    file, removed by :meth:`close` (or when the process ends)."""

    def __init__(self, user, password):
        user, password = str(user or ""), str(password or "")
        if not user or not password:
            raise ValueError("NTLM needs a user and a non-empty password")
        if any(ch in user for ch in ":\r\n") or not user.isprintable():
            raise ValueError("the user name cannot be used with NTLM: it holds ':', a line "
                             "break or another control character")
        folder = tempfile.mkdtemp(prefix="wbemconform-ntlm-")  # 0700
        self._finalizer = weakref.finalize(self, _remove, folder)
        self.path = os.path.join(folder, "users")
        line = (f"{user}:0:{'0' * 32}:{nt_hash(password).hex().upper()}:[U]:LCT-00000000\n")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(line)
        self.user = user

    def __repr__(self):
        return f"NtlmUserFile({self.user!r}, {'open' if self._finalizer.alive else 'removed'})"

    @property
    def closed(self):
        return not self._finalizer.alive

    def close(self):
        """Remove the file and its folder; idempotent."""
        self._finalizer()

    @contextlib.contextmanager
    def active(self):
        """``$NTLM_USER_FILE`` names this file while the block runs (under a
        process-wide lock; the former value is restored)."""
        with _ENV_LOCK:
            if self.closed:
                raise RuntimeError("the NTLM credential file was removed: the server stopped")
            old = os.environ.get("NTLM_USER_FILE")
            os.environ["NTLM_USER_FILE"] = self.path
            try:
                yield
            finally:
                if old is None:
                    os.environ.pop("NTLM_USER_FILE", None)
                else:
                    os.environ["NTLM_USER_FILE"] = old


# -- the framing -----------------------------------------------------------------------

def seal(context, body: bytes, content_type=_SOAP):
    """``(body, Content-Type)``: ``body`` sealed with ``context`` and framed
    as MS-WSMV 2.2.9.1 says."""
    result = context.wrap_winrm(body)
    head = (f"--{_BOUNDARY}\r\n\tContent-Type: {ENCRYPTED_PROTOCOL}\r\n"
            f"\tOriginalContent: type={content_type};Length={len(body)}\r\n"
            f"--{_BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n").encode("ascii")
    return (head + struct.pack("<I", len(result.header)) + result.header + result.data +
            f"--{_BOUNDARY}--\r\n".encode("ascii")), _ENCRYPTED_TYPE


class FramingError(ValueError):
    """A sealed message that cannot be read (one line)."""


def _boundary_of(content_type):
    match = re.search(r'boundary\s*=\s*"([^"]{1,70})"|boundary\s*=\s*([^;\s]{1,70})',
                      content_type, re.I)
    if not match:
        raise FramingError("a multipart/encrypted Content-Type without a boundary")
    if not re.search(rf'protocol\s*=\s*"?{re.escape(ENCRYPTED_PROTOCOL)}"?', content_type,
                     re.I):
        raise FramingError(f"a multipart/encrypted protocol other than {ENCRYPTED_PROTOCOL}")
    return (match.group(1) or match.group(2)).encode("ascii", "replace")


def unseal(context, body: bytes, content_type: str) -> bytes:
    """The envelope in a sealed message (FramingError if it is not framed as
    :func:`seal` frames it, or its length is not the announced one;
    pyspnego's error if the signature does not verify)."""
    boundary = b"--" + _boundary_of(content_type)
    first, sep, rest = body.partition(boundary + b"\r\n")
    if first.strip() or not sep:
        raise FramingError("the sealed message does not start with its boundary")
    header, sep, rest = rest.partition(boundary + b"\r\n")
    if not sep:
        raise FramingError("the sealed message has no second part")
    fields = {}
    for line in header.decode("latin-1").splitlines():
        name, _, value = line.strip().partition(":")
        fields[name.strip().lower()] = value.strip()
    if fields.get("content-type", "").lower() != ENCRYPTED_PROTOCOL.lower():
        raise FramingError("the first part is not of type " + ENCRYPTED_PROTOCOL)
    length = re.search(r"(?:^|;)\s*Length\s*=\s*(\d{1,9})\s*(?:;|$)",
                       fields.get("originalcontent", ""), re.I)
    if not length:
        raise FramingError("the first part gives no OriginalContent length")
    marker = b"Content-Type: application/octet-stream\r\n"
    start = rest.find(marker)
    end = rest.rfind(boundary + b"--")
    if start < 0 or end < start or rest[:start].strip():
        raise FramingError("the second part is not an application/octet-stream one")
    blob = rest[start + len(marker):end]
    if len(blob) < 4:
        raise FramingError("the sealed part is too short")
    size = struct.unpack("<I", blob[:4])[0]
    if not 0 < size <= len(blob) - 4:
        raise FramingError(f"the signature length {size} does not fit the sealed part")
    data = context.unwrap_winrm(blob[4:4 + size], blob[4 + size:])
    if len(data) != int(length.group(1)):
        raise FramingError(f"the envelope is {len(data)} octets, not the "
                           f"{length.group(1)} announced")
    return data


# -- the gate ----------------------------------------------------------------------------

class _Session:
    """One connection's security context."""

    __slots__ = ("context", "scheme", "lock")

    def __init__(self, context, scheme):
        self.context, self.scheme, self.lock = context, scheme, threading.Lock()


class Admission:
    """What :meth:`WsmanGate.admit` decided for a request: ``answer`` (a
    handshake leg to send back as it is), or a request to process --
    ``encrypted`` ones are read with :meth:`open` and answered through
    :meth:`seal`."""

    def __init__(self, answer=None, session=None, encrypted=False, headers=()):
        self.answer, self.session, self.encrypted = answer, session, encrypted
        self.headers = list(headers)  # e.g. the last handshake token

    def open(self, environ, body):
        try:
            with self.session.lock:
                return unseal(self.session.context, body, environ.get("CONTENT_TYPE", ""))
        except Exception as exc:  # noqa: BLE001 -- FramingError, pyspnego's errors
            self.session.context = None  # its RC4 stream is out of step: never used again
            what = "could not be read" if isinstance(exc, FramingError) else \
                "failed its signature check"
            raise HttpError(400, None, f"the sealed message {what} ({type(exc).__name__}: "
                                       f"{one_line(exc)[:200]}); authenticate again") from None

    def seal(self, answer):
        status, headers, body = answer
        headers = list(headers) + self.headers
        if not self.encrypted:
            return status, headers, body
        with self.session.lock:
            ctype = next((v for k, v in headers if k.lower() == "content-type"), _SOAP)
            sealed, ctype = seal(self.session.context, body, ctype)
        return status, [(k, v) for k, v in headers if k.lower() != "content-type"] + \
            [("Content-Type", ctype)], sealed


_PASS = Admission()


class WsmanGate:
    """Basic and/or NTLM for one mounted application (see the module docstring).

    ``basic``: the server's :class:`~wbemconform.server.auth.BasicAuth`;
    ``schemes``: the accepted ones (:data:`AUTH_SCHEMES`); ``ntlm``: the
    :class:`NtlmUserFile` when ``"ntlm"`` is among them."""

    def __init__(self, basic, schemes=("basic",), ntlm=None):
        self.basic = basic
        self.schemes = tuple(schemes)
        self.ntlm = ntlm if "ntlm" in self.schemes else None
        self._sessions = weakref.WeakKeyDictionary()  # connection key -> _Session
        self._lock = threading.Lock()

    def challenges(self):
        headers = []
        if self.ntlm is not None:
            headers += [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
        if "basic" in self.schemes:
            headers += challenge()
        return headers or [("WWW-Authenticate", f'Basic realm="{REALM}"')]

    def _refuse(self, detail="authentication required"):
        return HttpError(401, None, detail, self.challenges())

    def _session(self, key):
        if key is None:
            return None
        with self._lock:
            return self._sessions.get(key)

    def admit(self, environ):
        """An :class:`Admission` for a request; HttpError 401 (the challenges)
        or 400 (plain over HTTP on an NTLM connection) otherwise."""
        if not self.basic.required:
            return _PASS
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.strip().partition(" ")
        key = environ.get(CONNECTION_KEY)
        if self.ntlm is not None and scheme.lower() in _HANDSHAKE_SCHEMES and key is not None:
            return self._handshake(environ, _HANDSHAKE_SCHEMES[scheme.lower()], token, key)
        session = self._session(key) if self.ntlm is not None else None
        if session is not None and session.context is not None and not header:
            return self._admitted(environ, session)
        if scheme.lower() == "basic" and "basic" in self.schemes:
            try:
                self.basic.check(environ)
            except HttpError:
                raise self._refuse() from None
            return _PASS
        raise self._refuse()

    def _admitted(self, environ, session, headers=()):
        encrypted = environ.get("CONTENT_TYPE", "").lower().startswith("multipart/encrypted")
        if not encrypted and environ.get("wsgi.url_scheme") != "https":
            raise HttpError(400, None, "a plain message on an NTLM-authenticated connection "
                                       "over HTTP is refused: seal it (MS-WSMV 2.2.9.1)")
        return Admission(session=session, encrypted=encrypted, headers=headers)

    def _handshake(self, environ, scheme, token, key):
        import spnego  # imported when used: servers without NTLM need none of it

        peer = f"{environ.get('REMOTE_ADDR', '?')}:{environ.get('REMOTE_PORT', '?')}"
        try:
            data = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not data:
            raise self._refuse("an empty or malformed authentication token")
        raw_ntlm = data.startswith(b"NTLMSSP\0")
        session = self._session(key)
        going = session is not None and session.context is not None and \
            not session.context.complete
        if raw_ntlm:
            starting = data[8:12] == b"\x01\0\0\0"  # an NTLM NEGOTIATE message
        else:  # SPNEGO: a NegTokenInit (0x60) starts, a NegTokenResp (0xa1) goes on
            starting = not (going and data[:1] == b"\xa1")
        try:
            if not starting and not going:
                raise ValueError("an authentication message out of order (no handshake "
                                 "begun on this connection)")
            with self.ntlm.active():
                if starting:
                    options = spnego.NegotiateOptions.use_ntlm if raw_ntlm else \
                        spnego.NegotiateOptions.use_negotiate
                    session = _Session(spnego.server(protocol="ntlm" if raw_ntlm else
                                                     "negotiate", options=options,
                                                     service="HTTP"), scheme)
                    with self._lock:
                        self._sessions[key] = session
                out = session.context.step(data)
        except Exception as exc:  # noqa: BLE001 -- pyspnego's errors: one line, a 401
            with self._lock:
                self._sessions.pop(key, None)
            LOG.info("WS-Management: %s authentication from %s refused: %s: %s", scheme, peer,
                     type(exc).__name__, one_line(exc)[:200])
            raise self._refuse(f"{scheme} authentication failed") from None
        headers = [("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode('ascii')}")] \
            if out else []
        if not session.context.complete:
            return Admission(answer=("401 Unauthorized", headers, b""))
        LOG.debug("WS-Management: %s authentication from %s complete", scheme, peer)
        if (environ.get("CONTENT_LENGTH") or "0").strip() in ("", "0"):
            return Admission(answer=("200 OK", headers, b""))
        return self._admitted(environ, session, headers)
