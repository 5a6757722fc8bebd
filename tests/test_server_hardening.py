"""The served mock (wbemconform.server) against hostile and broken clients:
slow clients, expensive bodies, entity declarations in any encoding, request
framing that could desynchronise a connection, and writes to a read-only
server. Every test drives a loopback server it starts itself, with socket
timeouts on every read, and bounded loops."""

import codecs
import functools
import http.client
import re
import socket
import threading
import time

import pytest
import pywbem
from pywbem import CIMError

from cimxml_clients import ENUM_NAMES, INTEROP, TIMEOUT, normal_client_seconds
from wbemconform.mock import connect
from wbemconform.server import MAX_REQUEST_BYTES, is_loopback, parse_request, serve



CIM_HEADERS = (b"Content-Type: application/xml; charset=\"utf-8\"\r\n"
               b"CIMOperation: MethodCall\r\nCIMMethod: EnumerateInstanceNames\r\n"
               b"CIMObject: root%2Finterop\r\n")


@pytest.fixture(scope="module")
def server():
    with serve(connect()) as srv:
        yield srv


# -- helpers ---------------------------------------------------------------------

def head(extra=b"", host=b"127.0.0.1"):
    return b"POST /cimom HTTP/1.1\r\nHost: " + host + b"\r\n" + CIM_HEADERS + extra


