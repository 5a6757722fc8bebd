"""Reading one HTTP/1.1 request off a connection, whole and strictly
(:func:`read_request`), for the front end of :func:`wbemconform.server.serve`.

Framing is strict, so that a request can never be read two ways: exactly one
well-formed ``Content-Length`` or ``Transfer-Encoding: chunked`` (never
both), chunk sizes checked against the limit (:data:`MAX_REQUEST_BYTES`)
before anything is read, no bytes after the body (this server does not take
pipelined requests: CIM-XML requests are POSTs, which clients do not
pipeline), exactly one ``Host``, no obsolete line folding, no control
characters, header size and count limited (:data:`MAX_HEADER_BYTES`,
:data:`MAX_HEADER_FIELDS`). Anything else is a :class:`Reject`: the front
end answers a one-line 4xx and closes the connection.
"""

from __future__ import annotations

import re

#: Largest request body accepted (bytes); larger ones get HTTP 413. CIM-XML
#: requests are small (an intrinsic call is a few KB, a class definition some
#: hundred KB); the limit bounds memory and parse time.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
#: Largest request line plus headers (bytes); HTTP 431 beyond.
MAX_HEADER_BYTES = 32 * 1024
#: Most header fields (and trailer fields) a request may have; HTTP 431 beyond.
MAX_HEADER_FIELDS = 100

_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# what a request line may look like while it is still arriving: refused at
# once when it cannot become one (TLS to the plain port, binary junk)
_REQUEST_LINE_PREFIX = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: [\x21-\x7e]*(?: [A-Z0-9/.]*\r?\n?)?)?")
_REQUEST_LINE = re.compile(
    rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) (HTTP/[0-9]\.[0-9])\r\n")
_HEADER_VALUE_BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;.*)?")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")
_MAX_REQUEST_LINE = 8 * 1024
_MAX_CHUNK_LINE = 1024


