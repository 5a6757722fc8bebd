"""The WS-Management target: its opener, its client's operations, faults,
bounded enumerations and secrets -- against a small fake WS-Man server on
127.0.0.1 (tests/hostile_servers.py), whose answers the codec builds."""

from __future__ import annotations

import time

import pytest
from pywbem import CIMError, CIMInstance, CIMInstanceName, CIMProperty, Uint16

from hostile_servers import serve
from wbemconform.options import TargetOptions
from wbemconform.targets import (OPENERS, ServerError, TargetSetupError, UndeterminedCIMError,
                                 open_target, opener_for, validate_options)
from wbemconform.targets import cimxml, wsman
from wbemconform.targets.base import PROTOCOL_CAPABILITIES, is_undetermined
from wbemconform.wsman import (build_enumerate_response, build_fault, build_get_response,
                               build_invoke_response, build_pull_response,
                               build_release_response, parse_request)

PASSWORD = "Wsman-Secret-4711"
NS = "root/interop"
PROFILE = CIMInstance("XYZ_RegisteredProfile", properties={
    "InstanceID": "XYZ:Fan:1", "RegisteredName": "Fan", "RegisteredVersion": "1.0.1",
    "RegisteredOrganization": CIMProperty("RegisteredOrganization", Uint16(2))},
    path=CIMInstanceName("XYZ_RegisteredProfile", {"InstanceID": "XYZ:Fan:1"}, namespace=NS))
FAN = CIMInstance("XYZ_Fan", properties={"DeviceID": "FAN:1", "ElementName": "CPU fan"},
                  path=CIMInstanceName("XYZ_Fan", {"DeviceID": "FAN:1"}, namespace="root/hw"))
CLASS_XML = (b'<CLASS NAME="XYZ_RegisteredProfile"><PROPERTY NAME="InstanceID" TYPE="string">'
             b'</PROPERTY><PROPERTY NAME="RegisteredOrganization" TYPE="uint16"></PROPERTY>'
             b'</CLASS>')


