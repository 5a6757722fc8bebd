"""The URL targets' transport against hostile servers on 127.0.0.1
(``hostile_servers``): every operation bounded as a whole, answers bounded
in size, TLS options that win over the environment, no redirects, no
password in any text, and bad options as one line each."""

import base64
import copy
import pickle
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from pywbem import CIMError

import hostile_servers as hs
from wbemconform.options import (DEFAULT_MAX_RESPONSE_BYTES, TargetOptions, parse_byte_size,
                                 redact_url)
from wbemconform.targets import transport as transport_module
from wbemconform.targets import (ServerError, TargetSetupError, cimxml, open_target,
                                 pywbem_adapter, validate_options)
from wbemconform.targets.transport import (OperationTimeoutError, RedirectRefusedError,
                                           ResponseTooLargeError, tls_choice)

pytest_plugins = ["pytester"]
TESTS = Path(__file__).resolve().parent
SECRET = "s3cr3t-Pa55word"
MARGIN = 5.0  # seconds an operation may outlast its timeout, all in all
OP = "EnumerateInstanceNames"


def target(url, **kw):
    kw.setdefault("timeout", 5)
    return open_target(TargetOptions(url=url, **kw))


def call(t):
    return t.call(OP, "CIM_Foo", namespace="root/interop")


def timed_failure(t):
    start = time.monotonic()
    with pytest.raises(ServerError) as info:
        call(t)
    return info.value, time.monotonic() - start


# -- 1. each operation bounded as a whole ---------------------------------------------

@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_answer_ends_at_the_deadline(phase):
    """Before: a server sending one byte per second held an operation for ever
    (each read got its byte within the timeout)."""
    with hs.serve(hs.trickle(phase, interval=0.5)) as server:
        t = target(server.url, timeout=2)
        err, elapsed = timed_failure(t)
        assert elapsed < 2 + MARGIN, elapsed
        assert f"{OP} timed out" in str(err) and "OperationTimeoutError" in str(err), err
        assert t.calls[-1].outcome == "server-error" and "timed out" in t.calls[-1].summary
        # nothing more is sent after the first transport failure
        with pytest.raises(ServerError) as again:
            t.call("GetClass", "CIM_Foo")
        assert again.value is err and len(server.requests) == 1
        # the abandoned worker does not linger on the socket
        worker, = t.transport.abandoned
        worker.join(MARGIN)
        assert not worker.is_alive()


def test_a_timeout_among_concurrent_operations_says_workers_may_be_too_many():
    """A server that stops answering while several operations are under way
    (OpenPegasus 2.14.4 does at 5): the error names --wbem-workers; one at a
    time, it does not."""
    with hs.serve(hs.trickle("headers", interval=0.5)) as server:
        t = target(server.url, timeout=1, workers=2)
        answers = t.call_many([(OP, ("CIM_Foo",), {"namespace": "root/interop"}),
                               (OP, ("CIM_Bar",), {"namespace": "root/interop"})])
        (_, first), (_, second) = answers
        assert isinstance(first, ServerError) and "timed out" in str(first)
        assert "--wbem-workers 2" in str(first) and "needs fewer" in str(first), first
        assert isinstance(second, ServerError)
        for worker in t.transport.abandoned:
            worker.join(MARGIN)
    with hs.serve(hs.trickle("headers", interval=0.5)) as server:
        err, _ = timed_failure(target(server.url, timeout=1, workers=2))
        assert "--wbem-workers" not in str(err), err  # one operation: no such hint


def test_newline_padded_answer_parses_in_linear_time():
    """Before: 640 KB of newlines in an answer took 3.4-12.8 s (pywbem's
    quadratic text handling); 4 MiB would take minutes."""
    for size in (640 * 1024, 4 * 1024 * 1024):
        with hs.serve(hs.padded(size)) as server:
            t = target(server.url, timeout=20)
            start = time.monotonic()
            assert call(t) == []
            elapsed = time.monotonic() - start
        assert elapsed < 0.5 + size / 2 ** 20, (size, elapsed)  # measured ~0.23 s per MiB