class Reject(Exception):
    """A request refused by the front end: an HTTP error, then the connection closes."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Request:
    """A request as read from the wire, complete."""

    def __init__(self, method, target, version, headers, body):
        self.method = method          # str
        self.target = target          # str
        self.version = version        # "HTTP/1.0" / "HTTP/1.1"
        self.headers = headers        # [(lower-case name, value str)]
        self.body = body              # bytes
        tokens = {t.strip().lower() for n, v in headers if n == "connection"
                  for t in v.split(",")}
        self.keep_alive = version == "HTTP/1.1" and "close" not in tokens


async def read_request(conn):
    """The next request on ``conn`` (a
    :class:`wbemconform.server.connection.Connection`), complete;
    :class:`Reject` if it is not acceptable."""

    def check(partial):
        if not _REQUEST_LINE_PREFIX.fullmatch(partial):
            raise Reject(400, "malformed HTTP request line")

    too_long = Reject(414, "request line too long")
    line = await conn.read_line(_MAX_REQUEST_LINE, too_long, check)
    if line == b"\r\n":  # one empty line before a request is tolerated (RFC 9112 2.2)
        line = await conn.read_line(_MAX_REQUEST_LINE, too_long, check)
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise Reject(400, "malformed HTTP request line")
    method, target, version = (part.decode("ascii") for part in match.groups())
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise Reject(505, f"{version} is not supported; use HTTP/1.1")
    headers = await _read_fields(conn, MAX_HEADER_BYTES - len(line), "header")
    values = {}
    for name, value in headers:
        values.setdefault(name, []).append(value)
    hosts = values.get("host", [])
    if len(hosts) > 1 or (version == "HTTP/1.1" and not hosts):
        raise Reject(400, "an HTTP/1.1 request needs exactly one Host header")
    encodings = values.get("transfer-encoding")
    lengths = values.get("content-length")
    chunked, length = False, 0
    if encodings is not None:
        if lengths is not None:
            raise Reject(400, "both Transfer-Encoding and Content-Length: "
                              "the request could be read two ways")
        if version != "HTTP/1.1":
            raise Reject(400, "Transfer-Encoding in an HTTP/1.0 request")
        codings = [c.strip().lower() for v in encodings for c in v.split(",")]
        if codings != ["chunked"]:
            if "" in codings or codings.count("chunked") != 1 or codings[-1] != "chunked":
                raise Reject(400, f"malformed Transfer-Encoding {', '.join(encodings)!r}"
                                  f"; chunked, once, must be last")
            raise Reject(501, f"Transfer-Encoding {', '.join(encodings)!r} is not "
                              f"supported; only chunked")
        chunked = True
    elif lengths is not None:
        if len(lengths) > 1:
            raise Reject(400, "more than one Content-Length header")
        if not _CONTENT_LENGTH.fullmatch(lengths[0]):
            raise Reject(400, f"malformed Content-Length {lengths[0][:40]!r}")
        length = int(lengths[0])
        if length > MAX_REQUEST_BYTES:
            raise Reject(413, f"request body of {length} bytes; at most "
                              f"{MAX_REQUEST_BYTES} are accepted")
    expect = values.get("expect")
    if expect is not None:
        if [e.strip().lower() for e in expect] != ["100-continue"]:
            raise Reject(417, f"unsupported Expect {', '.join(expect)[:40]!r}")
        if version == "HTTP/1.1" and (chunked or length):
            conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await (_read_chunked(conn) if chunked else conn.read_exactly(length))
    extra = conn.buffered()
    if extra == b"\r\n":  # a CRLF after the body, as some old clients send: tolerated
        await conn.read_exactly(2)
    elif extra:
        raise Reject(400, "bytes after the end of the request body: the Content-Length "
                          "is smaller than the body, or requests are pipelined, which "
                          "this server does not accept")
    return Request(method, target, version, headers, body)


async def _read_fields(conn, budget, what):
    """Header (or trailer) fields up to the empty line, strictly."""
    too_big = Reject(431, f"{what} fields larger than {MAX_HEADER_BYTES} bytes")
    fields = []
    while True:
        line = await conn.read_line(max(budget, 0), too_big)
        budget -= len(line)
        if line == b"\r\n":
            return fields
        if not line.endswith(b"\r\n"):
            raise Reject(400, f"{what} line not terminated by CRLF")
        if line[:1] in (b" ", b"\t"):
            raise Reject(400, f"obsolete line folding in the {what} fields")
        name, colon, value = line[:-2].partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise Reject(400, f"malformed {what} line {line[:40]!r}")
        value = value.strip(b" \t")
        if _HEADER_VALUE_BAD.search(value):
            raise Reject(400, f"control character in {what} {name[:40].decode()!r}")
        fields.append((name.decode("ascii").lower(), value.decode("latin-1")))
        if len(fields) > MAX_HEADER_FIELDS:
            raise Reject(431, f"more than {MAX_HEADER_FIELDS} {what} fields")


async def _read_chunked(conn):
    body = bytearray()
    while True:
        line = await conn.read_line(_MAX_CHUNK_LINE, Reject(400, "chunk size line too long"))
        match = _CHUNK_SIZE.fullmatch(line[:-2]) if line.endswith(b"\r\n") else None
        if match is None:
            raise Reject(400, f"malformed chunk size line {line[:40]!r}")
        digits = match.group(1).lstrip(b"0") or b"0"
        if len(digits) > 8 or int(digits, 16) > MAX_REQUEST_BYTES:
            raise Reject(400, f"chunk size {match.group(1)[:20].decode()} is beyond any "
                              f"request this server accepts ({MAX_REQUEST_BYTES} bytes)")
        size = int(digits, 16)
        if size == 0:
            break
        if len(body) + size > MAX_REQUEST_BYTES:
            raise Reject(413, f"chunked request body larger than {MAX_REQUEST_BYTES} bytes")
        body += await conn.read_exactly(size)
        if await conn.read_exactly(2) != b"\r\n":
            raise Reject(400, "chunk data not followed by CRLF (chunk size wrong?)")
    await _read_fields(conn, MAX_HEADER_BYTES, "trailer")
    return bytes(body)