def _answer(out, body, status=200):
    head = (f"HTTP/1.1 {status} X\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    out.send(head + body)


def wsman_server(*, empty_pulls=False, fault=None, class_get=True, log=None):
    """A responder speaking enough WS-Management for the client's operations."""
    def respond(request, out):
        req = parse_request(request.body)
        (log if log is not None else []).append(req)
        mid = req.message_id
        if fault is not None and req.operation != "Get":
            _answer(out, fault(mid), 500)
            return
        if req.operation == "Get" and req.resource_uri.endswith("/cim-xml/2/cim-schema/2/*"):
            if not class_get:
                _answer(out, build_fault("wsa:DestinationUnreachable", "no such resource",
                                         relates_to=mid), 500)
                return
            plain = build_get_response(mid, PROFILE)
            inner = plain.split(b"<s:Body>")[1].split(b"</s:Body>")[0]
            name = req.selectors["ClassName"].encode()
            env = plain.replace(inner, CLASS_XML.replace(b"XYZ_RegisteredProfile", name))
            _answer(out, env)
            return
        if req.operation == "Get":
            if req.selectors.get("InstanceID") == "XYZ:Fan:1":
                _answer(out, build_get_response(mid, PROFILE))
            else:
                _answer(out, build_fault("wsa:DestinationUnreachable", "no such instance",
                                         relates_to=mid, cim_status=6), 500)
            return
        if req.operation == "Enumerate":
            flt = req.filter
            items = [FAN] if flt is not None and not hasattr(flt, "query") else [PROFILE]
            if empty_pulls:
                _answer(out, build_enumerate_response(mid, context="ctx-1"))
                return
            _answer(out, build_enumerate_response(
                mid, items if req.enumeration_mode != "EnumerateEPR" else [i.path for i in items],
                context="ctx-1", end_of_sequence=True, optimized=True, mode=req.enumeration_mode))
            return
        if req.operation == "Pull":
            _answer(out, build_pull_response(mid, [], context="ctx-1"))
            return
        if req.operation == "Release":
            _answer(out, build_release_response(mid))
            return
        if req.operation == "Invoke":
            _answer(out, build_invoke_response(mid, req.resource_uri, "GetCentralInstances",
                                               Uint16(0), {"Out": "x"}))
            return
        _answer(out, build_fault("wsa:ActionNotSupported", "?", relates_to=mid), 500)
    return respond


def _options(url, **kw):
    return TargetOptions(url=url + "/wsman", user="tester", password=PASSWORD,
                         timeout=kw.pop("timeout", 5), **kw)


def test_the_opener_claims_wsman_urls_and_the_protocol_option():
    assert OPENERS[0] is wsman
    assert opener_for(TargetOptions(url="http://h:5985/wsman")) is wsman
    assert opener_for(TargetOptions(url="http://h:5988")) is cimxml
    assert opener_for(TargetOptions(url="http://h:5985/x", protocol="wsman")) is wsman
    assert opener_for(TargetOptions(url="http://h/wsman", protocol="cimxml")) is cimxml
    with pytest.raises(TargetSetupError, match="--wbem-auth"):
        validate_options(TargetOptions(url="http://h:5988", auth="ntlm", user="u"))


def test_basic_over_http_is_refused_except_on_loopback():
    with pytest.raises(TargetSetupError, match="in clear"):
        validate_options(TargetOptions(url="http://example.com/wsman", user="u"))
    validate_options(TargetOptions(url="http://127.0.0.1:5985/wsman", user="u"))
    validate_options(TargetOptions(url="https://example.com/wsman", user="u"))
    validate_options(TargetOptions(url="http://example.com/wsman", user="u", auth="ntlm"))
    with pytest.raises(TargetSetupError, match="--wbem-resource-uri"):
        validate_options(TargetOptions(url="https://h/wsman", resource_uris=["nonsense"]))


def test_every_opener_declares_the_protocol_capabilities(tmp_path):
    mock = open_target(TargetOptions())
    assert PROTOCOL_CAPABILITIES <= mock.capabilities


def test_operations_answer_pywbem_objects():
    log = []
    with serve(wsman_server(log=log)) as srv:
        target = open_target(_options(srv.url))
        assert "class-retrieval" in target.capabilities
        assert not target.can("pull-operations") and not target.can("exact-fault-codes")
        profiles = target.call("EnumerateInstances", "XYZ_RegisteredProfile", namespace=NS)
        assert profiles[0]["RegisteredOrganization"] == 2  # typed from the class
        assert profiles[0].path.namespace == NS
        names = target.call("EnumerateInstanceNames", "XYZ_RegisteredProfile", namespace=NS)
        assert names == [PROFILE.path]
        got = target.call("GetInstance", PROFILE.path)
        assert got["RegisteredName"] == "Fan" and got.path == PROFILE.path
        assoc = target.call("AssociatorNames", PROFILE.path, AssocClass="XYZ_ECTP",
                            ResultClass="XYZ_Fan", Role="ConformantStandard",
                            ResultRole="ManagedElement")
        assert assoc == [FAN.path]
        assert target.call("Associators", PROFILE.path)[0]["ElementName"] == "CPU fan"
        assert target.call("ReferenceNames", PROFILE.path, ResultClass="XYZ_ECTP") == [FAN.path]
        assert target.call("References", PROFILE.path)[0].path == FAN.path
        assert target.call("ExecQuery", "WQL", "SELECT * FROM XYZ_RegisteredProfile",
                           namespace=NS)[0].path == PROFILE.path
        cls = target.call("GetClass", "XYZ_RegisteredProfile", namespace=NS, LocalOnly=False)
        assert cls.properties["RegisteredOrganization"].type == "uint16"
        rv, out = target.call("InvokeMethod", "GetCentralInstances", PROFILE.path)
        assert rv == "0" and out == {"Out": "x"}
        with pytest.raises(CIMError) as info:
            target.call("OpenEnumerateInstancePaths", "XYZ_RegisteredProfile", namespace=NS)
        assert info.value.status_code == 7 and "WS-Management" in info.value.status_description
        with pytest.raises(CIMError) as info:
            target.call("EnumerateClassNames", namespace=NS)
        assert info.value.status_code == 7
    filters = [r.filter for r in log if r.operation == "Enumerate" and r.filter is not None]
    first = filters[0]
    assert (first.association_class, first.result_class, first.role, first.result_role) == \
        ("XYZ_ECTP", "XYZ_Fan", "ConformantStandard", "ManagedElement")
    assert any(getattr(f, "query", None) for f in filters)
    get = next(r for r in log if r.operation == "Get" and r.selectors.get("InstanceID"))
    assert get.selectors["__cimnamespace"] == NS and get.classname == "XYZ_RegisteredProfile"


def test_without_class_retrieval_values_stay_text_and_getclass_is_not_supported():
    with serve(wsman_server(class_get=False)) as srv:
        target = open_target(_options(srv.url))
        assert not target.can("class-retrieval")
        profile = target.call("EnumerateInstances", "XYZ_RegisteredProfile", namespace=NS)[0]
        assert profile["RegisteredOrganization"] == "2"
        with pytest.raises(CIMError) as info:
            target.call("GetClass", "XYZ_RegisteredProfile", namespace=NS)
        assert info.value.status_code == 7


def test_faults_with_and_without_a_cim_status():
    with serve(wsman_server()) as srv:
        target = open_target(_options(srv.url))
        with pytest.raises(CIMError) as info:
            target.call("GetInstance", CIMInstanceName("XYZ_RegisteredProfile",
                                                       {"InstanceID": "nope"}, namespace=NS))
        assert info.value.status_code == 6 and not is_undetermined(info.value)
    with serve(wsman_server(fault=lambda mid: build_fault(
            "wsa:DestinationUnreachable", "cannot tell", relates_to=mid))) as srv:
        target = open_target(_options(srv.url))
        with pytest.raises(UndeterminedCIMError) as info:
            target.call("EnumerateInstanceNames", "XYZ_RegisteredProfile", namespace=NS)
        err = info.value
        assert err.undetermined and err.status_code == 1
        assert err.subcode == "wsa:DestinationUnreachable" and "cannot tell" in str(err)
        assert target.calls[-1].outcome == "cim-error" and target.failure is None


def test_endless_empty_pulls_are_cut_and_the_enumeration_released():
    log = []
    with serve(wsman_server(empty_pulls=True, log=log)) as srv:
        target = open_target(_options(srv.url, timeout=20))
        start = time.monotonic()
        with pytest.raises(ServerError, match="Pulls in a row brought nothing"):
            target.call("EnumerateInstanceNames", "XYZ_RegisteredProfile", namespace=NS)
        assert time.monotonic() - start < 15
    ops = [r.operation for r in log]
    assert ops.count("Pull") == 20 and ops[-1] == "Release"


def test_an_enumeration_abandoned_at_the_deadline_is_released():
    log = []

    def slow_pulls(request, out):
        req = parse_request(request.body)
        log.append(req)
        if req.operation == "Pull":
            time.sleep(0.6)
        wsman_server(empty_pulls=True, class_get=False)(request, out)
    with serve(slow_pulls) as srv:
        target = open_target(_options(srv.url, timeout=1.5))
        with pytest.raises(ServerError, match="timed out"):
            target.call("EnumerateInstanceNames", "XYZ_RegisteredProfile", namespace=NS)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not any(r.operation == "Release" for r in log):
            time.sleep(0.1)
    assert any(r.operation == "Release" for r in log)


def test_a_server_that_never_answers_is_one_bounded_error_line():
    def silent(request, out):
        while not out.over:
            time.sleep(0.05)
    with serve(silent) as srv:
        start = time.monotonic()
        with pytest.raises(TargetSetupError) as info:
            open_target(_options(srv.url, timeout=1))
        assert time.monotonic() - start < 6
    text = str(info.value)
    assert "\n" not in text and "timed out" in text and PASSWORD not in text


def test_http_errors_and_401_are_transport_errors_without_secrets():
    def refuse(request, out):
        body = f"go away {request.user}:{request.password}".encode()
        out.send(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\nConnection: close\r\n"
                 b"\r\n%s" % (len(body), body))
    with serve(refuse) as srv:
        with pytest.raises(TargetSetupError) as info:
            open_target(_options(srv.url))
    assert "AuthError" in str(info.value) and PASSWORD not in str(info.value)

    def empty_500(request, out):
        req = parse_request(request.body)
        if req.operation == "Get":
            return wsman_server(class_get=False)(request, out)
        out.send(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                 b"Connection: close\r\n\r\n")
    with serve(empty_500) as srv:
        target = open_target(_options(srv.url))
        with pytest.raises(ServerError, match="HTTPError") as info:
            target.call("AssociatorNames", PROFILE.path)
        assert PASSWORD not in str(info.value) and PASSWORD not in repr(target.options)


def test_a_fault_echoing_the_password_is_scrubbed():
    with serve(wsman_server(fault=lambda mid: build_fault(
            "wsman:InternalError", f"bad password {PASSWORD}", relates_to=mid,
            cim_status=1))) as srv:
        target = open_target(_options(srv.url))
        with pytest.raises(CIMError) as info:
            target.call("EnumerateInstances", "XYZ_RegisteredProfile", namespace=NS)
    assert PASSWORD not in str(info.value)
    assert all(PASSWORD not in c.summary for c in target.calls)
