"""The embedded mock served over CIM-XML/HTTP (wbemconform.server), driven by
pywbem's real WBEMConnection over 127.0.0.1 and compared with the same
operations on the in-process mock."""

import base64
import threading
import urllib.error
import urllib.request

import pytest
import pywbem
from pywbem import CIMError, CIMInstanceName

from wbemconform.mock import connect
from wbemconform.server import serve

INTEROP = "root/interop"
CIMV2 = "root/cimv2"
ECTP = "Microsoft_Process_ElementConformsToProfile_v1"
TIMEOUT = 10


# -- fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def mock():
    return connect()


@pytest.fixture(scope="module")
def server(mock):
    srv = serve(mock)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def wire(server):
    conn = pywbem.WBEMConnection(server.url, default_namespace=INTEROP, timeout=TIMEOUT)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="module")
def auth_server(mock):
    with serve(mock, user="alice", password="s3cret:with colon") as srv:
        yield srv


# -- helpers -------------------------------------------------------------------

def local(path):
    """A path without host, in its keybindings too."""
    out = path.copy()
    out.host = None
    if isinstance(out, CIMInstanceName):
        for key, value in list(out.keybindings.items()):
            if isinstance(value, CIMInstanceName):
                out.keybindings[key] = local(value)
    return out


def keyset(paths):
    return sorted(str(local(p)) for p in paths)


def values(inst):
    return {name: prop.value for name, prop in inst.properties.items()}


def same_instances(wire_insts, mock_insts):
    assert len(wire_insts) == len(mock_insts)
    by_path = {str(local(i.path)): values(i) for i in mock_insts}
    assert {str(local(i.path)): values(i) for i in wire_insts} == by_path


def process_profile(conn):
    return next(p for p in conn.EnumerateInstanceNames("CIM_RegisteredProfile",
                                                       namespace=INTEROP)
                if p.keybindings["InstanceID"] == "Process")


def post(url, body, headers=None, method="POST"):
    """(status, headers, body) of a raw HTTP request."""
    hdrs = {"Content-Type": 'application/xml; charset="utf-8"',
            "CIMOperation": "MethodCall", "CIMMethod": "EnumerateInstances",
            "CIMObject": "root/interop"}
    hdrs.update(headers or {})
    req = urllib.request.Request(url + "/cimom", data=body, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


ENUM_REQUEST = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n'
    b'<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="42" PROTOCOLVERSION="1.0">'
    b'<SIMPLEREQ><IMETHODCALL NAME="%s"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/>'
    b'<NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
    b'<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_RegisteredProfile"/></IPARAMVALUE>'
    b'</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')


# -- operations over the wire == in process ---------------------------------------

def test_server_binds_loopback_on_a_free_port(server):
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0


def test_enumerate_registered_profiles(wire, mock):
    insts = wire.EnumerateInstances("CIM_RegisteredProfile", namespace=INTEROP)
    assert sorted(i["RegisteredName"] for i in insts) == ["Process", "Software Inventory"]
    assert all(i.path.namespace == INTEROP for i in insts)
    same_instances(insts, mock.EnumerateInstances("CIM_RegisteredProfile", namespace=INTEROP))
    assert keyset(wire.EnumerateInstanceNames("CIM_RegisteredProfile")) == \
        keyset(mock.EnumerateInstanceNames("CIM_RegisteredProfile", namespace=INTEROP))


def test_associator_names_cross_namespace(wire, mock):
    profile = process_profile(wire)
    procs = wire.AssociatorNames(profile, ResultClass="Win32_Process")
    assert procs and all(p.namespace == CIMV2 and p.classname == "Win32_Process"
                         for p in procs)
    assert all(p.host == wire.url.split("//", 1)[1] for p in procs)  # the server's own name
    assert keyset(procs) == keyset(mock.AssociatorNames(process_profile(mock),
                                                        ResultClass="Win32_Process"))
    back = wire.AssociatorNames(procs[0], ResultClass="CIM_RegisteredProfile")
    assert keyset(back) == keyset([profile])
    assert back[0].namespace == INTEROP
    assert keyset(back) == keyset(mock.AssociatorNames(local(procs[0]),
                                                       ResultClass="CIM_RegisteredProfile"))


def test_associators_references_reference_names(wire, mock):
    w_profile, m_profile = process_profile(wire), process_profile(mock)
    same_instances(wire.Associators(w_profile, ResultClass="Win32_Process"),
                   mock.Associators(m_profile, ResultClass="Win32_Process"))
    w_refs = wire.References(w_profile)
    assert w_refs and {r.classname for r in w_refs} == {ECTP}
    same_instances(w_refs, mock.References(m_profile))
    w_names = wire.ReferenceNames(w_profile)
    assert keyset(w_names) == keyset(mock.ReferenceNames(m_profile))
    assert keyset(w_names) == keyset(r.path for r in w_refs)


