"""Hostile HTTP(S) servers on 127.0.0.1, for the client side's transport tests.

Each server is a context manager yielding a :class:`Server` (``.url``,
``.port``, ``.requests``: what it received). It answers every connection with
one *responder*: a function ``respond(request, out)`` that writes raw bytes with
``out.send(data)`` / ``out.trickle(data, interval)`` and may stop early when
``out.stopping`` is set. Every server is bounded: a responder runs at most
``max_seconds`` (default 60), the accept loop ends when the ``with`` block
does, and every socket is closed then. Responders provided here:

* :func:`ok` -- a valid, empty CIM-XML answer to any intrinsic operation;
* :func:`trickle` -- the answer dribbles out one byte per interval (in the
  headers or in the body), forever;
* :func:`padded` -- a valid answer whose IRETURNVALUE holds about ``size``
  bytes of filler (newlines by default), optionally with a lying Content-Length;
* :func:`endless` -- 200 OK without Content-Length, then body bytes as fast as
  the socket takes them, until the client goes away;
* :func:`redirect` -- a 3xx with a Location header;
* :func:`cim_error_echoing_credentials` -- a CIM-XML ERROR whose DESCRIPTION
  holds the Basic-auth user and password the request carried (decoded);
* :func:`http_error_echoing_credentials` -- an HTTP error whose CIMError and
  PGErrorDetail headers, reason phrase and body hold them.

:func:`throwaway_tls` makes a CA and a server certificate for 127.0.0.1 with
the ``cryptography`` package or the ``openssl`` command (skipping the test,
saying so, when neither is there).
"""

from __future__ import annotations

import base64
import contextlib
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

__all__ = ["Server", "serve", "ok", "trickle", "padded", "endless", "redirect",
           "cim_error_echoing_credentials", "http_error_echoing_credentials",
           "throwaway_tls", "cim_answer"]


@dataclass
class Request:
    """One request as received."""

    method: str
    path: str
    headers: dict  # lower-case name -> value
    body: bytes
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # a test shows no password

    @property
    def operation(self) -> str:
        m = re.search(rb'<I?METHODCALL\s+NAME="([^"]+)"', self.body)
        return m.group(1).decode() if m else "EnumerateInstanceNames"

    @property
    def message_id(self) -> str:
        m = re.search(rb'<MESSAGE\s+ID="([^"]+)"', self.body)
        return m.group(1).decode() if m else "1001"


class _Out:
    """What a responder writes to; every wait ends when the server stops."""

    def __init__(self, sock, stopping, deadline):
        self.sock = sock
        self.stopping = stopping
        self.deadline = deadline
        self.sent = 0

    @property
    def over(self) -> bool:
        return self.stopping.is_set() or time.monotonic() > self.deadline

    def send(self, data: bytes):
        self.sock.sendall(data)
        self.sent += len(data)

    def trickle(self, data: bytes, interval: float):
        """Send ``data`` one byte per ``interval`` seconds (until stopped)."""
        for i in range(len(data)):
            if self.over:
                return
            self.send(data[i:i + 1])
            self.stopping.wait(interval)


@dataclass
class Server:
    url: str
    port: int
    requests: list = field(default_factory=list)


