"""Recorded CIM-XML exchanges with a real server, and a server of ours that
answers with them: the real server's verdicts judged where it does not run.

A recording is one folder (``tests/recordings/<server>-<version>/``) holding
``exchanges.jsonl``: one JSON object a line, sorted, one line per distinct
request --

    {"method": "AssociatorNames", "object": "root%2Finterop",
     "request": "<?xml ...><MESSAGE ID=\\"0\\" ...>...", "status": 200,
     "headers": {"CIMOperation": "MethodResponse", "Content-Type": "..."},
     "answer": "<?xml ...><MESSAGE ID=\\"0\\" ...>..."}

A request is keyed by its CIMMethod and CIMObject headers and its body with
the MESSAGE ID attribute set to 0 (pywbem numbers its messages per
connection). Bodies larger than :data:`INLINE_LIMIT` characters are stored as
``answer_gz`` / ``request_gz`` (gzip, then base64) instead. Only the headers
of :data:`KEPT_HEADERS` are kept from an answer: no Authorization, cookie,
date or server header is ever written.

:class:`RecordingProxy` records: it listens on 127.0.0.1, forwards every POST
to the real server (one upstream connection per client connection, so the
client's concurrency is the server's) and keeps each exchange. The first
answer to a request is the one kept (the same request asked again gets that
answer on replay).

:class:`ReplayServer` replays: it answers each POST with the recorded answer to
the same request, the answer's MESSAGE ID set to the request's. A request the
recording lacks gets HTTP 500 with a one-line text naming it (also as the
reason phrase, which pywbem puts in its error message), and is listed in
:meth:`ReplayServer.missing`. Nothing waits: the suites' runs never hang on
it.

The proxy also gives the client its own enumeration contexts (see
:class:`_Contexts`): OpenPegasus numbers them afresh in every server and
pulls the same one several times, which a recording keyed by request could
not tell apart.

WS-Management (DSP0226) is recorded and replayed the same way: a POST
without CIM-XML's CIMMethod/CIMOperation headers whose body is a SOAP
envelope is a WS-Management request, keyed by ``"WS-Man <action>"``, its
resource URI and its body with the per-request parts normalised -- the
header's ``wsa:MessageID`` set to ``uuid:0`` and its ``wsa:To`` (the address
the client was given: the proxy's or the replay's port) to ``wsman``. The
answer is kept with its header ``wsa:MessageID`` and ``wsa:RelatesTo``
normalised too; a replay (and the proxy) sets ``RelatesTo`` to the request's
MessageID. ``wsen:EnumerationContext`` gets stable tokens exactly as CIM-XML's
pull contexts do (:class:`_Contexts`). A client's URL for a WS-Management
recording ends in ``/wsman`` (the proxy forwards the path it is given).

    python tests/replay.py serve tests/recordings/openpegasus-2.14.4   # prints its URL
    python tests/replay.py record http://127.0.0.1:5988 OUT_FOLDER     # prints its URL;
                                    # writes OUT_FOLDER/exchanges.jsonl at SIGTERM/Ctrl-C
    python tests/replay.py compare LIVE.json REPLAYED.json  # two --conformance-json
                                    # documents: what differs but when, where from, how long
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import json
import re
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FILE = "exchanges.jsonl"
INLINE_LIMIT = 2000  # characters; larger bodies are stored gzip+base64
UPSTREAM_TIMEOUT = 120.0  # seconds the real server may take for one answer
MAX_BODY = 64 * 1024 * 1024
#: the answer headers a replay gives back (everything else is left out)
KEPT_HEADERS = ("Content-Type", "CIMOperation", "CIMError", "CIMStatusCode",
                "CIMStatusCodeDescription", "PGErrorDetail", "CIMProtocolVersion",
                "Content-Encoding")
_MESSAGE_ID = re.compile(rb'(<MESSAGE\s+ID=")([^"]*)(")')


class RecordingError(RuntimeError):
    """A recording that cannot be read (one line: where and why)."""


def normalise(body):
    """The body (bytes) with its (first) MESSAGE ID set to 0."""
    return _MESSAGE_ID.sub(rb"\g<1>0\g<3>", body, count=1)


def message_id(body):
    found = _MESSAGE_ID.search(body)
    return found.group(2) if found else None


def request_key(method, obj, body):
    return (method or "", obj or "", normalise(body))


_WS_BODY = re.compile(rb"<(?:[\w.-]+:)?Body\b")
_WS_MESSAGE_ID = re.compile(rb"(<(?:[\w.-]+:)?MessageID\b[^>]*>)([^<]*)(</(?:[\w.-]+:)?MessageID>)")
_WS_RELATES_TO = re.compile(rb"(<(?:[\w.-]+:)?RelatesTo\b[^>]*>)([^<]*)(</(?:[\w.-]+:)?RelatesTo>)")
_WS_TO = re.compile(rb"(<(?:[\w.-]+:)?To\b[^>]*>)([^<]*)(</(?:[\w.-]+:)?To>)")
_WS_ACTION = re.compile(rb"<(?:[\w.-]+:)?Action\b[^>]*>([^<]*)</")
_WS_RESOURCE = re.compile(rb"<(?:[\w.-]+:)?ResourceURI\b[^>]*>([^<]*)</")
_WS_CONTEXT = re.compile(
    rb"(<(?:[\w.-]+:)?EnumerationContext\b[^>]*>)([^<]*)(</(?:[\w.-]+:)?EnumerationContext>)")
WS_METHOD = "WS-Man "  # the first part of a WS-Management request's key
_WS_NO_ID = b"uuid:0"
_WS_ANSWER_ID = b"uuid:00000000-0000-0000-0000-000000000000"


def is_wsman(headers, body):
    """Whether a POST is a WS-Management request (a SOAP envelope, not CIM-XML)."""
    if headers.get("CIMMethod") or headers.get("CIMOperation"):
        return False
    return b"Envelope" in body.lstrip()[:2048]


def _in_header(body, pattern, replace):
    """``body`` with ``pattern`` (its first match) replaced in the SOAP header only."""
    found = _WS_BODY.search(body)
    head, rest = (body[:found.start()], body[found.start():]) if found else (body, b"")
    return pattern.sub(replace, head, count=1) + rest


def _header_value(body, pattern):
    found = _WS_BODY.search(body)
    match = pattern.search(body[:found.start()] if found else body)
    return match.group(2) if match else None


def wsman_normalise(body):
    """A WS-Management request (bytes) without its per-request parts: the
    header's MessageID is ``uuid:0`` and its To ``wsman``."""
    body = _in_header(body, _WS_MESSAGE_ID, lambda m: m.group(1) + _WS_NO_ID + m.group(3))
    return _in_header(body, _WS_TO, lambda m: m.group(1) + b"wsman" + m.group(3))