@pytest.mark.filterwarnings("ignore::pywbem.MissingKeybindingsWarning")
def test_a_slow_parse_ends_at_the_deadline_and_the_worker_stops():
    """pywbem spends ~0.4 ms on each keyless INSTANCENAME (it walks the stack to
    warn): 512 KiB of them parse for ~7 s, far past the 2 s timeout."""
    size = 512 * 1024
    with hs.serve(hs.padded(size, filler=b'<INSTANCENAME CLASSNAME="C"/>')) as server:
        t = target(server.url, timeout=2)
        err, elapsed = timed_failure(t)
    assert elapsed < 2 + MARGIN and f"{OP} timed out" in str(err), (elapsed, err)
    worker, = t.transport.abandoned
    worker.join(3)
    assert not worker.is_alive(), "the abandoned parse was not interrupted"


def test_the_interrupt_of_an_abandoned_worker_never_reaches_a_thread_it_starts():
    """Before: a WS-Management Release thread started by a worker while its
    operation timed out died of the worker's interrupt (CPython gives a new
    thread its creator's id until it runs), so the enumeration was never
    released: seen once in CI. A worker that does nothing but start threads
    is interrupted 60 times; no started thread may ever see the interrupt."""
    hit = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: (hit.append(args.thread.name)
                                         if args.exc_type is transport_module._Abandoned
                                         else old_hook(args))

    def start_threads_for_ever():
        while True:
            child = threading.Thread(target=lambda: None, name="started by the worker",
                                     daemon=True)
            transport_module.start_thread(child)
            child.join()
    try:
        for _ in range(60):
            t = target("http://127.0.0.1:9", timeout=0.02)
            with pytest.raises(OperationTimeoutError):
                t.transport.run(OP, start_threads_for_ever)
            worker, = t.transport.abandoned
            worker.join(3)
            assert not worker.is_alive(), "the abandoned worker was not interrupted"
    finally:
        threading.excepthook = old_hook
    assert hit == [], f"{len(hit)} threads started by a worker got its interrupt"


@pytest.mark.parametrize("path", ["/cimom", "/wsman"])
def test_an_https_url_to_a_plain_http_server_silent_to_tls_says_so(path):
    """Before: an https:// URL to OMI's plain-HTTP port timed out with
    "timed out" (OMI never answers a ClientHello: it waits for the end of
    the headers). Now the timed-out handshake is followed by a bounded
    plain-HTTP probe, which carries the credentials of no one."""
    with hs.serve(hs.answers_only_with_credentials()) as server:
        url = server.url.replace("http://", "https://") + path
        plain = server.url
        with pytest.raises((ServerError, TargetSetupError)) as info:
            call(target(url, timeout=2, no_verify=True, user="bob", password=SECRET))
    message = str(info.value)
    assert (f"the server at {url.removesuffix(path)} never answered the TLS handshake but "
            f"answers plain HTTP; use {plain}") in message, message
    probes = [r for r in server.requests if r.method == "HEAD"]
    assert len(probes) == 1 and (probes[0].user, probes[0].password) == ("", "")
    assert SECRET not in repr(server.requests) and SECRET not in message


def test_a_tls_handshake_no_one_answers_is_a_timeout():
    """A server silent to TLS and to plain HTTP alike: the plain timeout."""
    with hs.serve(hs.trickle("headers", interval=30)) as server:
        url = server.url.replace("http://", "https://")
        err, elapsed = timed_failure(target(url, timeout=1.5, no_verify=True))
    assert f"{OP} timed out" in str(err) and "plain HTTP" not in str(err), err
    assert elapsed < 1.5 + MARGIN, elapsed


def test_an_announced_oversize_answer_is_refused_before_reading():
    with hs.serve(hs.padded(1000, declared=10 ** 11)) as server:
        err, elapsed = timed_failure(target(server.url))
    assert elapsed < 2, elapsed
    assert "ResponseTooLargeError" in str(err) and "100000000000 bytes" in str(err), err
    assert f"limit of {DEFAULT_MAX_RESPONSE_BYTES} bytes (--wbem-max-response-bytes)" in str(err)


