"""WS-Transfer writes (Create, Put, Delete): the codec's round trips, the
served mock's WS-Man app answering them (and refusing them when read-only),
and the WS-Management target sending them only with --wbem-allow-writes
(src/wbemconform/wsman/transfer.py, targets/wsman_writes.py,
server/wsman.py, server/wsman_ops.py)."""

from __future__ import annotations

import pytest
from pywbem import (CIM_ERR_ACCESS_DENIED, CIM_ERR_NOT_SUPPORTED, CIMError, CIMInstance,
                    CIMInstanceName, CIMProperty, Uint32)

from hostile_servers import serve as serve_raw
from test_wsman_target import CLASS_XML, PASSWORD, PROFILE, _answer
from wbemconform.mock import connect
from wbemconform.options import TargetOptions
from wbemconform.runner import run_session
from wbemconform.server import serve
from wbemconform.server.wsman import make_wsman_app
from wbemconform.targets import ServerError, WriteRefused, open_target
from wbemconform.wsman import (WsmanFault, build_create, build_fault, build_create_response, build_delete,
                               build_delete_response, build_get_response, build_put,
                               build_put_response, parse_create_response,
                               parse_delete_response, parse_put_response, parse_request)
from wbemconform.wsman.envelope import WsmanProtocolError
from wbemconform.wsman.names import (ACTION_CREATE, ACTION_DELETE, ACTION_PUT,
                                     CIMNAMESPACE_SELECTOR)

TO = "http://127.0.0.1:5985/wsman"
CIMV2 = "root/cimv2"
WRITE_ACTIONS = (ACTION_CREATE, ACTION_PUT, ACTION_DELETE)
ECTP = "Microsoft_Process_ElementConformsToProfile_v1"


def _process(handle="7001", name="conformance.exe"):
    path = CIMInstanceName("Win32_Process", {"Handle": handle}, namespace=CIMV2)
    return CIMInstance("Win32_Process", path=path, properties={
        "Handle": handle, "Name": name, "ProcessId": CIMProperty("ProcessId", Uint32(7001)),
        "CreationClassName": "Win32_Process"})


# -- the codec ------------------------------------------------------------------------------

def test_create_round_trip():
    inst = _process()
    req = parse_request(build_create(TO, inst, CIMV2, message_id="uuid:c-1"))
    assert (req.operation, req.action, req.namespace, req.classname) == \
        ("Create", ACTION_CREATE, CIMV2, "Win32_Process")
    assert req.keys == {}  # no key selectors: the class's URI and the namespace only
    assert req.input_element is not None
    created = parse_create_response(build_create_response("uuid:c-1", inst.path),
                                    relates_to="uuid:c-1")
    assert created == inst.path
    with pytest.raises(WsmanProtocolError, match="ResourceCreated"):
        parse_create_response(build_delete_response("uuid:c-1").replace(
            b"DeleteResponse", b"CreateResponse"))


def test_create_of_a_dmtf_class_names_the_namespace_by_selector():
    inst = CIMInstance("CIM_RegisteredProfile", properties={"InstanceID": "X:1"})
    req = parse_request(build_create(TO, inst, "root/interop"))
    assert req.selectors == {CIMNAMESPACE_SELECTOR: "root/interop"}
    assert (req.namespace, req.classname) == ("root/interop", "CIM_RegisteredProfile")


def test_put_round_trip():
    inst = _process()
    req = parse_request(build_put(TO, inst.path, inst))
    assert (req.operation, req.action, req.keys) == ("Put", ACTION_PUT, {"Handle": "7001"})
    assert req.namespace == CIMV2 and req.classname == "Win32_Process"
    assert req.input_element is not None
    assert parse_put_response(build_put_response("uuid:p")) is None
    back = parse_put_response(build_put_response("uuid:p", inst), path=inst.path)
    assert back["Name"] == "conformance.exe" and back.path == inst.path


def test_delete_round_trip():
    path = _process().path
    req = parse_request(build_delete(TO, path))
    assert (req.operation, req.action, req.keys, req.input_element) == \
        ("Delete", ACTION_DELETE, {"Handle": "7001"}, None)
    assert parse_delete_response(build_delete_response("uuid:d")) is None
    with pytest.raises(WsmanProtocolError, match="expected action"):
        parse_delete_response(build_put_response("uuid:d"))