def wsman_key(body):
    """The recording key of a WS-Management request."""
    action = _WS_ACTION.search(body)
    action = action.group(1).decode("utf-8", "replace").strip() if action else ""
    resource = _WS_RESOURCE.search(body)
    resource = resource.group(1).decode("utf-8", "replace").strip() if resource else ""
    return (WS_METHOD + action.rpartition("/")[2], resource, wsman_normalise(body))


def wsman_answer_kept(answer):
    """A WS-Management answer as a recording keeps it: its header's MessageID
    and RelatesTo normalised."""
    answer = _in_header(answer, _WS_MESSAGE_ID,
                        lambda m: m.group(1) + _WS_ANSWER_ID + m.group(3))
    return _in_header(answer, _WS_RELATES_TO, lambda m: m.group(1) + _WS_NO_ID + m.group(3))


def wsman_answer_for(request, answer):
    """A kept answer given back to ``request``: RelatesTo is its MessageID."""
    asked = _header_value(request, _WS_MESSAGE_ID)
    if asked is None:
        return answer
    return _in_header(answer, _WS_RELATES_TO, lambda m: m.group(1) + asked + m.group(3))


def key_of(headers, body):
    """The recording key of a POST (CIM-XML or WS-Management)."""
    if is_wsman(headers, body):
        return wsman_key(body)
    return request_key(headers.get("CIMMethod"), headers.get("CIMObject"), body)