def test_an_endless_answer_is_cut_at_the_limit_while_reading():
    limit = 1024 * 1024
    with hs.serve(hs.endless()) as server:
        err, elapsed = timed_failure(target(server.url, max_response_bytes="1M", timeout=20))
    assert elapsed < 3, elapsed
    assert f"exceeds the limit of {limit} bytes" in str(err), err


def test_an_honest_answer_above_the_limit_is_refused():
    with hs.serve(hs.padded(2 * 1024 * 1024)) as server:
        t = target(server.url, max_response_bytes=1024 * 1024)
        err, _ = timed_failure(t)
    assert "announced an answer of" in str(err), err
    assert isinstance(t.transport.max_response_bytes, int)


def test_a_direct_connection_use_is_bounded_per_request():
    """``Target.conn`` (e.g. for pywbem's WBEMServer) bypasses Target.call but
    not the transport: size limit and per-request deadline still apply."""
    with hs.serve(hs.trickle("body", interval=0.3)) as server:
        t = target(server.url, timeout=1)
        start = time.monotonic()
        with pytest.raises(OperationTimeoutError, match="request timed out"):
            t.conn.EnumerateInstanceNames("CIM_Foo")
    assert time.monotonic() - start < 1 + MARGIN
    with hs.serve(hs.endless()) as server:
        t = target(server.url, max_response_bytes="1M")
        with pytest.raises(ResponseTooLargeError, match="exceeds the limit of 1048576 bytes"):
            t.conn.EnumerateInstanceNames("CIM_Foo")


# -- 2. TLS options win over the environment -------------------------------------------

@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return hs.throwaway_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https(tls):
    with hs.serve(hs.ok(), tls=tls.server_context()) as server:
        yield server