def test_a_put_or_create_without_an_instance_is_refused():
    body = build_delete(TO, _process().path).replace(ACTION_DELETE.encode(),
                                                     ACTION_PUT.encode())
    with pytest.raises(WsmanFault) as info:
        parse_request(body)
    assert info.value.subcode == "wxf:InvalidRepresentation"


# -- the served mock ------------------------------------------------------------------------

def _wsman_target(url, **kw):
    return open_target(TargetOptions(url=url + "/wsman", timeout=20, **kw))


def test_the_served_mock_creates_modifies_and_deletes_as_in_process():
    mock = connect()
    with serve(mock, apps={"/wsman": make_wsman_app}) as srv:
        target = _wsman_target(srv.url, allow_writes=True)
        assert target.can("writes")
        inst = _process()
        path = target.call("CreateInstance", CIMInstance(
            inst.classname, properties=dict(inst.properties)), namespace=CIMV2)
        assert path.classname == "Win32_Process" and path.keybindings["Handle"] == "7001"
        assert mock.GetInstance(inst.path)["Name"] == "conformance.exe"
        changed = mock.GetInstance(inst.path)
        changed["Name"] = "renamed.exe"
        target.call("ModifyInstance", changed)
        assert mock.GetInstance(inst.path)["Name"] == "renamed.exe"
        assert mock.GetInstance(inst.path)["ProcessId"] == 7001  # typed by the class
        target.call("DeleteInstance", inst.path)
        with pytest.raises(CIMError):
            mock.GetInstance(inst.path)


def test_the_providers_refusal_comes_back_with_its_cim_status():
    """The spec's association provider registers SupportsDelete = FALSE: the
    mock refuses the Delete with CIM_ERR_NOT_SUPPORTED in process, and the
    WS-Man client sees that status."""
    mock = connect()
    victim = mock.EnumerateInstanceNames(ECTP, namespace="root/interop")[0]
    with pytest.raises(CIMError) as in_process:
        mock.DeleteInstance(victim)
    with serve(mock, apps={"/wsman": make_wsman_app}) as srv:
        target = _wsman_target(srv.url, allow_writes=True)
        with pytest.raises(CIMError) as over_wsman:
            target.call("DeleteInstance", victim)
    assert over_wsman.value.status_code == in_process.value.status_code == CIM_ERR_NOT_SUPPORTED
    assert len(mock.EnumerateInstanceNames(ECTP, namespace="root/interop")) == 4


def test_read_only_refuses_every_write_and_leaves_the_instance(no_tracebacks):
    mock = connect()
    path = CIMInstanceName("Win32_Process", {"Handle": "0"}, namespace=CIMV2)
    before = mock.GetInstance(path)
    with serve(mock, read_only=True, apps={"/wsman": make_wsman_app}) as srv:
        target = _wsman_target(srv.url, allow_writes=True)
        changed = before.copy()
        changed["Name"] = "tampered.exe"
        attempts = (("CreateInstance", (_process(),), {"namespace": CIMV2}),
                    ("ModifyInstance", (changed,), {}),
                    ("DeleteInstance", (path,), {}))
        for op, args, kwargs in attempts:
            with pytest.raises(CIMError) as info:
                target.call(op, *args, **kwargs)
            assert info.value.status_code == CIM_ERR_ACCESS_DENIED, op
            assert "read-only" in info.value.status_description
    assert mock.GetInstance(path) == before
    with pytest.raises(CIMError):
        mock.GetInstance(_process().path)


# -- the target: no write without --wbem-allow-writes; garbled answers ------------------------

def _recording_server(log, answer_writes=None):
    """A WS-Man server that records every request; a write is answered by
    ``answer_writes(request)`` (bytes), else with a fault."""
    def respond(request, out):
        req = parse_request(request.body)
        log.append(req)
        if req.action in WRITE_ACTIONS and answer_writes is not None:
            _answer(out, answer_writes(req))
            return
        if req.operation == "Get" and req.resource_uri.endswith("/cim-xml/2/cim-schema/2/*"):
            plain = build_get_response(req.message_id, PROFILE)
            inner = plain.split(b"<s:Body>")[1].split(b"</s:Body>")[0]
            _answer(out, plain.replace(inner, CLASS_XML.replace(
                b"XYZ_RegisteredProfile", req.selectors["ClassName"].encode())))
            return
        _answer(out, build_fault("wsa:ActionNotSupported", "not here",
                                 relates_to=req.message_id), 500)
    return respond