def test_get_instance_of_an_association_path(wire, mock):
    path = wire.ReferenceNames(process_profile(wire))[0]
    inst = wire.GetInstance(path)
    assert inst.classname == ECTP
    assert isinstance(inst["ManagedElement"], CIMInstanceName)
    assert inst["ManagedElement"].namespace == CIMV2
    assert inst["ConformantStandard"].namespace == INTEROP
    assert values(inst) == values(mock.GetInstance(local(path)))


def test_exec_query_wql(wire, mock):
    query = "SELECT * FROM Win32_Process"
    insts = wire.ExecQuery("WQL", query, namespace=CIMV2)
    assert insts and {i.classname for i in insts} == {"Win32_Process"}
    same_instances(insts, mock.ExecQuery("WQL", query, namespace=CIMV2))


def test_pull_sequence(wire, mock):
    result = wire.OpenEnumerateInstances(ECTP, namespace=CIMV2, MaxObjectCount=1)
    pulled, rounds = list(result.instances), 0
    assert len(result.instances) == 1 and not result.eos
    while not result.eos:
        rounds += 1
        assert rounds < 100
        result = wire.PullInstancesWithPath(result.context, MaxObjectCount=1)
        pulled.extend(result.instances)
    assert result.context is None
    assert all(i.path.namespace == CIMV2 for i in pulled)
    same_instances(pulled, mock.EnumerateInstances(ECTP, namespace=CIMV2))


def test_pull_paths_and_close(wire, mock):
    profile = process_profile(wire)
    result = wire.OpenReferenceInstancePaths(profile, MaxObjectCount=1)
    assert not result.eos
    wire.CloseEnumeration(result.context)
    with pytest.raises(CIMError) as err:
        wire.PullInstancePaths(result.context, MaxObjectCount=1)
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_ENUMERATION_CONTEXT
    paths = list(wire.IterAssociatorInstancePaths(profile, ResultClass="Win32_Process",
                                                   MaxObjectCount=1))
    assert keyset(paths) == keyset(mock.AssociatorNames(process_profile(mock),
                                                        ResultClass="Win32_Process"))


def test_open_query_instances_same_answer_as_in_process(wire, mock):
    """OpenQueryInstances: whatever the mock answers, the wire answers."""
    def outcome(conn):
        try:
            res = conn.OpenQueryInstances("WQL", "SELECT * FROM Win32_Process",
                                          namespace=CIMV2, MaxObjectCount=100)
            # DSP0200: OpenQueryInstances returns instances without paths
            return "ok", sorted(i["Handle"] for i in res.instances)
        except CIMError as exc:
            return exc.status_code, exc.status_description
    assert outcome(wire) == outcome(mock)


def test_classes_and_qualifiers(wire, mock):
    cls = wire.GetClass("CIM_RegisteredProfile")
    assert set(cls.properties) == set(mock.GetClass("CIM_RegisteredProfile").properties)
    assert sorted(c.classname for c in wire.EnumerateClasses(DeepInheritance=True)) == \
        sorted(c.classname for c in mock.EnumerateClasses(namespace=INTEROP,
                                                          DeepInheritance=True))
    assert sorted(wire.EnumerateClassNames(namespace=CIMV2, DeepInheritance=True)) == \
        sorted(mock.EnumerateClassNames(namespace=CIMV2, DeepInheritance=True))
    key = wire.GetQualifier("Key")
    assert key.type == "boolean" and key.scopes["PROPERTY"] and key.scopes["REFERENCE"]
    assert sorted(q.name for q in wire.EnumerateQualifiers()) == \
        sorted(q.name for q in mock.EnumerateQualifiers(namespace=INTEROP))


def test_write_round_trip():
    """Create/Modify/Delete instance and Create/Delete class, on a mock of its own."""
    with serve(connect()) as srv:
        conn = pywbem.WBEMConnection(srv.url, default_namespace=CIMV2, timeout=TIMEOUT)
        cls = pywbem.CIMClass("Test_Thing", properties=[
            pywbem.CIMProperty("K", None, type="string",
                               qualifiers=[pywbem.CIMQualifier("Key", True)]),
            pywbem.CIMProperty("V", None, type="uint32")])
        conn.CreateClass(cls)
        path = conn.CreateInstance(pywbem.CIMInstance(
            "Test_Thing", properties={"K": "a", "V": pywbem.Uint32(1)}))
        assert path.keybindings["K"] == "a" and path.namespace == CIMV2
        inst = conn.GetInstance(path)
        inst["V"] = pywbem.Uint32(2)
        conn.ModifyInstance(inst)
        assert conn.GetInstance(path)["V"] == 2
        conn.DeleteInstance(path)
        conn.DeleteClass("Test_Thing")
        with pytest.raises(CIMError) as err:
            conn.GetClass("Test_Thing")
        assert err.value.status_code == pywbem.CIM_ERR_NOT_FOUND
        conn.close()


