"""NTLM with WinRM's message encryption, end to end on loopback (issue 20,
items 4 and 5): the served mock's WS-Management application accepts NTLM
(:mod:`wbemconform.server.wsman_auth`, pyspnego's acceptor) and seals its
answers; the client's :class:`~wbemconform.targets.wsman_auth.SpnegoAuth`
authenticates and seals its requests. A whole suite run over NTLM gives the
verdicts of the same run over Basic, and no artifact holds the password, its
base64 forms or its NT hash; the framing is pinned by unit tests."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import requests

spnego = pytest.importorskip("spnego")

from wbemconform import cli  # noqa: E402
from wbemconform.mock import connect  # noqa: E402
from wbemconform.options import Secret, TargetOptions  # noqa: E402
from wbemconform.server import default_apps, serve  # noqa: E402
from wbemconform.server.wsman_auth import (NtlmUserFile, WsmanGate, nt_hash,  # noqa: E402
                                           parse_auth_schemes, seal, unseal)
from wbemconform.targets import TargetSetupError, open_target  # noqa: E402
from wbemconform.targets.base import ServerError  # noqa: E402
from wbemconform.targets.wsman import connect as wsman_connect  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
USER = "bob"
PASSWORD = "Tr0ub4dor:and-3-horses"  # a ':' too: the credential file holds a hash
ENVELOPE = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
            b'<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>')
SOAP = "application/soap+xml;charset=UTF-8"


@pytest.fixture
def server():
    with serve(connect(), user=USER, password=PASSWORD, apps=default_apps(),
               auth=("basic", "ntlm")) as running:
        yield running


# -- the whole suite, over NTLM and over Basic -----------------------------------------

ARTIFACTS = ("r.json", "r.html", "j.xml", "ops.jsonl")


def suites(folder, url, *args, password=PASSWORD):
    folder.mkdir()
    env = {**os.environ, "WBEM_PASSWORD": password}
    env.pop("NTLM_USER_FILE", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "suites"), "-p", "no:cacheprovider",
         "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
         "--wbem-url", url, "--wbem-user", USER, *args, "-l", "--tb=long",
         "--conformance-json", "r.json", "--conformance-report", "r.html",
         "--junitxml", "j.xml", "--wbem-operation-log", "ops.jsonl"],
        cwd=folder, capture_output=True, text=True, timeout=300, env=env)
    texts = {"output": run.stdout + run.stderr}
    for name in ARTIFACTS:
        if (folder / name).is_file():
            texts[name] = (folder / name).read_text(encoding="utf-8")
    return run.returncode, texts


def secret_forms(password=PASSWORD, user=USER):
    """What no artifact may hold: the password, base64 of it and of
    ``user:password``, its NT hash (hex either case, base64)."""
    digest = nt_hash(password)
    return {password, base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"{user}:{password}".encode()).decode(),
            digest.hex(), digest.hex().upper(), base64.b64encode(digest).decode(),
            json.dumps(password)[1:-1]}


def verdicts(doc):
    return {rid: (req["verdict"], {name: sub["verdict"]
                                   for name, sub in req.get("subjects", {}).items()})
            for rid, req in doc["requirements"].items()}


def test_a_suite_run_over_ntlm_judges_as_over_basic_and_leaks_no_secret(server, tmp_path):
    url = server.url + "/wsman"
    basic_status, basic = suites(tmp_path / "basic", url)
    ntlm_status, ntlm = suites(tmp_path / "ntlm", url, "--wbem-auth", "ntlm")
    assert len(ntlm) == 1 + len(ARTIFACTS), ntlm["output"][-3000:]
    assert ntlm_status == basic_status, ntlm["output"][-3000:]
    basic_doc, ntlm_doc = json.loads(basic["r.json"]), json.loads(ntlm["r.json"])
    assert ntlm_doc["setup_error"] is None
    assert ntlm_doc["gate"] == basic_doc["gate"]
    assert ntlm_doc["counts"] == basic_doc["counts"] and ntlm_doc["counts"]["pass"] > 0
    assert verdicts(ntlm_doc) == verdicts(basic_doc)
    assert "(WS-Management, ntlm)" in ntlm_doc["target"]
    for name, text in ntlm.items():
        for form in secret_forms():
            assert form not in text, f"{form!r} is in {name}"
    assert "NTLM_USER_FILE" not in os.environ


def test_a_wrong_password_is_a_401_and_one_setup_line(server, tmp_path):
    status, texts = suites(tmp_path / "wrong", server.url + "/wsman", "--wbem-auth", "ntlm",
                           password="not-" + PASSWORD)
    assert status != 0
    doc = json.loads(texts["r.json"])
    assert "refused the ntlm credentials (HTTP 401)" in doc["setup_error"]
    assert "\n" not in doc["setup_error"]
    for name, text in texts.items():
        for form in secret_forms() | secret_forms("not-" + PASSWORD):
            assert form not in text, f"{form!r} is in {name}"


# -- the client against the served mock -----------------------------------------------

def options(server, password=PASSWORD, **more):
    return TargetOptions(url=server.url + "/wsman", user=USER, password=Secret(password),
                         auth="ntlm", **more)


def test_the_target_authenticates_seals_and_reauthenticates(server, caplog):
    target = open_target(options(server))
    try:
        profiles = target.call("EnumerateInstances", "CIM_RegisteredProfile",
                               namespace="root/interop")
        assert profiles
        gate = server._frontend.routes._mounted[0][1].gate
        with gate._lock:
            gate._sessions.clear()  # the server forgets: e.g. a new connection
        assert len(target.call("EnumerateInstances", "CIM_RegisteredProfile",
                               namespace="root/interop")) == len(profiles)
    finally:
        close = getattr(target, "close", None)
        if close is not None:
            close()


def test_a_wrong_password_is_one_serverror_line_on_the_client(server, caplog):
    with pytest.raises(TargetSetupError) as setup:
        open_target(options(server, password="wrong"))
    assert "HTTP 401" in str(setup.value) and "\n" not in str(setup.value)
    conn, transport = wsman_connect(options(server, password="wrong"), probe=False)
    from wbemconform.targets.base import Target
    target = Target(conn, "t", options=options(server, password="wrong"),
                    transport=transport)
    with caplog.at_level(logging.INFO, logger="wbemconform.server"):
        with pytest.raises(ServerError) as exc:
            target.call("EnumerateInstances", "CIM_RegisteredProfile",
                        namespace="root/interop")
    text = str(exc.value)
    assert "refused the ntlm credentials (HTTP 401)" in text and "\n" not in text, text
    refused = [r.getMessage() for r in caplog.records if "authentication" in r.getMessage()]
    assert refused and all("\n" not in line and "wrong" not in line for line in refused)


# -- the framing, over the wire --------------------------------------------------------

def handshake(url, password=PASSWORD, scheme="Negotiate", protocol="ntlm"):
    """(requests session, client context) after an NTLM handshake on one connection."""
    session = requests.Session()
    options_ = spnego.NegotiateOptions.use_ntlm if protocol == "ntlm" else \
        spnego.NegotiateOptions.use_negotiate
    ctx = spnego.client(USER, password, hostname="127.0.0.1", service="HTTP",
                        protocol=protocol, options=options_)
    token = ctx.step()
    for _ in range(4):
        resp = session.post(url, data=b"", headers={
            "Authorization": f"{scheme} {base64.b64encode(token).decode()}",
            "Content-Type": SOAP})
        header = resp.headers.get("WWW-Authenticate", "")
        if not header.startswith(scheme + " "):
            assert resp.status_code == 200, (resp.status_code, header)
            assert ctx.complete
            return session, ctx
        token = ctx.step(base64.b64decode(header.split()[1]))
        if ctx.complete and not token:
            assert resp.status_code == 200
            return session, ctx
    raise AssertionError("the handshake did not end")


def post_sealed(session, url, ctx, body=ENVELOPE):
    data, ctype = seal(ctx, body)
    return session.post(url, data=data, headers={"Content-Type": ctype})


def test_a_sealed_request_is_answered_sealed(server):
    url = server.url + "/wsman"
    first = requests.post(url, data=ENVELOPE, headers={"Content-Type": SOAP})
    assert first.status_code == 401
    offered = first.headers["WWW-Authenticate"]
    assert "Negotiate" in offered and "NTLM" in offered and "Basic" in offered
    session, ctx = handshake(url)
    for _ in range(3):  # the sequence numbers advance in step
        resp = post_sealed(session, url, ctx)
        assert resp.headers["Content-Type"].startswith("multipart/encrypted")
        assert b"Envelope" not in resp.content  # sealed
        answer = unseal(ctx, resp.content, resp.headers["Content-Type"])
        assert b"Envelope" in answer and b"IdentifyResponse" in answer or \
            b"Fault" in answer, answer[:300]


@pytest.mark.parametrize("scheme,protocol", [("NTLM", "ntlm"), ("Negotiate", "negotiate")])
def test_the_ntlm_scheme_and_spnego_wrapped_ntlm_are_accepted(server, scheme, protocol):
    url = server.url + "/wsman"
    session, ctx = handshake(url, scheme=scheme, protocol=protocol)
    resp = post_sealed(session, url, ctx)
    assert b"Envelope" in unseal(ctx, resp.content, resp.headers["Content-Type"])


def test_a_tampered_signature_is_refused_in_one_line(server, caplog):
    url = server.url + "/wsman"
    session, ctx = handshake(url)
    data, ctype = seal(ctx, ENVELOPE)
    at = data.index(b"application/octet-stream\r\n") + len(b"application/octet-stream\r\n") + 8
    tampered = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    with caplog.at_level(logging.INFO, logger="wbemconform.server"):
        resp = session.post(url, data=tampered, headers={"Content-Type": ctype})
    assert resp.status_code == 400
    assert resp.text.count("\n") == 1 and "signature check" in resp.text, resp.text
    logged = [r.getMessage() for r in caplog.records if "sealed" in r.getMessage()]
    assert len(logged) == 1 and "\n" not in logged[0]
    assert not any(r.exc_info for r in caplog.records)
    # the context is dropped: the next sealed message must authenticate again
    assert post_sealed(session, url, ctx).status_code == 401


def test_plain_and_unauthenticated_sealed_messages_are_refused(server):
    url = server.url + "/wsman"
    session, ctx = handshake(url)
    plain = session.post(url, data=ENVELOPE, headers={"Content-Type": SOAP})
    assert plain.status_code == 400 and "seal it" in plain.text
    other = requests.Session()
    data, ctype = seal(ctx, ENVELOPE)  # a context this connection never made
    assert other.post(url, data=data, headers={"Content-Type": ctype}).status_code == 401
    junk = requests.post(url, data=b"", headers={"Authorization": "Negotiate !!!",
                                                 "Content-Type": SOAP})
    assert junk.status_code == 401
    out_of_order = requests.post(url, data=b"", headers={
        "Authorization": "NTLM " + base64.b64encode(b"NTLMSSP\0\3\0\0\0" + b"\0" * 60)
        .decode(), "Content-Type": SOAP})
    assert out_of_order.status_code == 401


def test_basic_still_works_and_ntlm_only_refuses_it():
    with serve(connect(), user=USER, password=PASSWORD, apps=default_apps(),
               auth="ntlm") as only:
        resp = requests.post(only.url + "/wsman", data=ENVELOPE, auth=(USER, PASSWORD),
                             headers={"Content-Type": SOAP})
        assert resp.status_code == 401 and "Basic" not in resp.headers["WWW-Authenticate"]
        assert open_target(options(only)) is not None
    with serve(connect(), user=USER, password=PASSWORD, apps=default_apps(),
               auth="basic,ntlm") as both:
        resp = requests.post(both.url + "/wsman", data=ENVELOPE, auth=(USER, PASSWORD),
                             headers={"Content-Type": SOAP})
        assert resp.status_code != 401


# -- unit tests ----------------------------------------------------------------------------

def context_pair(store):
    client = spnego.client(USER, PASSWORD, protocol="ntlm",
                           options=spnego.NegotiateOptions.use_ntlm)
    with store.active():
        acceptor = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
        token = client.step()
        while not (client.complete and acceptor.complete):
            token = acceptor.step(token)
            if token is None:
                break
            token = client.step(token)
    assert client.complete and acceptor.complete
    return client, acceptor


def test_unseal_reads_what_seal_frames_and_refuses_a_bad_frame():
    store = NtlmUserFile(USER, PASSWORD)
    try:
        client, acceptor = context_pair(store)
        data, ctype = seal(client, ENVELOPE)
        assert ENVELOPE not in data and b"Length=%d" % len(ENVELOPE) in data
        size = struct.unpack("<I", data[data.index(b"stream\r\n") + 8:][:4])[0]
        assert size == 16  # NTLM's signature
        assert unseal(acceptor, data, ctype) == ENVELOPE
        answer, atype = seal(acceptor, b"<answer/>")
        assert unseal(client, answer, atype) == b"<answer/>"
        client2, acceptor2 = context_pair(store)
        wrong_length = seal(client2, ENVELOPE)[0].replace(b"Length=%d" % len(ENVELOPE),
                                                          b"Length=1")
        with pytest.raises(ValueError, match="not the 1 announced"):
            unseal(acceptor2, wrong_length, ctype)
        with pytest.raises(ValueError, match="boundary"):
            unseal(acceptor, data, "multipart/encrypted")
    finally:
        store.close()


def test_the_credential_file_is_private_holds_no_password_and_goes_away():
    before = os.environ.get("NTLM_USER_FILE")
    store = NtlmUserFile(USER, PASSWORD)
    path = Path(store.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert PASSWORD not in text and nt_hash(PASSWORD).hex().upper() in text
    with store.active():
        assert os.environ["NTLM_USER_FILE"] == store.path
    assert os.environ.get("NTLM_USER_FILE") == before
    store.close()
    store.close()
    assert not path.exists() and not path.parent.exists()
    with pytest.raises(ValueError):
        NtlmUserFile("a:b", PASSWORD)


def test_the_server_removes_its_credential_file_when_it_stops():
    running = serve(connect(), user=USER, password=PASSWORD, apps=default_apps(),
                    auth="basic,ntlm")
    gate = running._frontend.routes._mounted[0][1].gate
    path = Path(gate.ntlm.path)
    assert path.is_file()
    running.stop()
    assert not path.parent.exists()


def test_nt_hash_and_md4_vectors():
    from wbemconform.server.wsman_auth import _md4
    assert _md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
    assert _md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"
    assert _md4(b"1234567890" * 8).hex() == "e33b4ddc9c38f2199c3e7b164fcc0536"
    assert nt_hash("password").hex() == "8846f7eaee8fb117ad06bdd830b7586c"


def test_auth_schemes_are_checked():
    assert parse_auth_schemes("basic, NTLM") == ("basic", "ntlm")
    for bad in ("", "digest", "basic,kerberos"):
        with pytest.raises(ValueError):
            parse_auth_schemes(bad)
    with pytest.raises(ValueError, match="needs a user"):
        serve(connect(), auth="ntlm", apps=default_apps())
    assert WsmanGate.__doc__


def test_cli_serve_auth_option_refuses_in_one_line(capsys):
    assert cli.main(["serve", "--auth", "ntlm", "--port", "0"]) == 2
    assert cli.main(["serve", "--auth", "digest", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "NTLM needs --user" in err[0] and "digest" in err[1]


def test_wbemconform_serve_auth_ntlm_end_to_end(tmp_path):
    """``wbemconform serve --user U --password-env VAR --auth basic,ntlm``: the
    documented way; its credential file is gone once it stops."""
    import tempfile
    import time
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.glob("wbemconform-ntlm-*"))
    env = {**os.environ, "NTLM_TEST_PASSWORD": PASSWORD}
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from wbemconform.cli import main; "
         "sys.exit(main())", "serve", "--port", "0", "--user", USER, "--password-env",
         "NTLM_TEST_PASSWORD", "--auth", "basic,ntlm"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        line = server.stdout.readline()
        while "serving" not in line and time.monotonic() < deadline and server.poll() is None:
            line = server.stdout.readline()
        assert "(basic, ntlm)" in line and PASSWORD not in line, line
        url = next(w for w in line.split() if w.startswith("http://"))
        files = set(tmp.glob("wbemconform-ntlm-*")) - before
        assert len(files) == 1, files  # the server's own
        target = TargetOptions(url=url + "/wsman", user=USER, password=Secret(PASSWORD),
                               auth="ntlm")
        assert open_target(target).call("EnumerateInstances", "CIM_RegisteredProfile",
                                        namespace="root/interop")
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and PASSWORD not in out, out
    assert not any(p.exists() for p in files), files


def test_over_https_ntlm_messages_go_plain_on_the_authenticated_connection(tmp_path,
                                                                          monkeypatch):
    import shutil
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with serve(connect(), user=USER, password=PASSWORD, apps=default_apps(), auth="ntlm",
               certfile=str(cert), keyfile=str(key)) as https:
        target = open_target(options(https, ca_certs=str(cert)))
        assert target.call("EnumerateInstances", "CIM_RegisteredProfile",
                           namespace="root/interop")
        session = requests.Session()
        session.verify = str(cert)
        url = https.url + "/wsman"
        ctx = spnego.client(USER, PASSWORD, protocol="ntlm",
                            options=spnego.NegotiateOptions.use_ntlm)
        resp = session.post(url, data=b"", headers={
            "Authorization": "Negotiate " + base64.b64encode(ctx.step()).decode()})
        token = ctx.step(base64.b64decode(resp.headers["WWW-Authenticate"].split()[1]))
        resp = session.post(url, data=ENVELOPE, headers={
            "Authorization": "Negotiate " + base64.b64encode(token).decode(),
            "Content-Type": SOAP})  # the request comes with the last leg
        assert resp.status_code in (200, 500) and b"Envelope" in resp.content
        again = session.post(url, data=ENVELOPE, headers={"Content-Type": SOAP})
        assert again.status_code in (200, 500) and b"Envelope" in again.content