def _options(url, **kw):
    return TargetOptions(url=url + "/wsman", user="tester", password=PASSWORD, timeout=5, **kw)


def test_without_allow_writes_no_write_is_ever_sent():
    log = []
    with serve_raw(_recording_server(log, lambda req: build_delete_response(
            req.message_id))) as srv:
        target = open_target(_options(srv.url))
        assert not target.can("writes")
        for op, args, kwargs in (("CreateInstance", (PROFILE,), {"namespace": "root/interop"}),
                                 ("ModifyInstance", (PROFILE,), {}),
                                 ("DeleteInstance", (PROFILE.path,), {})):
            with pytest.raises(WriteRefused):
                target.call(op, *args, **kwargs)
            assert target.calls[-1].outcome == "refused"
    assert log, "the recording server saw the class probe"
    assert not [r.action for r in log if r.action in WRITE_ACTIONS]


def test_the_whole_suite_without_allow_writes_sends_no_write():
    """A full run against the served mock (PR-5 included) posts no WS-Transfer write."""
    mock = connect()
    seen = []

    def recording(mount, **options):
        app = make_wsman_app(mount, **options)
        soap = app._soap

        def spy(body):
            seen.append(parse_request(body).action)
            return soap(body)
        app._soap = spy
        return app
    with serve(mock, apps={"/wsman": recording}) as srv:
        session = run_session(TargetOptions(url=srv.url + "/wsman", timeout=20, workers=1))
    assert not session.setup_error and seen
    assert session.results.overall("PR-5") == "not-applicable"
    assert not [a for a in seen if a in WRITE_ACTIONS]


@pytest.mark.parametrize("garble", [
    b"this is not XML",
    b"<?xml version='1.0'?><s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'>"
    b"<s:Body/></s:Envelope>",  # no action: no DeleteResponse
])
def test_a_garbled_answer_to_a_delete_is_an_error_never_a_refusal(garble):
    log = []
    with serve_raw(_recording_server(log, lambda req: garble)) as srv:
        target = open_target(_options(srv.url, allow_writes=True))
        with pytest.raises(ServerError) as info:
            target.call("DeleteInstance", PROFILE.path)
        assert not isinstance(info.value, CIMError)
        assert target.calls[-1].outcome == "server-error"
        assert PASSWORD not in str(info.value)
    assert [r.action for r in log if r.action in WRITE_ACTIONS] == [ACTION_DELETE]


def test_a_create_answer_without_resource_created_is_an_error():
    log = []
    with serve_raw(_recording_server(log, lambda req: build_delete_response(
            req.message_id).replace(b"DeleteResponse", b"CreateResponse"))) as srv:
        target = open_target(_options(srv.url, allow_writes=True))
        with pytest.raises(ServerError, match="ResourceCreated"):
            target.call("CreateInstance", CIMInstance(
                "XYZ_RegisteredProfile", properties={"InstanceID": "XYZ:new"}),
                namespace="root/interop")
    create = next(r for r in log if r.action == ACTION_CREATE)
    assert create.classname == "XYZ_RegisteredProfile" and create.keys == {}
    assert create.namespace == "root/interop"


def test_a_refused_write_is_a_cim_error_the_check_sees():
    """A server without the writes answers wsa:ActionNotSupported without a
    CIM status: a refusal (CIMError, undetermined), not a transport error."""
    log = []
    with serve_raw(_recording_server(log)) as srv:
        target = open_target(_options(srv.url, allow_writes=True))
        with pytest.raises(CIMError) as info:
            target.call("DeleteInstance", PROFILE.path)
        assert getattr(info.value, "undetermined", False)
        assert target.calls[-1].outcome == "cim-error" and target.failure is None
    assert [r.action for r in log if r.action in WRITE_ACTIONS] == [ACTION_DELETE]