def describe(key, limit=300):
    """One line naming a request: its method, object, parameters (the text of
    its PARAMVALUEs, cut at ``limit``) and body digest."""
    method, obj, body = key
    digest = hashlib.sha256(body).hexdigest()[:12]
    text = body.decode("utf-8", "replace")
    if method.startswith(WS_METHOD):
        found = _WS_BODY.search(body)
        head = body[:found.start()] if found else body
        selectors = "; ".join(f"{n}={' '.join(_TAG.sub(' ', v).split())}"
                              for n, v in _WS_SELECTOR.findall(head.decode("utf-8", "replace")))
        rest = " ".join(_TAG.sub(" ", text[found.start():] if found else "").split())
        shown = "; ".join(x for x in (selectors, rest) if x)
        if len(shown) > limit:
            shown = shown[:limit] + "..."
        return f"{method} {obj or '-'} [{shown}] (body sha256 {digest}, {len(body)} bytes)"
    params = []
    for name, value in _PARAM.findall(text):
        if "<" in value:
            value = _NAMED.sub(lambda m: f" {m.group(2)}{'.' if m.group(1) == 'I' else ''}",
                               value)
            value = " ".join(_TAG.sub(" ", value).split())
        params.append(f"{name}={value.strip()}")
    shown = "; ".join(params)
    if len(shown) > limit:
        shown = shown[:limit] + "..."
    return (f"CIMMethod={method or '-'} CIMObject={urllib.parse.unquote(obj) or '-'} "
            f"[{shown}] (body sha256 {digest}, {len(body)} bytes)")


_PARAM = re.compile(r'<I?PARAMVALUE\s+NAME="([^"]*)"[^>]*>(.*?)</I?PARAMVALUE>', re.DOTALL)
_NAMED = re.compile(r'<(?:CLASSNAME|(I)NSTANCENAME)\s+(?:CLASSNAME|NAME)="([^"]*)"[^>]*>')
_TAG = re.compile(r"<[^>]*>")
_WS_SELECTOR = re.compile(r'<(?:[\w.-]+:)?Selector\s+Name="([^"]*)"[^>]*>(.*?)</(?:[\w.-]+:)?Selector>',
                          re.DOTALL)


def _encode(entry, name, data):
    text = data.decode("utf-8", "surrogateescape")
    if len(text) > INLINE_LIMIT or _has_surrogates(text):
        entry[name + "_gz"] = base64.b64encode(gzip.compress(data, 9, mtime=0)).decode("ascii")
    else:
        entry[name] = text


def _has_surrogates(text):
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _decode(entry, name, where):
    if name in entry:
        return entry[name].encode("utf-8", "surrogateescape")
    if name + "_gz" in entry:
        try:
            return gzip.decompress(base64.b64decode(entry[name + "_gz"]))
        except (ValueError, OSError) as exc:
            raise RecordingError(f"{where}: {name}_gz does not decode: {exc}") from None
    raise RecordingError(f"{where}: neither {name} nor {name}_gz")


