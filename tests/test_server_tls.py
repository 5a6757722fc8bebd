"""The served mock over HTTPS (wbemconform.server.serve with a certificate):
pywbem and urllib clients verify it, and clients that connect and stall the
TLS handshake do not hold up the others."""

import shutil
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest
import pywbem

from wbemconform.mock import connect
from wbemconform.server import serve

INTEROP = "root/interop"
TIMEOUT = 10

ENUM_REQUEST = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n'
    b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="42" PROTOCOLVERSION="1.0">'
    b'<SIMPLEREQ><IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH>'
    b'<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
    b'<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_RegisteredProfile"/></IPARAMVALUE>'
    b'</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(certificate, key) files of a self-signed certificate for 127.0.0.1."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=TIMEOUT)
    return cert, key


@pytest.fixture
def https(certificate, monkeypatch):
    # requests lets these override a connection's own CA file
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    cert, key = certificate
    with serve(connect(), certfile=str(cert), keyfile=str(key)) as srv:
        srv.cafile = str(cert)
        yield srv


def enumerate_names(srv):
    conn = pywbem.WBEMConnection(srv.url, default_namespace=INTEROP, timeout=TIMEOUT,
                                 ca_certs=srv.cafile)
    try:
        return conn.EnumerateInstanceNames("CIM_RegisteredProfile")
    finally:
        conn.close()


def test_https(https):
    assert https.url.startswith("https://127.0.0.1:")
    assert len(enumerate_names(https)) == 2
    ctx = ssl.create_default_context(cafile=https.cafile)
    req = urllib.request.Request(https.url, data=ENUM_REQUEST,
                                 headers={"Content-Type": "application/xml",
                                          "CIMOperation": "MethodCall",
                                          "CIMMethod": "EnumerateInstances"})
    with urllib.request.urlopen(req, context=ctx, timeout=TIMEOUT) as resp:
        assert resp.status == 200 and b"VALUE.NAMEDINSTANCE" in resp.read()


def test_idle_and_half_open_tls_clients_do_not_block_https(https):
    """16 clients that connect to the HTTPS port and send nothing (8 of them
    half a ClientHello): a normal client is answered within 2 s."""
    idle = [socket.create_connection(("127.0.0.1", https.port), timeout=TIMEOUT)
            for _ in range(16)]
    try:
        for sock in idle[:8]:
            sock.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello
        time.sleep(0.5)
        start = time.monotonic()
        assert len(enumerate_names(https)) == 2
        assert time.monotonic() - start < 2
    finally:
        for sock in idle:
            sock.close()


def test_plain_http_to_the_https_port_is_dropped_quietly(https, caplog):
    with socket.create_connection(("127.0.0.1", https.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST /cimom HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        try:
            answer = sock.recv(100)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")
    assert len(enumerate_names(https)) == 2
    assert not [r for r in caplog.records if r.exc_info], caplog.text