def exchange(port, data, timeout=TIMEOUT, linger=None):
    """Send raw bytes; (status, headers, body, closed) of the first answer, or
    None if the server closed the connection without one. ``closed``: the
    server closed the connection within ``linger`` seconds of the answer
    (None: not checked)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:  # the server answered early and closed
            pass
        resp = http.client.HTTPResponse(sock)
        try:
            resp.begin()
            body = resp.read()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        if linger is None:
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, None
        sock.settimeout(linger)
        try:
            closed = sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            closed = True
        except TimeoutError:
            closed = False
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body, closed




class Trickle:
    """Sockets that send a request one byte at a time, in a bounded thread."""

    def __init__(self, port, count, data, interval=0.5, rounds=40):
        self.socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            self.socks.append(sock)
        self.data, self.interval, self.rounds = data, interval, rounds
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        for i in range(min(self.rounds, len(self.data))):
            for sock in self.socks:
                try:
                    sock.send(self.data[i:i + 1])
                except OSError:
                    pass  # cut off by the server: what it should do
            if self.stop.wait(self.interval):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(TIMEOUT)
        for sock in self.socks:
            sock.close()


# -- 1. slow clients --------------------------------------------------------------

def test_slow_header_clients_do_not_starve_a_normal_client(server):
    """16 clients trickling their headers (more than there are workers) while a
    normal client asks: it is answered within 2 s."""
    with Trickle(server.port, 16, head(b"X-Slow: " + b"z" * 100)):
        time.sleep(1.2)  # every slow client has started and sent bytes
        assert normal_client_seconds(server.url) < 2


def test_slow_body_clients_do_not_starve_a_normal_client(server):
    body_head = head(b"Content-Length: %d\r\n\r\n" % len(ENUM_NAMES))
    with Trickle(server.port, 16, body_head + ENUM_NAMES, interval=0.05, rounds=2000) as t:
        time.sleep(1.2)
        t.interval = 0.5
        assert normal_client_seconds(server.url) < 2


def test_slow_client_is_cut_off_at_the_request_deadline():
    """A request whose head or body is not complete within ``request_timeout``
    seconds of its first byte is answered 408 and the connection closed."""
    with serve(connect(), request_timeout=1) as srv:
        for data in (head(b"X-Slow: " + b"z" * 100),
                     head(b"Content-Length: %d\r\n\r\n" % len(ENUM_NAMES)) + ENUM_NAMES):
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
            with sock:
                start = time.monotonic()
                sock.sendall(data[:len(data) - 200])
                answer, sent = b"", len(data) - 200
                while time.monotonic() - start < 4:  # bounded: the deadline is 1 s
                    try:
                        sock.send(data[sent:sent + 1])
                        sent += 1
                    except OSError:
                        break
                    sock.settimeout(0.2)
                    try:
                        chunk = sock.recv(4096)
                    except TimeoutError:
                        continue
                    answer += chunk
                    if not chunk or b"\r\n\r\n" in answer:
                        break
                elapsed = time.monotonic() - start
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert 0.9 < elapsed < 3, elapsed
        assert normal_client_seconds(srv.url) < 2


# -- 2. expensive bodies -------------------------------------------------------------

def _fill(size, unit):
    return unit * max(1, size // len(unit))


_PRE = (b'<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
        b'<MESSAGE ID="42" PROTOCOLVERSION="1.0"><SIMPLEREQ>'
        b'<IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH>'
        b'<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
        b'<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_RegisteredProfile"/>'
        b'</IPARAMVALUE>')
_POST = b'</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>'


@functools.lru_cache(maxsize=2)
def worst_bodies(size):
    """Bodies of about ``size`` bytes in the shapes that cost a parser most."""
    room = size - len(_PRE) - len(_POST) - 200
    plist = b'<IPARAMVALUE NAME="PropertyList"><VALUE.ARRAY>%s</VALUE.ARRAY></IPARAMVALUE>'
    role = b'<IPARAMVALUE NAME="Role"><VALUE>%s</VALUE></IPARAMVALUE>'
    attrs, length = [], 0
    while length < room:
        attrs.append(b'a%d="x"' % len(attrs))
        length += len(attrs[-1]) + 1
    attrs = b" ".join(attrs)
    return {
        "newlines": _PRE.replace(b"<MESSAGE", _fill(room, b"\n") + b"<MESSAGE", 1) + _POST,
        "newlines-in-text": _PRE + role % _fill(room, b"\n") + _POST,
        "crlf-in-text": _PRE + role % _fill(room, b"\r\n") + _POST,
        "whitespace-between-elements": _PRE + _fill(room, b" \n\t") + _POST,
        "comments": _PRE + _fill(room, b"<!---->\n") + _POST,
        "many-elements": _PRE + plist % _fill(room, b"<VALUE>a</VALUE>") + _POST,
        "many-empty-elements": _PRE + plist % _fill(room, b"<VALUE/>") + _POST,
        "many-attributes": _PRE.replace(b'<IMETHODCALL NAME="EnumerateInstances"',
                                        b'<IMETHODCALL NAME="EnumerateInstances" ' + attrs) + _POST,
        "attributes-on-many-elements": _PRE + plist % _fill(
            room, b'<VALUE ' + b" ".join(b'a%d="x"' % i for i in range(30)) + b'/>') + _POST,
        "deep-nesting": _PRE + b"<V>" * (room // 7) + b"</V>" * (room // 7) + _POST,
        "long-text": _PRE + role % _fill(room, b"x") + _POST,
        "character-references": _PRE + role % _fill(room, b"&#10;") + _POST,
        "entity-references": _PRE + role % _fill(room, b"&amp;") + _POST,
        "long-attribute": _PRE.replace(b'NAME="root"', b'NAME="%s"' % _fill(room, b"r")) + _POST,
        "long-element-name": _PRE + b"<" + _fill(room, b"N") + b"/>" + _POST,
    }


@pytest.mark.parametrize("shape", sorted(worst_bodies(1000)))
def test_worst_case_parse_of_an_accepted_size_is_under_a_second(shape):
    """The largest body the server accepts, in each expensive shape, is parsed
    (or refused) in under a second of CPU."""
    body = worst_bodies(MAX_REQUEST_BYTES)[shape]
    assert MAX_REQUEST_BYTES - 1000 < len(body) <= MAX_REQUEST_BYTES
    start = time.thread_time()
    try:
        parse_request(body)
    except Exception as exc:  # refused: fine, as long as it is quick and one line
        assert "\n" not in str(exc) and len(str(exc)) < 1000, str(exc)[:2000]
    assert time.thread_time() - start < 1.0


def test_parse_time_grows_linearly_with_newlines():
    """The cost that was quadratic in the text length (pywbem's SAX handler
    concatenating each text piece): 8x the newlines cost well under 64x."""
    def cost(n):
        body = _PRE.replace(b"<MESSAGE", b"\n" * n + b"<MESSAGE", 1) + _POST
        best = None
        for _ in range(3):
            start = time.thread_time()
            parse_request(body)
            took = time.thread_time() - start
            best = took if best is None else min(best, took)
        return best
    small, large = cost(100_000), cost(800_000)
    assert large < max(0.2, 16 * small), (small, large)


def test_expensive_bodies_do_not_hold_up_a_normal_client(server):
    """8 clients posting 640 KB of newlines at once; a normal client is still
    answered within 2 s, and each of them gets an answer."""
    body = ENUM_NAMES.replace(b"<MESSAGE", b"\n" * 640_000 + b"<MESSAGE", 1)
    data = head(b"Content-Length: %d\r\n\r\n" % len(body)) + body
    answers = []

    def post():
        answers.append(exchange(server.port, data, timeout=10))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    took = normal_client_seconds(server.url, timeout=10)
    for t in threads:
        t.join(15)
    assert took < 2
    assert len(answers) == 8 and all(a is not None and a[0] in (200, 413) for a in answers), \
        [a and a[:2] for a in answers]


def test_body_over_the_limit_is_413(server):
    answer = exchange(server.port, head(b"Content-Length: %d\r\n\r\n" % (MAX_REQUEST_BYTES + 1)),
                      linger=1)
    assert answer is not None and answer[0] == 413 and answer[3]


# -- 5. entity and DOCTYPE declarations in any encoding ------------------------------

ENTITY_REQUEST = (
    '<?xml version="1.0" encoding="{enc}" ?>\n'
    '<!DOCTYPE CIM [<!ENTITY cls "CIM_RegisteredProfile">]>\n'
    '<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="7" PROTOCOLVERSION="1.0">'
    '<SIMPLEREQ><IMETHODCALL NAME="EnumerateInstanceNames"><LOCALNAMESPACEPATH>'
    '<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
    '<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="&cls;"/></IPARAMVALUE>'
    '</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')


def _encoded(text, codec):
    bom = {"utf-16": b"", "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-8-sig": b""}.get(codec, b"")
    declared = {"utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-8-sig": "utf-8"}.get(
        codec, codec)
    return bom + text.replace("{enc}", declared).encode(codec)


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                   "iso-8859-1", "us-ascii"])
@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE CIM [<!ENTITY cls "CIM_RegisteredProfile">]>\n',
    '<!DOCTYPE CIM [<!ENTITY % p "x"> <!ENTITY cls "CIM_RegisteredProfile">]>\n',
    '<!DOCTYPE CIM SYSTEM "http://127.0.0.1:9/cim.dtd">\n',
], ids=["internal-entity", "parameter-entity", "external-dtd"])
def test_doctype_and_entities_refused_in_every_encoding(server, codec, doctype):
    text = ENTITY_REQUEST.replace('<!DOCTYPE CIM [<!ENTITY cls "CIM_RegisteredProfile">]>\n',
                                  doctype)
    if "ENTITY cls" not in doctype:
        text = text.replace("&cls;", "CIM_RegisteredProfile")
    body = _encoded(text, codec)
    answer = exchange(server.port, head(b"Content-Length: %d\r\n\r\n" % len(body)) + body)
    assert answer is not None
    status, headers, text_back, _ = answer
    assert status == 400, (status, text_back[:300])
    assert headers.get("cimerror") == "request-not-valid", headers
    assert b"DOCTYPE" in text_back
    assert b"CIM_RegisteredProfile" not in text_back


def test_non_utf8_request_without_doctype_is_read_correctly(server):
    """The encoding named by the XML declaration or BOM is honoured: the same
    request in UTF-16 is answered like the UTF-8 one."""
    body = ENUM_NAMES.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"') \
        .encode("utf-16")
    status, _, text, _ = exchange(server.port,
                                  head(b"Content-Length: %d\r\n\r\n" % len(body)) + body)
    assert status == 200 and b"INSTANCENAME" in text


# -- 6. request framing ---------------------------------------------------------------

def _chunked(body, size_line=None):
    size = size_line if size_line is not None else b"%x" % len(body)
    return size + b"\r\n" + body + b"\r\n0\r\n\r\n"


CL = b"Content-Length: %d\r\n" % len(ENUM_NAMES)
TE = b"Transfer-Encoding: chunked\r\n"

#: malformed requests: name -> raw bytes; each must get a 4xx/5xx (not 500) and
#: a closed connection, never a traceback in the log
MALFORMED = {
    "content-length-smaller-than-body": head(b"Content-Length: %d\r\n\r\n"
                                             % (len(ENUM_NAMES) - 10)) + ENUM_NAMES,
    "content-length-smaller-whole-request-after":
        head(CL + b"\r\n") + ENUM_NAMES + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "two-content-lengths-same": head(CL + CL + b"\r\n") + ENUM_NAMES,
    "two-content-lengths-differ": head(CL + b"Content-Length: 5\r\n\r\n") + ENUM_NAMES,
    "content-length-list": head(b"Content-Length: %d, %d\r\n\r\n"
                                % (len(ENUM_NAMES), len(ENUM_NAMES))) + ENUM_NAMES,
    "transfer-encoding-and-content-length": head(TE + CL + b"\r\n") + _chunked(ENUM_NAMES),
    "content-length-and-transfer-encoding": head(CL + TE + b"\r\n") + _chunked(ENUM_NAMES),
    "content-length-plus-sign": head(b"Content-Length: +%d\r\n\r\n" % len(ENUM_NAMES))
    + ENUM_NAMES,
    "content-length-hex": head(b"Content-Length: 0x%x\r\n\r\n" % len(ENUM_NAMES)) + ENUM_NAMES,
    "content-length-negative": head(b"Content-Length: -1\r\n\r\n") + ENUM_NAMES,
    "content-length-empty": head(b"Content-Length: \r\n\r\n") + ENUM_NAMES,
    "content-length-huge": head(b"Content-Length: 99999999999999999999999999\r\n\r\n"),
    "chunk-size-overflow": head(TE + b"\r\n") + _chunked(ENUM_NAMES, b"ffffffffffffffff"),
    "chunk-size-very-long": head(TE + b"\r\n") + _chunked(ENUM_NAMES, b"1" * 200),
    "chunk-size-not-hex": head(TE + b"\r\n") + _chunked(ENUM_NAMES, b"zz"),
    "chunk-size-negative": head(TE + b"\r\n") + _chunked(ENUM_NAMES, b"-5"),
    "chunk-size-0x": head(TE + b"\r\n") + _chunked(ENUM_NAMES, b"0x%x" % len(ENUM_NAMES)),
    "chunk-size-too-small": head(TE + b"\r\n") + _chunked(ENUM_NAMES, b"%x"
                                                          % (len(ENUM_NAMES) - 5)),
    "chunk-without-crlf": head(TE + b"\r\n") + b"%x\r\n" % len(ENUM_NAMES) + ENUM_NAMES
    + b"XX0\r\n\r\n",
    "chunked-over-the-limit": head(TE + b"\r\n") + b"%x\r\n" % (MAX_REQUEST_BYTES + 1),
    "transfer-encoding-twice": head(TE + TE + b"\r\n") + _chunked(ENUM_NAMES),
    "transfer-encoding-chunked-twice": head(b"Transfer-Encoding: chunked, chunked\r\n\r\n")
    + _chunked(ENUM_NAMES),
    "transfer-encoding-gzip": head(b"Transfer-Encoding: gzip, chunked\r\n\r\n")
    + _chunked(ENUM_NAMES),
    "transfer-encoding-identity": head(b"Transfer-Encoding: identity\r\n" + CL + b"\r\n")
    + ENUM_NAMES,
    "transfer-encoding-http10": head(TE + b"\r\n").replace(b"HTTP/1.1", b"HTTP/1.0")
    + _chunked(ENUM_NAMES),
    "header-obs-fold": head(b"X-Folded: a\r\n b\r\n" + CL + b"\r\n") + ENUM_NAMES,
    "header-space-before-colon": head(b"Content-Length : %d\r\n\r\n" % len(ENUM_NAMES))
    + ENUM_NAMES,
    "header-without-colon": head(b"NoColonHere\r\n" + CL + b"\r\n") + ENUM_NAMES,
    "header-with-nul": head(b"X-Nul: a\x00b\r\n" + CL + b"\r\n") + ENUM_NAMES,
    "header-bare-lf": head(CL + b"X-Bare: lf\n\r\n") + ENUM_NAMES,
    "headers-too-large": head(b"X-Big: " + b"x" * 100_000 + b"\r\n" + CL + b"\r\n")
    + ENUM_NAMES,
    "too-many-headers": head(b"".join(b"X-H%d: v\r\n" % i for i in range(500)) + CL
                             + b"\r\n") + ENUM_NAMES,
    "no-host-http11": head(CL + b"\r\n").replace(b"Host: 127.0.0.1\r\n", b"") + ENUM_NAMES,
    "two-hosts": head(b"Host: other\r\n" + CL + b"\r\n") + ENUM_NAMES,
    "request-line-garbage": b"\x00\x01\x02 garbage\r\n\r\n",
    "request-line-two-fields": b"POST /cimom\r\nHost: x\r\n\r\n",
    "request-line-http2": b"POST /cimom HTTP/2.0\r\nHost: x\r\n\r\n",
    "request-line-bad-version": b"POST /cimom HTTP/1.x\r\nHost: x\r\n\r\n",
    "request-line-huge": b"POST /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",
    "request-line-lf-only": b"POST /cimom HTTP/1.1\nHost: x\n\n",
    "expect-unknown": head(b"Expect: teapot\r\n" + CL + b"\r\n") + ENUM_NAMES,
    "tls-to-plain-port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
}




@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_framing_is_refused_and_closes(server, no_tracebacks, name):
    answer = exchange(server.port, MALFORMED[name], linger=1)
    if name == "tls-to-plain-port" and answer is None:
        return  # not HTTP at all: dropping it is an answer too
    assert answer is not None, "connection dropped without an answer"
    status, _, body, closed = answer
    assert 400 <= status < 600 and status != 500, (status, body)
    assert b"Traceback" not in body
    assert closed, "the connection stays open after a framing error"
    assert normal_client_seconds(server.url) < 2


def test_content_length_smaller_than_body_is_400(server):
    status, _, body, closed = exchange(server.port, MALFORMED["content-length-smaller-than-body"],
                                       linger=1)
    assert status == 400 and closed, (status, body)
    status, _, body, closed = exchange(
        server.port, MALFORMED["content-length-smaller-whole-request-after"], linger=1)
    assert status == 400 and closed, (status, body)


@pytest.mark.parametrize("name", ["two-content-lengths-same", "two-content-lengths-differ",
                                  "content-length-list", "transfer-encoding-and-content-length",
                                  "content-length-and-transfer-encoding", "chunk-size-overflow"])
def test_desync_framing_is_400(server, no_tracebacks, name):
    status, _, body, closed = exchange(server.port, MALFORMED[name], linger=1)
    assert status == 400 and closed, (status, body)


def test_valid_framings_still_work(server, no_tracebacks):
    """Exactly one Content-Length, or chunked (in several chunks, with an
    extension and a trailer), or Expect: 100-continue, on a kept-alive
    connection; one empty line before a request or after a body is tolerated
    (RFC 9112 section 2.2)."""
    half = len(ENUM_NAMES) // 2
    chunked = (b"%x;ext=1\r\n" % half + ENUM_NAMES[:half] + b"\r\n"
               + b"%X\r\n" % (len(ENUM_NAMES) - half) + ENUM_NAMES[half:] + b"\r\n"
               + b"0\r\nX-Trailer: t\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        for data in (head(CL + b"\r\n") + ENUM_NAMES,
                     head(CL + b"\r\n") + ENUM_NAMES + b"\r\n",  # CRLF after: tolerated
                     b"\r\n" + head(CL + b"\r\n") + ENUM_NAMES,  # CRLF before: tolerated
                     head(TE + b"\r\n") + chunked,
                     head(b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                          % len(ENUM_NAMES))):
            sock.sendall(data)
            if b"100-continue" in data:  # the body only after the interim answer
                interim = b""
                while not interim.endswith(b"\r\n\r\n") and len(interim) < 100:
                    interim += sock.recv(1)
                assert interim == b"HTTP/1.1 100 Continue\r\n\r\n", interim
                sock.sendall(ENUM_NAMES)
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            assert resp.status == 200, resp.read()
            assert b"INSTANCENAME" in resp.read()
            assert resp.getheader("Connection") is None  # kept alive


def test_fragmented_valid_request_is_served(server):
    """A request sent in small pieces (quickly) is one request."""
    data = head(CL + b"\r\n") + ENUM_NAMES
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        for i in range(0, len(data), 37):
            sock.sendall(data[i:i + 37])
            time.sleep(0.001)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        assert resp.status == 200 and b"INSTANCENAME" in resp.read()


# -- 7. read-only ---------------------------------------------------------------------

def _snapshot(conn):
    return (sorted(str(p) for p in conn.EnumerateInstanceNames("CIM_RegisteredProfile",
                                                               namespace=INTEROP)),
            {i["InstanceID"]: i["RegisteredName"]
             for i in conn.EnumerateInstances("CIM_RegisteredProfile", namespace=INTEROP)},
            sorted(conn.EnumerateClassNames(namespace="root/cimv2", DeepInheritance=True)),
            sorted(q.name for q in conn.EnumerateQualifiers(namespace="root/cimv2")))


def test_read_only_refuses_every_write():
    mock = connect()
    before = _snapshot(mock)
    with serve(mock, read_only=True) as srv:
        conn = pywbem.WBEMConnection(srv.url, default_namespace=INTEROP, timeout=TIMEOUT)
        profile = conn.EnumerateInstances("CIM_RegisteredProfile")[0]
        changed = profile.copy()
        changed["RegisteredName"] = "Tampered"
        klass = conn.GetClass("CIM_RegisteredProfile", LocalOnly=False)
        new_class = pywbem.CIMClass("Test_New", properties=[pywbem.CIMProperty(
            "K", None, type="string", qualifiers=[pywbem.CIMQualifier("Key", True)])])
        writes = {
            "CreateInstance": lambda: conn.CreateInstance(pywbem.CIMInstance(
                "CIM_RegisteredProfile", properties={"InstanceID": "new"}), namespace=INTEROP),
            "ModifyInstance": lambda: conn.ModifyInstance(changed),
            "DeleteInstance": lambda: conn.DeleteInstance(profile.path),
            "CreateClass": lambda: conn.CreateClass(new_class, namespace="root/cimv2"),
            "ModifyClass": lambda: conn.ModifyClass(klass),
            "DeleteClass": lambda: conn.DeleteClass("CIM_RegisteredProfile"),
            "SetQualifier": lambda: conn.SetQualifier(pywbem.CIMQualifierDeclaration(
                "Tampered", "boolean", scopes={"ANY": True}), namespace="root/cimv2"),
            "DeleteQualifier": lambda: conn.DeleteQualifier("Key", namespace="root/cimv2"),
            "InvokeMethod": lambda: conn.InvokeMethod("Reset", profile.path),
        }
        codes = {}
        for name, call in writes.items():
            try:
                call()
                codes[name] = "succeeded"
            except CIMError as exc:
                codes[name] = exc.status_code
        assert codes == {name: pywbem.CIM_ERR_ACCESS_DENIED for name in writes}, codes
        # reads still work
        assert len(conn.EnumerateInstanceNames("CIM_RegisteredProfile")) == 2
        result = conn.OpenEnumerateInstances("CIM_RegisteredProfile", MaxObjectCount=1)
        conn.CloseEnumeration(result.context)
        conn.close()
    assert _snapshot(mock) == before


def test_writable_by_default():
    """The default stays as it was: a ModifyInstance goes through."""
    mock = connect()
    with serve(mock) as srv:
        conn = pywbem.WBEMConnection(srv.url, default_namespace=INTEROP, timeout=TIMEOUT)
        profile = conn.EnumerateInstances("CIM_RegisteredProfile")[0]
        profile["RegisteredVersion"] = "9.9.9"
        conn.ModifyInstance(profile)
        assert conn.GetInstance(profile.path)["RegisteredVersion"] == "9.9.9"
        conn.close()


# -- 3., 4. credentials and exposure (the API; the CLI: test_cli_serve.py) -----------

@pytest.mark.parametrize("kwargs, message", [
    ({"password": "x"}, "a password is given without a user"),
    ({"user": "u", "password": ""}, "an empty password is not accepted"),
    ({"user": "u"}, "a password is required"),
    ({"user": "", "password": "x"}, "the user name is empty"),
    ({"host": "0.0.0.0"}, "0.0.0.0 is not a loopback address"),
    ({"host": "::"}, ":: is not a loopback address"),
    ({"host": ""}, "all interfaces is not a loopback address"),
    ({"request_timeout": 0}, "request_timeout must be a positive number"),
])
def test_serve_refuses_unsafe_settings(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        serve(connect(), **kwargs)


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("192.0.2.1", False),
    ("no-such-host.invalid", None),
])
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_remote_allowed_explicitly_or_with_authentication():
    """Either lifts the refusal: binding is tried (and fails: 192.0.2.1 is
    TEST-NET-1, not this host's; nothing is exposed)."""
    for kwargs in ({"allow_unauthenticated_remote": True}, {"user": "u", "password": "p"}):
        with pytest.raises(OSError) as err:
            serve(connect(), host="192.0.2.1", **kwargs)
        assert "loopback" not in str(err.value)


# -- connection limits -------------------------------------------------------------------

def test_idle_connections_are_closed_and_excess_ones_refused():
    with serve(connect(), idle_timeout=0.5, max_connections=2) as srv:
        first = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        second = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        with first, second:
            time.sleep(0.1)
            status, _, body, closed = exchange(srv.port, head(CL + b"\r\n") + ENUM_NAMES,
                                               linger=1)
            assert status == 503 and closed, body
            start = time.monotonic()
            assert first.recv(1) == b""  # closed by the server, idle
            assert time.monotonic() - start < 2
        assert normal_client_seconds(srv.url) < 2