class Recording:
    """{request key: (status, headers, answer body)}: one recording folder."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.exchanges = {}
        self.differing = {}  # request asked again -> the other answers it got
        self.lock = threading.Lock()

    @property
    def path(self):
        return self.folder / FILE

    def load(self):
        """Read the folder's exchanges (raises :class:`RecordingError`)."""
        if not self.path.is_file():
            raise RecordingError(f"no recording at {self.path}")
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                where = f"{self.path}:{number}"
                try:
                    entry = json.loads(line)
                    key = (entry["method"], entry["object"], _decode(entry, "request", where))
                    self.exchanges.setdefault(key, (int(entry["status"]), dict(entry["headers"]),
                                                    _decode(entry, "answer", where)))
                except (ValueError, KeyError, TypeError) as exc:
                    raise RecordingError(f"{where}: not an exchange: {exc}") from None
        return self

    def add(self, key, status, headers, answer):
        """Keep an exchange unless the request is already recorded (the first
        answer wins). Returns whether it was new."""
        kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name) is not None}
        with self.lock:
            if key in self.exchanges:
                other = normalise(answer)
                if self.exchanges[key][2] != other and \
                        other not in self.differing.setdefault(key, []):
                    self.differing[key].append(other)
                return False
            self.exchanges[key] = (status, kept, normalise(answer))
            return True

    def save(self):
        """Write the folder's exchanges.jsonl: sorted, so that two recordings of
        the same answers are the same file."""
        rows = []
        with self.lock:
            items = list(self.exchanges.items())
        for (method, obj, body), (status, headers, answer) in items:
            entry = {"method": method, "object": obj}
            _encode(entry, "request", body)
            entry.update(status=status, headers=dict(sorted(headers.items())))
            _encode(entry, "answer", answer)
            rows.append(json.dumps(entry, ensure_ascii=False, sort_keys=False))
        rows.sort()
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
        tmp.replace(self.path)
        return self.path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wbemconform-replay"
    sys_version = ""

    def log_message(self, *args):  # quiet: the suites' output is what matters
        pass

    def setup(self):
        super().setup()
        # one answer is two writes (head, body): without this, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._text(411, "wbemconform replay: send Content-Length, not chunked")
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._text(400, "wbemconform replay: bad Content-Length")
            return None
        return self.rfile.read(length)

    def _send(self, status, headers, body, reason=None):
        self.send_response(status, reason)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _text(self, status, text, reason=None):
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        self._send(status, headers, (text + "\n").encode("utf-8"), reason)

    def do_GET(self):
        self._text(405, "wbemconform replay: only CIM-XML and WS-Management POSTs are answered")

    do_PUT = do_DELETE = do_GET


def _reason(line):
    """An HTTP reason phrase saying what the recording lacks (pywbem puts the
    reason phrase in its HTTPError message, so the run's error names it)."""
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in "recording lacks it: " + line)
    return text[:400]


class _ReplayHandler(_Handler):
    def do_POST(self):
        body = self._body()
        if body is None:
            return
        key = key_of(self.headers, body)
        found = self.server.recording.exchanges.get(key)
        if found is None:
            line = f"the recording {self.server.recording.folder} lacks {describe(key)}"
            self.server.note_missing(line)
            self._text(500, "wbemconform replay: " + line, reason=_reason(line))
            return
        status, headers, answer = found
        asked = message_id(body)
        if key[0].startswith(WS_METHOD):
            answer = wsman_answer_for(body, answer)
        elif asked is not None:
            answer = _MESSAGE_ID.sub(lambda m: m.group(1) + asked + m.group(3), answer, count=1)
        self._send(status, headers, answer)


_REQ_CONTEXT = re.compile(
    rb'(<IPARAMVALUE\s+NAME="EnumerationContext"\s*>\s*<VALUE>)([^<]*)(</VALUE>)')
_ANS_CONTEXT = re.compile(
    rb'(<PARAMVALUE\s+NAME="EnumerationContext"[^>]*>\s*<VALUE>)([^<]*)(</VALUE>)')