# -- errors --------------------------------------------------------------------------

def test_cim_error_not_found(wire, mock):
    missing = CIMInstanceName("ProcessProfile", {"InstanceID": "no such profile"},
                              namespace=INTEROP)
    with pytest.raises(CIMError) as err:
        wire.GetInstance(missing)
    assert err.value.status_code == pywbem.CIM_ERR_NOT_FOUND
    with pytest.raises(CIMError) as in_process:
        mock.GetInstance(missing)
    assert in_process.value.status_code == err.value.status_code


def test_delete_association_not_supported(wire, mock):
    path = wire.ReferenceNames(process_profile(wire))[0]
    with pytest.raises(CIMError) as err:
        wire.DeleteInstance(path)
    assert err.value.status_code == pywbem.CIM_ERR_NOT_SUPPORTED
    with pytest.raises(CIMError) as in_process:
        mock.DeleteInstance(local(path))
    assert in_process.value.status_code == pywbem.CIM_ERR_NOT_SUPPORTED
    assert wire.GetInstance(path).classname == ECTP  # still there


def test_invalid_namespace_and_class(wire):
    with pytest.raises(CIMError) as err:
        wire.EnumerateInstances("CIM_RegisteredProfile", namespace="root/nowhere")
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_NAMESPACE
    with pytest.raises(CIMError) as err:
        wire.EnumerateInstances("No_Such_Class")
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_CLASS


def test_malformed_xml_is_http_400_and_server_keeps_serving(server, wire):
    status, headers, body = post(server.url, b"<CIM><MESSAGE this is not xml")
    assert status == 400
    assert headers["CIMError"] == "request-not-well-formed"
    assert b"Traceback" not in body
    status, headers, _ = post(server.url, b'<?xml version="1.0"?><FOO/>')
    assert status == 400 and headers["CIMError"] == "request-not-valid"
    assert len(wire.EnumerateInstances("CIM_RegisteredProfile")) == 2


def test_raw_request_and_unknown_method(server):
    status, headers, body = post(server.url, ENUM_REQUEST % b"EnumerateInstances")
    assert status == 200 and headers["CIMOperation"] == "MethodResponse"
    assert b'<MESSAGE ID="42"' in body and b"VALUE.NAMEDINSTANCE" in body
    status, headers, body = post(server.url, ENUM_REQUEST % b"FrobnicateInstances",
                                 {"CIMMethod": "FrobnicateInstances"})
    assert status == 200 and "CIMError" not in headers
    assert b'<ERROR CODE="7"' in body  # CIM_ERR_NOT_SUPPORTED


def test_http_level_errors(server):
    assert post(server.url, b"", method="GET")[0] == 405
    status, headers, _ = post(server.url, ENUM_REQUEST % b"EnumerateInstances",
                              {"CIMOperation": "Nonsense"})
    assert status == 400 and headers["CIMError"] == "unsupported-operation"
    status, headers, _ = post(server.url, ENUM_REQUEST % b"EnumerateInstances",
                              {"CIMMethod": "GetClass"})
    assert status == 400 and headers["CIMError"] == "header-mismatch"


def test_concurrent_clients(server, mock):
    expected = keyset(mock.EnumerateInstanceNames(ECTP, namespace=CIMV2))
    results, errors = [], []

    def client():
        try:
            conn = pywbem.WBEMConnection(server.url, default_namespace=CIMV2,
                                         timeout=TIMEOUT)
            for _ in range(5):
                results.append(keyset(conn.EnumerateInstanceNames(ECTP)))
            conn.close()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors
    assert results == [expected] * 20


# -- authentication ---------------------------------------------------------------------

def test_auth_required(auth_server):
    conn = pywbem.WBEMConnection(auth_server.url, default_namespace=INTEROP, timeout=TIMEOUT)
    with pytest.raises(pywbem.AuthError):
        conn.EnumerateInstanceNames("CIM_RegisteredProfile")
    conn = pywbem.WBEMConnection(auth_server.url, ("alice", "wrong"),
                                 default_namespace=INTEROP, timeout=TIMEOUT)
    with pytest.raises(pywbem.AuthError):
        conn.EnumerateInstanceNames("CIM_RegisteredProfile")
    status, headers, _ = post(auth_server.url, ENUM_REQUEST % b"EnumerateInstances")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="wbemconform"'


