"""tests/replay.py: the recording proxy and the replay server the real-server
tests use (tests/test_openpegasus.py), against a small upstream of our own."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pywbem
import replay

ANSWER = ('<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
          '<MESSAGE ID="{id}" PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="{name}">'
          '{body}</IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>')
NAMES = ('<IRETURNVALUE><INSTANCEPATH><NAMESPACEPATH><HOST>h</HOST><LOCALNAMESPACEPATH>'
         '<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
         '</NAMESPACEPATH><INSTANCENAME CLASSNAME="CIM_RegisteredProfile"><KEYBINDING '
         'NAME="InstanceID"><KEYVALUE VALUETYPE="string">{key}</KEYVALUE></KEYBINDING>'
         '</INSTANCENAME></INSTANCEPATH></IRETURNVALUE>')
PULLED = ('<PARAMVALUE NAME="EndOfSequence"><VALUE>{end}</VALUE></PARAMVALUE>'
          '<PARAMVALUE NAME="EnumerationContext"><VALUE>{ctx}</VALUE></PARAMVALUE>')


SEEN = []  # (headers, body) of every request the upstream had


class Upstream(BaseHTTPRequestHandler):
    """A CIM server in miniature: EnumerateInstanceNames answers one path (a
    long key: a body stored gzipped); OpenEnumerateInstancePaths answers
    nothing yet and context "7" -- always "7", as a fresh server would --
    and each PullInstancePaths from "7" one path, the second ending it."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        SEEN.append((dict(self.headers), body))
        mid = replay.message_id(body).decode()
        method = self.headers["CIMMethod"]
        if method == "EnumerateInstanceNames":
            inner = NAMES.format(key="x" * 3000)
        elif method == "OpenEnumerateInstancePaths":
            inner = "<IRETURNVALUE></IRETURNVALUE>" + PULLED.format(end="FALSE", ctx="7")
        else:
            pulls = sum(1 for h, _ in SEEN if h["CIMMethod"] == "PullInstancePaths")
            assert b"<VALUE>7</VALUE>" in body  # the proxy gave the server its context
            end = pulls % 2 == 0
            inner = NAMES.format(key=f"p{pulls}") + PULLED.format(
                end="TRUE" if end else "FALSE", ctx="" if end else "7")
        data = ANSWER.format(id=mid, name=method, body=inner).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("CIMOperation", "MethodResponse")
        self.send_header("Set-Cookie", "secret=1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def upstream():
    SEEN.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def work(url):
    """What a client asks: names, then one enumeration pulled to its end, twice."""
    conn = pywbem.WBEMConnection(url, creds=("user", "password"), timeout=10)
    names = conn.EnumerateInstanceNames("CIM_RegisteredProfile", namespace="root/interop")
    pulled = []
    for _ in range(2):
        res = conn.OpenEnumerateInstancePaths("CIM_RegisteredProfile", namespace="root/interop")
        got = list(res.paths)
        while not res.eos:
            res = conn.PullInstancePaths(res.context, MaxObjectCount=10)
            got += res.paths
        pulled.append([p.keybindings["InstanceID"] for p in got])
    return [p.keybindings["InstanceID"][:3] for p in names], pulled


def test_a_recording_replays_what_was_answered(upstream, tmp_path):
    with replay.RecordingProxy(upstream, tmp_path) as proxy:
        live = work(proxy.url)
    path = proxy.save()
    # the server said "7" for both enumerations; each answer that went on got its token
    assert live == (["xxx"], [["p1", "p2"], ["p3", "p4"]])
    text = path.read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    assert [r["method"] for r in rows].count("PullInstancePaths") == 4
    assert "password" not in text and "Authorization" not in text and "secret" not in text
    assert any("answer_gz" in r for r in rows)  # the long one
    assert all(r["headers"] == {"CIMOperation": "MethodResponse",
                                "Content-Type": "application/xml; charset=utf-8"} for r in rows)
    assert all('MESSAGE ID="0"' in r.get("request", 'MESSAGE ID="0"') for r in rows)
    # replayed: the same request gets the first answer recorded (so the second
    # enumeration is the first again), MESSAGE IDs follow the client's
    with replay.ReplayServer(tmp_path) as server:
        assert work(server.url) == (["xxx"], [["p1", "p2"], ["p1", "p2"]])
        assert server.missing() == []


def test_a_request_the_recording_lacks_is_a_clear_error(upstream, tmp_path):
    with replay.RecordingProxy(upstream, tmp_path) as proxy:
        pywbem.WBEMConnection(proxy.url, timeout=10).EnumerateInstanceNames(
            "CIM_RegisteredProfile", namespace="root/interop")
    proxy.save()
    with replay.ReplayServer(tmp_path) as server:
        conn = pywbem.WBEMConnection(server.url, timeout=10)
        with pytest.raises(pywbem.HTTPError) as err:
            conn.EnumerateInstanceNames("CIM_Namespace", namespace="root/interop")
        assert err.value.status == 500
        assert str(err.value).startswith(
            "500 (recording lacks it: the recording ")
        assert "lacks CIMMethod=EnumerateInstanceNames CIMObject=root/interop " \
               "[ClassName=CIM_Namespace]" in str(err.value)
        assert len(server.missing()) == 1 and "CIM_Namespace" in server.missing()[0]


def test_a_broken_recording_names_its_line(tmp_path):
    (tmp_path / replay.FILE).write_text('{"method": "GetClass"}\n')
    with pytest.raises(replay.RecordingError, match=r"exchanges.jsonl:1: not an exchange"):
        replay.ReplayServer(tmp_path)
    with pytest.raises(replay.RecordingError, match="no recording at"):
        replay.ReplayServer(tmp_path / "nothing")