class _Contexts:
    """The recording proxy's enumeration contexts. A server numbers them (a
    fresh server from the same start), and OpenPegasus answers a pull with
    the same context until the enumeration ends, whatever it returned so far
    (often nothing yet). Recorded as they are, two enumerations would share
    a context and one context would be pulled several times for different
    answers. So the client is given a fresh token for every answer that goes
    on -- ``wbemconform-<digest>-<n>`` for the request that opened it (its
    digest, and how often it was asked before), then ``.1``, ``.2``... for
    each pull after -- unique in a recording and the same in a recording made
    again; the proxy gives the server its own context back."""

    def __init__(self, request_pattern=None, answer_pattern=None):
        self.request_pattern = request_pattern or _REQ_CONTEXT
        self.answer_pattern = answer_pattern or _ANS_CONTEXT
        self.lock = threading.Lock()
        self.server_of = {}  # token -> the server's context
        self.minted = {}  # request key or token -> how many tokens came from it

    def to_server(self, body):
        def real(m):
            with self.lock:
                server = self.server_of.get(m.group(2).decode("utf-8", "replace"))
            return m.group(1) + (server.encode() if server is not None else m.group(2)) \
                + m.group(3)
        return self.request_pattern.sub(real, body)

    def to_client(self, key, body, answer):
        asked = self.request_pattern.search(body)
        asked = asked.group(2).decode("utf-8", "replace") if asked else None

        def token(m):
            server = m.group(2).decode("utf-8", "replace")
            if not server.strip():
                return m.group(0)  # the end of the enumeration
            with self.lock:
                if asked is not None and asked in self.server_of:
                    n = self.minted.get(asked, 0) + 1  # a pull that goes on
                    self.minted[asked] = n
                    name = f"{asked}.{n}"
                else:
                    n = self.minted.get(key, 0)
                    self.minted[key] = n + 1
                    digest = hashlib.sha256(b"\0".join(
                        (key[0].encode(), key[1].encode(), key[2]))).hexdigest()[:16]
                    name = f"wbemconform-{digest}-{n}"
                self.server_of[name] = server
            return m.group(1) + name.encode() + m.group(3)
        return self.answer_pattern.sub(token, answer)


class _ProxyHandler(_Handler):
    upstream = None  # one connection to the real server per client connection

    HOP = frozenset(("host", "connection", "keep-alive", "proxy-authorization",
                     "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                     "content-length"))

    def do_POST(self):
        body = self._body()
        if body is None:
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self.HOP}
        key = key_of(self.headers, body)
        wsman = key[0].startswith(WS_METHOD)
        contexts = self.server.ws_contexts if wsman else self.server.contexts
        try:
            status, answer_headers, answer = self._forward(headers, contexts.to_server(body))
        except (OSError, http.client.HTTPException) as exc:
            self._text(502, f"wbemconform record: the real server did not answer: {exc}")
            return
        answer = contexts.to_client(key, body, answer)
        if wsman:
            answer = wsman_answer_kept(answer)
        self.server.recording.add(key, status, answer_headers, answer)
        if wsman:
            answer = wsman_answer_for(body, answer)
        kept = {n: answer_headers[n] for n in KEPT_HEADERS if answer_headers.get(n) is not None}
        self._send(status, kept, answer)

    def _forward(self, headers, body):
        for attempt in (1, 2):  # a kept-alive upstream connection may have closed
            if self.upstream is None:
                parts = self.server.upstream_parts
                cls = (http.client.HTTPSConnection if parts.scheme == "https"
                       else http.client.HTTPConnection)
                self.upstream = cls(parts.hostname, parts.port, timeout=UPSTREAM_TIMEOUT)
            try:
                self.upstream.request("POST", self.path, body=body, headers=headers)
                resp = self.upstream.getresponse()
                answer = resp.read()
                if (resp.getheader("Connection") or "").lower() == "close":
                    self.upstream.close()
                    self.upstream = None
                return resp.status, {k: v for k, v in resp.getheaders()}, answer
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest):
                self.upstream.close()
                self.upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def finish(self):
        super().finish()
        if self.upstream is not None:
            self.upstream.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, recording):
        super().__init__(("127.0.0.1", 0), handler)
        self.recording = recording
        self._missing = []
        self._missing_lock = threading.Lock()
        self.thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def note_missing(self, line):
        with self._missing_lock:
            if line not in self._missing:
                self._missing.append(line)

    def missing(self):
        """The requests asked that the recording lacks (one line each)."""
        with self._missing_lock:
            return list(self._missing)

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever, name=type(self).__name__,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ReplayServer(_Server):
    """Answers from a recording folder (or a :class:`Recording` already in
    memory, e.g. a :class:`RecordingProxy`'s), on a free port of 127.0.0.1."""

    def __init__(self, recording):
        if not isinstance(recording, Recording):
            recording = Recording(recording).load()
        super().__init__(_ReplayHandler, recording)