def test_auth_right_credentials(auth_server):
    conn = pywbem.WBEMConnection(auth_server.url, ("alice", "s3cret:with colon"),
                                 default_namespace=INTEROP, timeout=TIMEOUT)
    assert len(conn.EnumerateInstanceNames("CIM_RegisteredProfile")) == 2
    token = base64.b64encode(b"alice:s3cret:with colon").decode()
    status, _, body = post(auth_server.url, ENUM_REQUEST % b"EnumerateInstances",
                           {"Authorization": f"Basic {token}"})
    assert status == 200 and b"VALUE.NAMEDINSTANCE" in body


def test_stop_is_idempotent_and_closes_the_port(mock):
    srv = serve(mock)
    url = srv.url
    with srv:
        assert post(url, ENUM_REQUEST % b"EnumerateInstances")[0] == 200
    srv.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


# -- a second application mounted beside CIM-XML (serve(apps=...)) ------------------

def _echo_app_factory(mounts):
    """A trivial mounted application: it answers, in plain text, where it is
    mounted, the path below that, and how many registered profiles the
    served mock has (read under the mock's lock, with the server's auth)."""
    def factory(mount):
        mounts.append(mount)

        def app(environ, start_response):
            try:
                mount.auth.check(environ)
            except Exception as exc:  # the HTTP-level error of auth.check
                start_response(f"{exc.status} Unauthorized", exc.headers)
                return [b"who are you?\n"]
            with mount.lock:
                count = len(mount.conn.EnumerateInstanceNames("CIM_RegisteredProfile",
                                                              namespace=INTEROP))
            text = (f"{environ['REQUEST_METHOD']} {environ['SCRIPT_NAME']} "
                    f"{environ['PATH_INFO']!r} profiles={count}\n").encode()
            start_response("200 OK", [("Content-Type", "text/plain"),
                                      ("Content-Length", str(len(text)))])
            return [text]
        return app
    return factory


def _request(url, method="POST", body=b"<x/>", headers=None):
    req = urllib.request.Request(url, data=body if method == "POST" else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def test_a_second_app_mounted_at_wsman_answers_beside_cimxml():
    mounts = []
    mock = connect()
    with serve(mock, apps={"/wsman": _echo_app_factory(mounts)}) as srv:
        mount, = mounts
        assert srv.mounted == ["/wsman"]
        assert mount.conn is mock and mount.prefix == "/wsman" and not mount.read_only
        assert mount.lock is srv._frontend.app.lock  # one lock for the one mock
        assert _request(srv.url + "/wsman") == (200, b"POST /wsman '' profiles=2\n")
        assert _request(srv.url + "/wsman/a/b?q=1", method="GET") == \
            (200, b"GET /wsman '/a/b' profiles=2\n")
        # CIM-XML still answers everywhere else, on the same front end and mock
        wire = pywbem.WBEMConnection(srv.url, default_namespace=INTEROP, timeout=TIMEOUT)
        assert len(wire.EnumerateInstanceNames("CIM_RegisteredProfile")) == 2
        status, _, body = post(srv.url, ENUM_REQUEST % b"EnumerateInstances")
        assert status == 200 and b"VALUE.NAMEDINSTANCE" in body
        assert _request(srv.url + "/wsmanx", method="GET")[0] == 405  # not below /wsman
        assert _request(srv.url + "/", method="GET")[0] == 405
        assert not mount.stopping.is_set()
    assert mount.stopping.is_set()


def test_a_mounted_app_shares_the_servers_authentication(mock):
    mounts = []
    with serve(mock, user="alice", password="pw", read_only=True,
               apps={"/wsman": _echo_app_factory(mounts)}) as srv:
        assert mounts[0].read_only
        assert _request(srv.url + "/wsman")[0] == 401
        token = base64.b64encode(b"alice:pw").decode()
        assert _request(srv.url + "/wsman", headers={"Authorization": f"Basic {token}"}) == \
            (200, b"POST /wsman '' profiles=2\n")


@pytest.mark.parametrize("prefix", ["/", "", "wsman", "/wsman/", "/a/../b", "/a b", 7])
def test_mount_prefix_must_be_a_path(mock, prefix):
    with pytest.raises(ValueError, match="cannot mount"):
        serve(mock, apps={prefix: _echo_app_factory([])})