@pytest.fixture
def hostile_env(monkeypatch, tls):
    """CI images often set these; they name a bundle without our CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.other_ca))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tls.other_ca))


def test_ca_certs_wins_over_requests_ca_bundle(https, tls, hostile_env):
    """Before: REQUESTS_CA_BUNDLE replaced --wbem-ca-certs: verification failed."""
    t = target(https.url, ca_certs=str(tls.ca))
    assert call(t) == []
    assert t.tls_description == f"tls: verify with {tls.ca} (from --wbem-ca-certs)"


def test_no_verify_wins_over_requests_ca_bundle(https, hostile_env):
    """Before: REQUESTS_CA_BUNDLE switched verification back on."""
    t = target(https.url, no_verify=True)
    assert call(t) == []
    assert t.tls_description == "tls: not verified (--wbem-no-verify)"


def test_without_options_the_environment_bundle_is_used_and_fails(https, tls, hostile_env):
    t = target(https.url)
    assert t.tls_description == f"tls: verify with $REQUESTS_CA_BUNDLE={tls.other_ca}"
    err, _ = timed_failure(t)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err), err


def test_without_options_or_environment_the_default_bundle_is_used(https, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    t = target(https.url)
    assert t.tls_description == (f"tls: verify with the default bundle "
                                 f"{requests.certs.where()} (certifi)")
    err, _ = timed_failure(t)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err), err


def test_tls_descriptions_of_http_and_mock():
    assert tls_choice(TargetOptions(url="http://h")).description == "tls: none (http)"
    assert tls_choice(TargetOptions(url="http://h", no_verify=True)).description == \
        "tls: none (http); --wbem-no-verify not used"
    assert open_target(TargetOptions()).tls_description == "tls: none (the embedded mock)"
    env = {"CURL_CA_BUNDLE": "/x/curl.pem"}
    assert tls_choice(TargetOptions(url="https://h"), env).description == \
        "tls: verify with $CURL_CA_BUNDLE=/x/curl.pem"


# -- 3. redirects are never followed -----------------------------------------------------

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_transport_error_naming_status_and_location(status):
    """Before: a 307 to another port ran the whole suite against that server."""
    with hs.serve(hs.ok()) as elsewhere:
        location = elsewhere.url.replace("://", f"://eve:{SECRET}@") + "/cimom"
        with hs.serve(hs.redirect(location, status)) as server:
            err, _ = timed_failure(target(server.url))
            with pytest.raises(RedirectRefusedError):  # also when pywbem is used directly
                target(server.url).conn.EnumerateInstanceNames("CIM_Foo")
        assert elsewhere.requests == []
    text = str(err)
    assert f"HTTP {status}" in text and f"Location '{elsewhere.url}/cimom'" in text, text
    assert "RedirectRefusedError" in text and SECRET not in text


# -- 4. secrets ----------------------------------------------------------------------------

def test_the_password_is_in_no_repr_or_str():
    opts = TargetOptions(url=f"http://bob:{SECRET}x@127.0.0.1:1", user="bob", password=SECRET)
    t = open_target(opts)
    texts = [repr(opts), str(opts), repr(t), str(t), repr(t.conn), str(t.conn),
             repr(t.transport), repr(t.transport.auth), repr(opts.password),
             str(opts.password), "\n".join(t.transport.describe()),
             repr(copy.deepcopy(opts))]
    for text in texts:
        assert SECRET not in text, text
    assert "bob" in repr(opts) and "Secret('********')" == repr(opts.password)
    assert opts.password.reveal() == SECRET
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(opts)
    assert t.conn.creds is None  # pywbem never holds the password


@pytest.mark.parametrize("source", ["option", "url", "environment"])
def test_the_server_receives_the_password_from_each_source(source, monkeypatch):
    kw = {"user": "bob"}
    with hs.serve(hs.ok()) as server:
        url = server.url
        if source == "option":
            kw["password"] = SECRET
        elif source == "url":
            url = url.replace("://", f"://bob:{SECRET}@")
        else:
            monkeypatch.setenv("WBEM_PASSWORD", SECRET)
        t = target(url, **kw)
        assert call(t) == []
    request, = server.requests
    assert (request.user, request.password) == ("bob", SECRET)
    assert SECRET not in str(t) + repr(t.conn) + repr(t.options)


def test_a_cim_error_echoing_the_credentials_is_scrubbed():
    with hs.serve(hs.cim_error_echoing_credentials()) as server:
        t = target(server.url, user="bob", password=SECRET)
        with pytest.raises(CIMError) as info:
            call(t)
    assert server.requests[0].password == SECRET  # the server did echo it
    assert info.value.status_code == 1
    for text in (str(info.value), info.value.status_description, t.calls[-1].summary):
        assert SECRET not in text and "password=********" in text, text


@pytest.mark.parametrize("status", [500, 401])
def test_an_http_error_echoing_the_credentials_is_scrubbed(status):
    with hs.serve(hs.http_error_echoing_credentials(status)) as server:
        t = target(server.url, user="bob", password=SECRET)
        err, _ = timed_failure(t)
    assert server.requests[0].password == SECRET
    for text in (str(err), t.calls[-1].summary, repr(err)):
        assert SECRET not in text and "password=********" in text, text


def test_redact_url_never_raises():
    assert redact_url("https://u:p@host:5989/x") == "https://host:5989/x"
    assert redact_url("http://u:p@h:abc") == "http://h:abc"
    assert redact_url("http://u:p@[::1") == "http://[::1"
    assert redact_url(None) == "None"


@pytest.mark.parametrize("source", ["option", "url", "environment"])
def test_a_target_scrubs_the_password_from_each_source(source, monkeypatch):
    kw, url = {"user": "bob"}, "http://127.0.0.1:1"
    if source == "option":
        kw["password"] = SECRET
    elif source == "url":
        url = f"http://bob:{SECRET}@127.0.0.1:1"
    else:
        monkeypatch.setenv("WBEM_PASSWORD", SECRET)
    t = open_target(TargetOptions(url=url, **kw))
    token = base64.b64encode(f"bob:{SECRET}".encode()).decode()
    assert t.secrets.scrub(f"[{SECRET}] [{quote(SECRET)}] [{token}]") == \
        "[********] [********] [********]"


def test_traceback_locals_never_show_the_password(pytester):
    """``pytest -l --tb=long`` prints every frame's locals: a password in a plain
    local of ``_open_url``, ``Target.call`` or the transport would be shown."""
    pytester.makepyfile(test_leak=textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import hostile_servers as hs
        from wbemconform.options import TargetOptions
        from wbemconform.targets import open_target

        SECRET = {SECRET!r}

        def test_setup_error():
            open_target(TargetOptions(url="http://bob:" + SECRET + "@127.0.0.1:abc",
                                      password=SECRET))

        def test_server_error():
            with hs.serve(hs.http_error_echoing_credentials()) as server:
                t = open_target(TargetOptions(url=server.url, user="bob", password=SECRET))
                t.call("EnumerateInstanceNames", "CIM_Foo")

        def test_cim_error():
            with hs.serve(hs.cim_error_echoing_credentials()) as server:
                t = open_target(TargetOptions(url=server.url.replace("://", "://bob:" + SECRET + "@"),
                                              timeout=5))
                t.call("EnumerateInstanceNames", "CIM_Foo")
    """))
    result = pytester.runpytest_subprocess("-l", "--tb=long", "-p", "no:cacheprovider",
                                           timeout=60)
    text = result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=3)
    assert "options    = TargetOptions(" in text and "TargetSetupError" in text, text
    assert "ServerError" in text and "CIMError" in text, text
    assert SECRET not in text, text
    assert text.count("password=********") >= 2, text