class RecordingProxy(_Server):
    """Forwards to ``upstream`` (a URL) and keeps every exchange in a recording
    of ``folder`` (``merge``: start from the exchanges already there);
    :meth:`save` writes it."""

    def __init__(self, upstream, folder, merge=False):
        recording = Recording(folder)
        if merge and recording.path.is_file():
            recording.load()
        super().__init__(_ProxyHandler, recording)
        self.contexts = _Contexts()
        self.ws_contexts = _Contexts(_WS_CONTEXT, _WS_CONTEXT)
        self.upstream_parts = urllib.parse.urlsplit(upstream)
        if self.upstream_parts.scheme not in ("http", "https") or not self.upstream_parts.port:
            raise ValueError(f"the real server's URL needs http(s)://host:port, got {upstream!r}")

    def save(self):
        return self.recording.save()


#: the parts of a results document that differ between two runs of the same
#: answers: when, how long, the URL and files
VOLATILE = ("started", "duration_seconds", "target", "options", "run")


def compare(first, second):
    """The differences between two results documents (--conformance-json),
    leaving out :data:`VOLATILE`: one line each; none when they are the same."""
    out = []
    for part in sorted((first.keys() | second.keys()) - set(VOLATILE)):
        a, b = first.get(part), second.get(part)
        if a == b:
            continue
        if part != "requirements" or not (isinstance(a, dict) and isinstance(b, dict)):
            out.append(f"{part}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}")
            continue
        for rid in sorted(a.keys() | b.keys()):
            ra, rb = a.get(rid) or {}, b.get(rid) or {}
            sa, sb = ra.get("subjects", {}), rb.get("subjects", {})
            for subject in sorted(sa.keys() | sb.keys()):
                x, y = sa.get(subject) or {}, sb.get(subject) or {}
                fields = sorted(f for f in x.keys() | y.keys() if x.get(f) != y.get(f))
                if fields:
                    out.append(f"{rid} {subject}: {', '.join(fields)} differ")
            rest = sorted(f for f in ra.keys() | rb.keys()
                          if f != "subjects" and ra.get(f) != rb.get(f))
            if rest:
                out.append(f"{rid}: {', '.join(rest)} differ")
    return out


def main(argv=None):
    import argparse
    import signal
    ap = argparse.ArgumentParser(description="Replay a recording, or record one through a "
                                             "proxy, on a free port of 127.0.0.1; or compare "
                                             "two results documents.")
    sub = ap.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="two --conformance-json documents: what differs "
                                         "(all but " + ", ".join(VOLATILE) + ")")
    cmp.add_argument("first")
    cmp.add_argument("second")
    serve = sub.add_parser("serve", help="answer from a recording folder")
    serve.add_argument("folder")
    record = sub.add_parser("record", help="forward to a real server and record")
    record.add_argument("upstream", help="the real server's URL, e.g. http://127.0.0.1:5988")
    record.add_argument("folder", help="where exchanges.jsonl goes (written at the end)")
    record.add_argument("--merge", action="store_true",
                        help="keep the exchanges already in the folder")
    args = ap.parse_args(argv)
    if args.command == "compare":
        docs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in (args.first,
                                                                          args.second)]
        differ = compare(*docs)
        subjects = sum(len(r["subjects"]) for r in docs[0].get("requirements", {}).values())
        print("\n".join(differ) if differ else
              f"identical but for {', '.join(VOLATILE)}: {subjects} (requirement, subject) "
              f"records, verdicts, messages, problems and evidence; operations "
              f"{docs[0].get('operations', {}).get('total')}")
        return 1 if differ else 0
    if args.command == "serve":
        server = ReplayServer(args.folder)
    else:
        server = RecordingProxy(args.upstream, args.folder, merge=args.merge)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with server:
        print(server.url, flush=True)
        try:
            done.wait()
        except KeyboardInterrupt:
            pass
    if args.command == "record":
        print(f"{len(server.recording.exchanges)} exchange(s) in {server.save()}")
        for key in sorted(server.recording.differing):
            print(f"asked again with another answer (the first kept): {describe(key)}")
    elif server.missing():
        print("asked but not in the recording:\n  " + "\n  ".join(server.missing()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