def _read_request(sock) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = (lines[0].split(" ") + ["", ""])[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    user = password = None
    auth = headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        decoded = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
        user, _, password = decoded.partition(":")
    return Request(method, path, headers, body, user, password)


@contextlib.contextmanager
def serve(respond, *, tls: ssl.SSLContext | None = None, max_seconds: float = 60.0):
    """Run ``respond`` for every connection to a fresh port on 127.0.0.1."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    server = Server(f"{'https' if tls else 'http'}://127.0.0.1:{port}", port)
    stopping = threading.Event()
    clients, threads = [], []

    def handle(sock):
        try:
            sock.settimeout(10)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_side=True)
                clients.append(sock)
            request = _read_request(sock)
            if request is None:
                return
            server.requests.append(request)
            respond(request, _Out(sock, stopping, time.monotonic() + max_seconds))
        except (OSError, ssl.SSLError):
            pass  # the client went away (or refused our certificate): that is its right
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def accept_loop():
        while not stopping.is_set():
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            clients.append(sock)
            t = threading.Thread(target=handle, args=(sock,), daemon=True,
                                 name=f"hostile-{port}")
            threads.append(t)
            t.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True, name=f"hostile-accept-{port}")
    acceptor.start()
    try:
        yield server
    finally:
        stopping.set()
        acceptor.join(5)
        listener.close()
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for t in threads:
            t.join(5)


# -- CIM-XML --------------------------------------------------------------------

def cim_answer(request: Request, inner: bytes = b"<IRETURNVALUE></IRETURNVALUE>") -> bytes:
    """A CIM-XML MethodResponse to ``request`` with ``inner`` in IMETHODRESPONSE."""
    return (b'<?xml version="1.0" encoding="utf-8" ?>\n'
            b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="'
            + request.message_id.encode() + b'" PROTOCOLVERSION="1.0"><SIMPLERSP>'
            b'<IMETHODRESPONSE NAME="' + request.operation.encode() + b'">'
            + inner + b"</IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>\n")


def _head(status="200 OK", length=None, extra=()):
    lines = [f"HTTP/1.1 {status}", 'Content-Type: application/xml; charset="utf-8"',
             "CIMOperation: MethodResponse", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _answer(out, body: bytes, status="200 OK", extra=()):
    out.send(_head(status, len(body), extra) + body)


# -- responders ------------------------------------------------------------------

def ok(extra=()):
    """A valid, empty answer to any intrinsic operation (``extra``: more header lines)."""
    def respond(request, out):
        _answer(out, cim_answer(request), extra=extra)
    return respond


def answers_only_with_credentials():
    """OMI's HTTP port: a request without an Authorization header gets no
    answer at all (the connection stays open), one with any gets 401; a TLS
    ClientHello, which never ends a header block, gets nothing either."""
    def respond(request, out):
        if "authorization" in request.headers:
            _answer(out, b"", "401 Unauthorized", ['WWW-Authenticate: Basic realm="WSMAN"'])
            return
        while not out.over:
            out.stopping.wait(0.05)
    return respond


def trickle(phase="headers", interval=1.0):
    """One byte per ``interval`` seconds, forever: in the status line and
    headers (``phase="headers"``) or in the body after complete headers that
    announce 1 MB (``phase="body"``)."""
    def respond(request, out):
        if phase == "body":
            out.send(_head(length=1 << 20))
            while not out.over:
                out.trickle(b"\n" * 64, interval)
            return
        out.trickle(b"HTTP/1.1 200 OK\r\n", interval)
        while not out.over:
            out.trickle(b"X-Trickle: " + b"a" * 64 + b"\r\n", interval)
    return respond


def padded(size, filler=b"\n", declared=None):
    """A valid answer whose IRETURNVALUE holds ``filler`` repeated to about
    ``size`` bytes (whole repetitions); ``declared`` overrides the Content-Length."""
    def respond(request, out):
        pad = filler * max(1, size // len(filler))
        body = cim_answer(request, b"<IRETURNVALUE>" + pad + b"</IRETURNVALUE>")
        out.send(_head(length=declared if declared is not None else len(body)))
        view = memoryview(body)
        for i in range(0, len(body), 1 << 16):
            if out.over:
                return
            out.send(view[i:i + (1 << 16)])
    return respond


def endless(chunk=b"\n" * 65536):
    """200 OK with no Content-Length, then ``chunk`` after ``chunk`` until the
    client goes away (or the server stops)."""
    def respond(request, out):
        out.send(_head())
        out.send(cim_answer(request, b"<IRETURNVALUE>").rsplit(b"</IMETHODRESPONSE>", 1)[0])
        while not out.over:
            out.send(chunk)
    return respond


def redirect(location, status=307):
    """``status`` with ``Location: location`` (and a small body)."""
    def respond(request, out):
        body = b"moved"
        out.send((f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
    return respond


def _creds_text(request):
    return f"user={request.user} password={request.password}"


def cim_error_echoing_credentials(code=1):
    """A CIM-XML ERROR (CIM_ERR_FAILED by default) whose DESCRIPTION repeats
    the Basic-auth user and password the request carried."""
    def respond(request, out):
        desc = escape(f"access check failed for {_creds_text(request)}", quote=True)
        inner = f'<ERROR CODE="{code}" DESCRIPTION="{desc}"/>'.encode("utf-8")
        _answer(out, cim_answer(request, inner))
    return respond


def http_error_echoing_credentials(status=500):
    """An HTTP error whose reason phrase, CIMError and PGErrorDetail headers
    and body repeat the Basic-auth user and password the request carried."""
    def respond(request, out):
        text = _creds_text(request)
        body = f"<html><body>denied: {escape(text)}</body></html>".encode()
        reason = text.encode("latin-1", "replace").decode("latin-1")
        extra = [f"CIMError: request-not-valid {reason}",
                 f"PGErrorDetail: {quote(text)}",
                 f'WWW-Authenticate: Basic realm="{reason}"']
        _answer(out, body, status=f"{status} {reason}", extra=extra)
    return respond


# -- TLS ---------------------------------------------------------------------------

@dataclass
class Tls:
    ca: Path       # the CA certificate (PEM): what a client must trust
    cert: Path     # the server certificate for 127.0.0.1 (PEM)
    key: Path      # its key (PEM)
    other_ca: Path  # an unrelated CA (PEM): a bundle that does NOT verify the server

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def throwaway_tls(directory) -> Tls:
    """A throwaway CA, a server certificate it signed for 127.0.0.1, and an
    unrelated CA, in ``directory``. Skips the calling test when neither the
    ``cryptography`` package nor the ``openssl`` command is available."""
    import pytest
    directory = Path(directory)
    try:
        import cryptography  # noqa: F401
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("a TLS test needs the 'cryptography' package or the 'openssl' "
                        "command to make a throwaway certificate; neither is installed")
        return _tls_with_openssl(directory)
    return _tls_with_cryptography(directory)


def _tls_with_openssl(d: Path) -> Tls:
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    for name in ("ca", "other"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.pem"),
            "-days", "2", "-subj", f"/CN=wbemconform throwaway {name} CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"),
        "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n"
                               "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"),
        "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-out", str(d / "server.pem"),
        "-days", "2", "-extfile", str(d / "ext.cnf"))
    return Tls(d / "ca.pem", d / "server.pem", d / "server.key", d / "other.pem")


def _tls_with_cryptography(d: Path) -> Tls:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key, path):
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    def ca(cn, path):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key

    ca_key = ca("wbemconform throwaway ca CA", d / "ca.pem")
    ca("wbemconform throwaway other CA", d / "other.pem")
    key = ec.generate_private_key(ec.SECP256R1())
    write_key(key, d / "server.key")
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1"))
            .issuer_name(name("wbemconform throwaway ca CA")).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Tls(d / "ca.pem", d / "server.pem", d / "server.key", d / "other.pem")