# -- 5. options are checked before anything happens -------------------------------------

BAD = [
    (dict(url=f"http://bob:{SECRET}@127.0.0.1:abc"),
     f"--wbem-url 'http://127.0.0.1:abc': the port 'abc' is not a number"),
    (dict(url="http://127.0.0.1:0"), "the port 0 is not between 1 and 65535"),
    (dict(url="http://127.0.0.1:70000"), "the port 70000 is not between 1 and 65535"),
    (dict(url="http://[::1"), "not a valid URL (Invalid IPv6 URL)"),
    (dict(url="http://[fe80::zz]:5988"), "not a valid URL ('fe80::zz' does not appear to be"),
    (dict(url="http://exa mple.org"), "the host 'exa mple.org' is not a valid host name"),
    (dict(url="http://h/wbem"), "a path, query or fragment cannot be used"),
    (dict(url="http://h?x=1"), "a path, query or fragment cannot be used"),
    (dict(url="ftp://h"), "expected http://HOST[:PORT] or https://HOST[:PORT]"),
    (dict(url="127.0.0.1:5988"), "expected http://HOST[:PORT] or https://HOST[:PORT]"),
    (dict(url="http://h", timeout=0), "--wbem-timeout 0: expected a number of seconds > 0"),
    (dict(url="http://h", timeout=float("nan")), "--wbem-timeout nan: expected a number"),
    (dict(url="http://h", timeout=-1.5), "--wbem-timeout -1.5: expected a number"),
    (dict(url="http://h", timeout=float("inf")), "--wbem-timeout inf: expected a number"),
    (dict(url="http://h", timeout=1e12), "and at most 86400"),
    (dict(url="http://h", timeout="5"), "--wbem-timeout 5: expected a number"),
    (dict(timeout=0), "--wbem-timeout 0: expected"),  # the mock, too
    (dict(url="http://h", max_response_bytes="lots"),
     "--wbem-max-response-bytes 'lots': expected a number of bytes, optionally with K, M or G"),
    (dict(url="http://h", max_response_bytes=0), "expected at least 1024 bytes"),
    (dict(url="https://h", no_verify=True, ca_certs=__file__),
     "--wbem-no-verify and --wbem-ca-certs: give one of them"),
    (dict(url="https://h", ca_certs="/nonexistent/ca.pem"),
     "--wbem-ca-certs /nonexistent/ca.pem: no such file"),
    (dict(url="http://h", password=SECRET), "--wbem-password: given without --wbem-user"),
    (dict(url="http://h", mock_mof=["x.mof"]), "--wbem-mock-mof: only used with the embedded"),
    (dict(url="http://h", mock_schema="s.zip", mock_dialect="dmtf"),
     "--wbem-mock-schema, --wbem-mock-dialect: only used with the embedded mock"),
    (dict(user="bob", no_verify=True),
     "--wbem-user, --wbem-no-verify: only used with --wbem-url"),
]


@pytest.mark.parametrize("kw, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_options_are_one_line_naming_the_option(kw, message):
    with pytest.raises(TargetSetupError) as info:
        validate_options(TargetOptions(**kw))
    text = str(info.value)
    assert message in text and "\n" not in text and SECRET not in text, text
    with pytest.raises(TargetSetupError):
        open_target(TargetOptions(**kw))


def test_a_missing_environment_bundle_is_named(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    with pytest.raises(TargetSetupError, match=r"^\$REQUESTS_CA_BUNDLE=/nonexistent/bundle.pem"
                                               r": no such file"):
        validate_options(TargetOptions(url="https://h"))
    validate_options(TargetOptions(url="https://h", ca_certs=__file__))  # the option wins
    validate_options(TargetOptions(url="http://h"))  # no TLS, no bundle


@pytest.mark.parametrize("url", ["http://127.0.0.1", "https://[::1]:5989/", "http://h:5988/cimom",
                                 "HTTP://Host.Example.org:1", "http://bob:pw@h"])
def test_good_urls_pass(url):
    validate_options(TargetOptions(url=url, timeout=0.5, max_response_bytes="64MiB"))


def test_parse_byte_size():
    assert [parse_byte_size(x) for x in ("1024", "16M", "64MiB", "512k", " 2 GB", 4096)] == \
        [1024, 16 << 20, 64 << 20, 512 << 10, 2 << 30, 4096]
    for bad in ("", "1.5M", "-1", "lots", True):
        with pytest.raises(ValueError):
            parse_byte_size(bad)


# -- the private uses (fail loudly when pywbem or requests change them) ------------------

def test_adapter_pywbem_posts_through_the_installed_session():
    import pywbem
    sent = []

    class Counting(requests.Session):
        def post(self, *args, **kwargs):
            sent.append(args[0])
            return super().post(*args, **kwargs)

    with hs.serve(hs.ok()) as server:
        conn = pywbem.WBEMConnection(server.url, timeout=5)
        pywbem_adapter.install_session(conn, Counting())
        assert conn.EnumerateInstanceNames("CIM_Foo") == []
    assert sent == [server.url + "/cimom"]


def test_adapter_linear_handler_builds_pywbem_s_tree():
    cimxml.connect(TargetOptions(url="http://127.0.0.1:1"))  # installs the handler
    from pywbem import _tupletree
    assert _tupletree.CIMContentHandler is pywbem_adapter._LinearTextHandler
    for name in ("characters", "startElement", "endElement"):
        assert name in vars(pywbem_adapter._ORIGINAL_HANDLER), name
    doc = (b'<?xml version="1.0" encoding="utf-8" ?>\n<A x="1">one\ntwo &amp; three'
           b'<B>in\nB<![CDATA[<raw>]]></B>\n\nafter B&#10;<C/>tail</A>')
    assert pywbem_adapter.parse_xml(doc) == pywbem_adapter.original_parse_xml(doc)


def test_adapter_body_already_read_keeps_cookies():
    with hs.serve(hs.ok(extra=["Set-Cookie: session=abc; Path=/"])) as server:
        t = target(server.url)
        assert call(t) == []
    assert t.transport.session.cookies.get("session") == "abc"


def test_a_second_thread_may_use_another_target_meanwhile():
    """Each target's deadline is its own (the worker's thread-local)."""
    with hs.serve(hs.trickle("headers", interval=0.5)) as slow, hs.serve(hs.ok()) as fast:
        results = []
        worker = threading.Thread(target=lambda: results.append(
            pytest.raises(ServerError, call, target(slow.url, timeout=2))))
        worker.start()
        assert call(target(fast.url, timeout=2)) == []
        worker.join(2 + MARGIN)
    assert results and "timed out" in str(results[0].value)

