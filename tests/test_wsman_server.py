"""The served mock over WS-Management (src/wbemconform/server/wsman*.py).

Every request is built and every answer parsed with the codec's client side
(wbemconform.wsman), over HTTP on 127.0.0.1, against serve(connect(),
apps={"/wsman": make_wsman_app}); answers are compared with what the same
mock answers in process through pywbem."""

import base64
import functools
import http.client
import re
import signal
import subprocess
import sys
import urllib.parse

import pytest
import pywbem
from lxml import etree
from pywbem import (CIM_ERR_ACCESS_DENIED, CIM_ERR_INVALID_CLASS, CIM_ERR_METHOD_NOT_FOUND,
                    CIM_ERR_NOT_SUPPORTED,
                    CIM_ERR_INVALID_ENUMERATION_CONTEXT, CIM_ERR_INVALID_NAMESPACE,
                    CIM_ERR_NOT_FOUND, CIMError, CIMInstanceName)

from wbemconform.mock import connect
from wbemconform.server import MAX_XML_DEPTH, MAX_XML_ELEMENTS, default_apps, serve
from wbemconform.server.wsman import MIN_ENVELOPE, make_wsman_app
from wbemconform.wsman import (AssociatedInstancesFilter, AssociationInstancesFilter, Epr,
                               RawFilter, WqlFilter, WsmanFault, build_enumerate, build_get,
                               build_get_instance, build_invoke, build_pull, build_release,
                               canonical_text, parse_enumerate_response, parse_get_response,
                               parse_invoke_response, parse_pull_response,
                               parse_release_response)
from wbemconform.wsman.envelope import read_envelope
from wbemconform.wsman.names import (ACTION_GET, CLASS_RETRIEVAL_URI, MODE_EPR,
                                     MODE_OBJECT_AND_EPR)
from wbemconform.wsman.resource_uri import ALL_CLASSES_URI, DMTF_BASE, WINRM_WMI_BASE

INTEROP, CIMV2 = "root/interop", "root/cimv2"
PROFILE = CIMInstanceName("ProcessProfile", {"InstanceID": "Process"}, namespace=INTEROP)
ECTP = "Microsoft_Process_ElementConformsToProfile_v1"


# -- a small WS-Man client over http.client -----------------------------------------------

class Client:
    def __init__(self, server, prefix="/wsman", auth=None):
        parts = urllib.parse.urlsplit(server.url)
        self.host, self.port = parts.hostname, parts.port
        self.path = prefix
        self.to = server.url + prefix
        self.auth = auth
        self.mock = None

    def raw(self, body, content_type="application/soap+xml;charset=UTF-8", method="POST",
            headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            hdrs = {"Content-Type": content_type, **(headers or {})}
            if self.auth:
                token = base64.b64encode(":".join(self.auth).encode()).decode()
                hdrs["Authorization"] = f"Basic {token}"
            conn.request(method, self.path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def send(self, body):
        status, headers, data = self.raw(body)
        assert status in (200, 500), (status, data[:300])
        assert headers["Content-Type"].startswith("application/soap+xml")
        assert (status == 500) == (b":Fault>" in data)
        return data

    def classes(self, mock):
        cache = {}

        def lookup(name):
            for ns in (CIMV2, INTEROP):
                try:
                    return cache.setdefault(name.lower(), mock.GetClass(
                        name, namespace=ns, LocalOnly=False))
                except CIMError:
                    continue
            return None
        return lambda name: cache.get(name.lower()) or lookup(name)

    def enumerate(self, uri, mock=None, *, max_elements=None, pull_max=None, optimize=False,
                  **kwargs):
        """Every item of an enumeration, Pulled to its end."""
        classes = self.classes(mock) if mock is not None else None
        res = parse_enumerate_response(self.send(build_enumerate(
            self.to, uri, optimize=optimize, max_elements=max_elements, **kwargs)),
            classes=classes)
        items = list(res.items)
        context, end = res.context, res.end_of_sequence
        pulls = 0
        while not end:
            assert context, "no context to pull with and no EndOfSequence"
            res = parse_pull_response(self.send(build_pull(self.to, uri, context,
                                                           max_elements=pull_max)),
                                      classes=classes)
            items += res.items
            context, end = res.context or context, res.end_of_sequence
            pulls += 1
            assert pulls < 1000
        return items


def key(path):
    """A comparable form of an instance path (no host; values as canonical text)."""
    return (path.namespace.strip("/").lower(), path.classname.lower(),
            tuple(sorted((k.lower(), key(v) if isinstance(v, CIMInstanceName)
                          else canonical_text(v)) for k, v in path.keybindings.items())))


def props(instance):
    return {name.lower(): canonical_text(prop.value) if not isinstance(prop.value, list)
            else [canonical_text(v) for v in prop.value]
            for name, prop in instance.properties.items()}


def same_instances(got, want):
    assert sorted(key(i.path) for i in got) == sorted(key(i.path) for i in want)
    want_by = {key(i.path): props(i) for i in want}
    for inst in got:
        assert props(inst) == want_by[key(inst.path)], inst.path


@pytest.fixture(scope="module")
def mock():
    return connect()


@pytest.fixture(scope="module")
def server(mock):
    with serve(mock, apps={"/wsman": make_wsman_app}) as srv:
        yield srv


@pytest.fixture
def cimxml_url(server):
    """The same server's CIM-XML endpoint."""
    return server.url


@pytest.fixture
def client(server, mock):
    c = Client(server)
    c.mock = mock
    return c


def process_uri():
    return WINRM_WMI_BASE + "root/cimv2/Win32_Process"


# -- enumeration --------------------------------------------------------------------------

ENUMERATIONS = [  # (resource URI, namespace selector, class)
    (process_uri(), None, "Win32_Process"),
    (DMTF_BASE + "CIM_RegisteredProfile", INTEROP, "CIM_RegisteredProfile"),
    (WINRM_WMI_BASE + "root/interop/" + ECTP, None, ECTP),
    (DMTF_BASE + "CIM_ElementConformsToProfile", CIMV2, "CIM_ElementConformsToProfile"),
]


@pytest.mark.parametrize("uri, namespace, classname", ENUMERATIONS)
@pytest.mark.parametrize("optimize, max_elements", [(False, None), (True, 2), (True, 100)])
def test_enumerate_objects_and_eprs_are_the_mocks(client, mock, uri, namespace, classname,
                                                  optimize, max_elements):
    ns = namespace or uri[len(WINRM_WMI_BASE):].rsplit("/", 1)[0]
    want = mock.EnumerateInstances(classname, namespace=ns, LocalOnly=False)
    want_names = mock.EnumerateInstanceNames(classname, namespace=ns)
    assert want, "the example profiles have instances of every class enumerated here"
    common = {"namespace": namespace, "optimize": optimize, "max_elements": max_elements}
    both = client.enumerate(uri, mock, mode=MODE_OBJECT_AND_EPR, **common)
    for item in both:
        item.instance.path = item.path
    same_instances([i.instance for i in both], want)
    eprs = client.enumerate(uri, mock, mode=MODE_EPR, pull_max=3, **common)
    assert sorted(key(i.path) for i in eprs) == sorted(key(p) for p in want_names)
    objects = client.enumerate(uri, mock, **common)
    assert all(i.path is None and i.instance is not None for i in objects)
    assert sorted(i.instance.classname for i in objects) == sorted(i.classname for i in want)


def test_instances_are_named_by_their_own_class_and_namespace(client, mock):
    items = client.enumerate(DMTF_BASE + "CIM_RegisteredProfile", mode=MODE_EPR,
                             namespace=INTEROP)
    uris = {i.epr.resource_uri for i in items}
    assert WINRM_WMI_BASE + "root/interop/ProcessProfile" in uris
    assert all(i.path.namespace == INTEROP for i in items)


def test_max_envelope_size_bounds_each_response():
    many = connect()
    template = many.GetInstance(CIMInstanceName("Win32_Process", {"Handle": "4"},
                                                namespace=CIMV2), LocalOnly=False)
    for number in range(100, 140):
        inst = template.copy()
        inst.path = None
        inst["Handle"] = str(number)
        many.CreateInstance(inst, namespace=CIMV2)
    want = many.EnumerateInstanceNames("Win32_Process", namespace=CIMV2)
    with serve(many, apps={"/wsman": make_wsman_app}) as srv:
        client = Client(srv)
        data = client.send(build_enumerate(client.to, process_uri(), optimize=True,
                                           max_elements=1000, mode=MODE_EPR,
                                           max_envelope_size=MIN_ENVELOPE))
        first = parse_enumerate_response(data)
        assert len(data) <= MIN_ENVELOPE and 1 < len(first.items) < len(want) - 1
        data = client.send(build_pull(client.to, process_uri(), first.context,
                                      max_elements=1000, max_envelope_size=MIN_ENVELOPE))
        second = parse_pull_response(data)
        assert len(data) <= MIN_ENVELOPE and 1 < len(second.items) < len(want) - 1
        got = client.enumerate(process_uri(), mode=MODE_EPR, max_elements=1000, optimize=True)
        assert sorted(key(i.path) for i in got) == sorted(key(p) for p in want)
        fault = pytest.raises(WsmanFault, parse_enumerate_response, client.send(
            build_enumerate(client.to, process_uri(), max_envelope_size=100))).value
        assert fault.subcode == "wsman:EncodingLimit"


# -- Get ----------------------------------------------------------------------------------

def test_get_answers_the_mocks_instance(client, mock):
    paths = mock.EnumerateInstanceNames("Win32_Process", namespace=CIMV2) + \
        mock.EnumerateInstanceNames(ECTP, namespace=INTEROP) + [PROFILE]
    classes = client.classes(mock)
    for path in paths:
        want = mock.GetInstance(path, LocalOnly=False)
        got = parse_get_response(client.send(build_get_instance(client.to, path)),
                                 classes=classes, path=path)
        assert got.classname == want.classname
        assert props(got) == props(want), path
        for name, prop in want.properties.items():  # typed by the class: equal values
            if not isinstance(prop.value, CIMInstanceName):
                assert got.properties[name].value == prop.value, (path, name)


def test_get_in_the_dmtf_form_with_cimnamespace(client, mock):
    data = client.send(build_get(client.to, DMTF_BASE + "CIM_RegisteredProfile",
                                 namespace=INTEROP, selectors={"InstanceID": "Process"}))
    # the mock's GetInstance on a base class path: whatever it answers, the same here
    try:
        want = mock.GetInstance(CIMInstanceName("CIM_RegisteredProfile",
                                                {"InstanceID": "Process"}, namespace=INTEROP))
    except CIMError as exc:
        fault = pytest.raises(WsmanFault, parse_get_response, data).value
        assert fault.cim_status == exc.status_code
    else:
        assert parse_get_response(data).classname == want.classname


def test_class_retrieval_answers_a_dsp0201_class(client, mock):
    for name, ns in (("Win32_Process", CIMV2), ("ProcessProfile", INTEROP), (ECTP, CIMV2)):
        data = client.send(build_get(client.to, CLASS_RETRIEVAL_URI, namespace=ns,
                                     selectors={"ClassName": name}))
        env = read_envelope(data)
        assert env.action == ACTION_GET + "Response"
        elem = env.payload
        assert elem.tag == "CLASS" and elem.get("NAME") == name
        want = mock.GetClass(name, namespace=ns, LocalOnly=False, IncludeQualifiers=True,
                             IncludeClassOrigin=True)
        assert etree.tostring(elem, method="c14n", exclusive=True) == \
            etree.tostring(etree.fromstring(want.tocimxmlstr()), method="c14n", exclusive=True)
    fault = pytest.raises(WsmanFault, parse_get_response, client.send(build_get(
        client.to, CLASS_RETRIEVAL_URI, namespace=CIMV2, selectors={"ClassName": "Nope"}))).value
    with pytest.raises(CIMError) as mock_error:
        mock.GetClass("Nope", namespace=CIMV2)
    assert fault.cim_status == mock_error.value.status_code == CIM_ERR_NOT_FOUND  # DSP0200


# -- filters ------------------------------------------------------------------------------

@pytest.mark.parametrize("uri, namespace", [(WINRM_WMI_BASE + "root/cimv2/*", None),
                                            (ALL_CLASSES_URI, CIMV2)])
def test_wql_filter_is_the_mocks_execquery(client, mock, uri, namespace):
    query = "SELECT * FROM Win32_Process WHERE Handle <> '0'"
    want = mock.ExecQuery("WQL", query, namespace=CIMV2)
    got = client.enumerate(uri, mock, filter=WqlFilter(query), namespace=namespace,
                           mode=MODE_OBJECT_AND_EPR, optimize=True, max_elements=50)
    for item in got:
        item.instance.path = item.path
    same_instances([i.instance for i in got], want)
    fault = pytest.raises(WsmanFault, parse_enumerate_response, client.send(build_enumerate(
        client.to, uri, namespace=namespace, filter=WqlFilter("SELEC nonsense")))).value
    assert fault.cim_status is not None


ASSOCIATED = [  # (object, filter arguments) -> Associators/AssociatorNames
    (PROFILE, {"result_class": "Win32_Process"}),
    (PROFILE, {"association_class": "CIM_ElementConformsToProfile", "role": "ConformantStandard",
               "result_role": "ManagedElement"}),
    (CIMInstanceName("Win32_Process", {"Handle": "4"}, namespace=CIMV2),
     {"result_class": "CIM_RegisteredProfile"}),
    (CIMInstanceName("Win32_Process", {"Handle": "4"}, namespace=CIMV2), {}),
]


@pytest.mark.parametrize("obj, args", ASSOCIATED)
@pytest.mark.parametrize("uri", [WINRM_WMI_BASE + "root/interop/*", ALL_CLASSES_URI])
def test_associated_instances_filter_is_the_mocks_associators(client, mock, obj, args, uri):
    mock_args = {"AssocClass": args.get("association_class"),
                 "ResultClass": args.get("result_class"), "Role": args.get("role"),
                 "ResultRole": args.get("result_role")}
    want = mock.Associators(obj, **mock_args)
    want_names = mock.AssociatorNames(obj, **mock_args)
    assert want
    flt = AssociatedInstancesFilter(obj, **args)
    got = client.enumerate(uri, mock, filter=flt, mode=MODE_OBJECT_AND_EPR)
    for item in got:
        item.instance.path = item.path
    same_instances([i.instance for i in got], want)
    names = client.enumerate(uri, mock, filter=flt, mode=MODE_EPR, optimize=True,
                             max_elements=10)
    assert sorted(key(i.path) for i in names) == sorted(key(p) for p in want_names)
    # across namespaces: the profile in root/interop, the processes in root/cimv2
    assert {i.path.namespace for i in names} == {p.namespace for p in want_names}


@pytest.mark.parametrize("obj, args", [
    (PROFILE, {}), (PROFILE, {"result_class": ECTP, "role": "ConformantStandard"}),
    (CIMInstanceName("Win32_Process", {"Handle": "0"}, namespace=CIMV2), {})])
def test_association_instances_filter_is_the_mocks_references(client, mock, obj, args):
    mock_args = {"ResultClass": args.get("result_class"), "Role": args.get("role")}
    want = mock.References(obj, **mock_args)
    want_names = mock.ReferenceNames(obj, **mock_args)
    assert want
    flt = AssociationInstancesFilter(obj, **args)
    got = client.enumerate(ALL_CLASSES_URI, mock, filter=flt, mode=MODE_OBJECT_AND_EPR,
                           optimize=True, max_elements=3)
    for item in got:
        item.instance.path = item.path
    same_instances([i.instance for i in got], want)
    names = client.enumerate(ALL_CLASSES_URI, mock, filter=flt, mode=MODE_EPR)
    assert sorted(key(i.path) for i in names) == sorted(key(p) for p in want_names)
    # an association instance's EPR is good for a Get
    for item in names[:2]:
        inst = parse_get_response(client.send(build_get(
            client.to, item.epr.resource_uri, selectors=item.epr.selectors)))
        assert inst.classname == item.path.classname


def test_an_unknown_filter_dialect_is_a_fault(client):
    fault = pytest.raises(WsmanFault, parse_enumerate_response, client.send(build_enumerate(
        client.to, ALL_CLASSES_URI, namespace=CIMV2,
        filter=RawFilter("http://example.com/dialect", "x")))).value
    assert fault.subcode == "wsen:FilterDialectRequestedUnavailable"
    fault = pytest.raises(WsmanFault, parse_enumerate_response, client.send(build_enumerate(
        client.to, ALL_CLASSES_URI, namespace=CIMV2))).value
    assert fault.subcode == "wsa:DestinationUnreachable"


# -- Pull, Release, expiry, cap -----------------------------------------------------------

def test_pull_one_at_a_time_then_the_context_is_gone(client, mock):
    want = mock.EnumerateInstanceNames("Win32_Process", namespace=CIMV2)
    res = parse_enumerate_response(client.send(build_enumerate(client.to, process_uri(),
                                                               mode=MODE_EPR)))
    assert not res.items and res.context and not res.end_of_sequence
    got = []
    for _ in want:
        pulled = parse_pull_response(client.send(build_pull(client.to, process_uri(),
                                                            res.context)))
        assert len(pulled.items) == 1  # WS-Enumeration: MaxElements defaults to 1
        got += pulled.items
    assert pulled.end_of_sequence and pulled.context is None
    assert sorted(key(i.path) for i in got) == sorted(key(p) for p in want)
    fault = pytest.raises(WsmanFault, parse_pull_response, client.send(build_pull(
        client.to, process_uri(), res.context))).value
    assert fault.subcode == "wsen:InvalidEnumerationContext"
    assert fault.cim_status == CIM_ERR_INVALID_ENUMERATION_CONTEXT


def test_release_closes_the_context(client):
    res = parse_enumerate_response(client.send(build_enumerate(client.to, process_uri())))
    assert parse_release_response(client.send(build_release(client.to, process_uri(),
                                                            res.context))) is None
    for build in (build_pull, build_release):
        fault = pytest.raises(WsmanFault, parse_pull_response,
                              client.send(build(client.to, process_uri(), res.context)),
                              check_action=False).value
        assert fault.cim_status == CIM_ERR_INVALID_ENUMERATION_CONTEXT
        assert "released" in fault.reason


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_contexts_expire_and_are_capped(mock):
    clock = Clock()
    factory = functools.partial(make_wsman_app, enumeration_timeout=30, max_contexts=2,
                                clock=clock)
    with serve(mock, apps={"/wsman": factory}) as srv:
        client = Client(srv)

        def open_context():
            return parse_enumerate_response(client.send(build_enumerate(
                client.to, process_uri()))).context

        def pull(context):
            return client.send(build_pull(client.to, process_uri(), context))
        first = open_context()
        clock.now += 31
        fault = pytest.raises(WsmanFault, parse_pull_response, pull(first)).value
        assert fault.cim_status == CIM_ERR_INVALID_ENUMERATION_CONTEXT
        assert "expired" in fault.reason
        a, b = open_context(), open_context()
        clock.now += 20
        parse_pull_response(pull(a))  # a is used: b is now the least recently used
        c = open_context()
        fault = pytest.raises(WsmanFault, parse_pull_response, pull(b)).value
        assert "make room" in fault.reason and "at most 2" in fault.reason
        for context in (a, c):
            assert parse_pull_response(pull(context)).items


# -- faults -------------------------------------------------------------------------------

@pytest.mark.parametrize("build, status", [
    (lambda to: build_get(to, process_uri(), selectors={"Handle": "99999"}), CIM_ERR_NOT_FOUND),
    (lambda to: build_get(to, WINRM_WMI_BASE + "root/cimv2/NoSuch_Class",
                          selectors={"Id": "1"}), CIM_ERR_INVALID_CLASS),
    (lambda to: build_enumerate(to, WINRM_WMI_BASE + "root/cimv2/NoSuch_Class"),
     CIM_ERR_INVALID_CLASS),
    (lambda to: build_enumerate(to, WINRM_WMI_BASE + "root/nosuch/Win32_Process"),
     CIM_ERR_INVALID_NAMESPACE),
    (lambda to: build_get(to, DMTF_BASE + "CIM_RegisteredProfile", namespace="root/nosuch",
                          selectors={"InstanceID": "Process"}), CIM_ERR_INVALID_NAMESPACE),
])
def test_cim_errors_are_faults_with_the_cim_status(client, build, status):
    data = client.send(build(client.to))
    fault = pytest.raises(WsmanFault, parse_get_response, data, check_action=False).value
    assert fault.cim_status == status and fault.cim_status_source == "detail"
    assert fault.subcode.startswith(("wsa:", "wsman:", "wsen:"))


def test_the_fault_relates_to_the_request(client):
    body = build_get(client.to, process_uri(), selectors={"Handle": "99999"},
                     message_id="uuid:11111111-2222-3333-4444-555555555555")
    fault = pytest.raises(WsmanFault, parse_get_response, client.send(body)).value
    assert fault.relates_to == "uuid:11111111-2222-3333-4444-555555555555"


def test_unknown_actions_and_resource_uris(client):
    body = build_get(client.to, process_uri(), selectors={"Handle": "4"}).replace(
        ACTION_GET.encode(), b"http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe")
    fault = pytest.raises(WsmanFault, parse_get_response, client.send(body)).value
    assert fault.subcode == "wsa:ActionNotSupported"
    fault = pytest.raises(WsmanFault, parse_get_response, client.send(build_get(
        client.to, "http://example.com/not/a/class/uri"))).value
    assert fault.subcode == "wsa:DestinationUnreachable" and fault.cim_status is None


# -- methods, read-only -------------------------------------------------------------------

def test_custom_actions_get_the_answer_cim_xml_gives(client, cimxml_url):
    """One served mock answers one way whatever the protocol: an extrinsic
    method the profile's class does not declare is CIM_ERR_METHOD_NOT_FOUND
    over CIM-XML, and so over WS-Management (the mock's InvokeMethod answers
    both; tests/test_mock_cimom.py: declared methods)."""
    uri = WINRM_WMI_BASE + "root/interop/ProcessProfile"
    for method in ("GetCentralInstances", "RequestStateChange"):
        with pytest.raises(CIMError) as over_cimxml:
            pywbem.WBEMConnection(cimxml_url, timeout=10).InvokeMethod(method, PROFILE)
        fault = pytest.raises(WsmanFault, parse_invoke_response, client.send(build_invoke(
            client.to, uri, method, selectors={"InstanceID": "Process"}))).value
        assert fault.cim_status == over_cimxml.value.status_code == CIM_ERR_METHOD_NOT_FOUND


def test_read_only_refuses_actions_as_cim_xml_does(mock, no_tracebacks):
    with serve(mock, read_only=True, apps={"/wsman": make_wsman_app}) as srv:
        client = Client(srv)
        uri = WINRM_WMI_BASE + "root/interop/ProcessProfile"
        fault = pytest.raises(WsmanFault, parse_invoke_response, client.send(build_invoke(
            client.to, uri, "RequestStateChange", {"RequestedState": 2},
            selectors={"InstanceID": "Process"}))).value
        assert fault.cim_status == CIM_ERR_ACCESS_DENIED and "read-only" in fault.reason
        assert fault.subcode == "wsman:AccessDenied"
        # reads are served
        assert client.enumerate(process_uri())


# -- HTTP: authentication, methods, content types -----------------------------------------

def test_basic_authentication(mock):
    with serve(mock, user="alice", password="s3cret-pw",
               apps={"/wsman": make_wsman_app}) as srv:
        body = build_enumerate(srv.url + "/wsman", process_uri(), optimize=True,
                               max_elements=100)
        status, headers, data = Client(srv).raw(body)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
        assert data == b""
        status, _, data = Client(srv, auth=("alice", "wrong")).raw(body)
        assert status == 401
        status, _, data = Client(srv, auth=("alice", "s3cret-pw")).raw(body)
        assert status == 200 and parse_enumerate_response(data).items


def test_http_methods_and_content_types(client, no_tracebacks):
    body = build_enumerate(client.to, process_uri())
    assert client.raw(body, method="PUT")[0] == 405
    status, headers, _ = client.raw(b"", method="GET")
    assert status == 405 and headers["Allow"] == "POST"
    assert client.raw(body, content_type="text/plain")[0] == 415
    assert client.raw(body, content_type="text/xml; charset=utf-8")[0] == 200


# -- hostile and malformed XML ------------------------------------------------------------

def _envelope_around(inner):
    return (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/>'
            b'<s:Body>' + inner + b'</s:Body></s:Envelope>')


HOSTILE = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE s [<!ELEMENT s ANY>]>' + _envelope_around(b""),
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                      + _envelope_around(b"<a>&lol2;</a>"),
    "external-entity": b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY xxe SYSTEM '
                       b'"file:///etc/passwd">]>' + _envelope_around(b"<a>&xxe;</a>"),
    "undeclared-entity": _envelope_around(b"<a>&xxe;</a>"),
    "depth": _envelope_around(b"<a>" * (MAX_XML_DEPTH + 5) + b"</a>" * (MAX_XML_DEPTH + 5)),
    "elements": _envelope_around(b"<a/>" * (MAX_XML_ELEMENTS + 10)),
    "utf16-doctype": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s [<!ENTITY a "b">]>'
                      '<s/>').encode("utf-16"),
}
MALFORMED = {
    "not-xml": b"this is not XML at all",
    "unclosed": _envelope_around(b"<a>")[:-10],
    "not-soap": b"<CIM CIMVERSION='2.0'/>",
    "no-action": _envelope_around(b""),
    "binary": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_a_fault_never_a_traceback(client, name, no_tracebacks, caplog):
    status, _, data = client.raw(HOSTILE[name])
    assert status == 500
    fault = pytest.raises(WsmanFault, parse_get_response, data, check_action=False).value
    assert fault.subcode == "wsman:EncodingLimit", fault
    assert "refused XML" in fault.reason and "\n" not in fault.reason
    assert b"Traceback" not in data and b"root:" not in data  # nothing of /etc/passwd


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_xml_is_a_fault_never_a_traceback(client, name, no_tracebacks):
    status, _, data = client.raw(MALFORMED[name])
    assert status == 500
    fault = pytest.raises(WsmanFault, parse_get_response, data, check_action=False).value
    assert fault.subcode in ("wsman:SchemaValidationError", "wsman:EncodingLimit",
                             "wsa:MessageInformationHeaderRequired"), fault
    assert b"Traceback" not in data


def test_an_oversized_body_is_refused_before_it_is_parsed(client, no_tracebacks):
    status, _, _ = client.raw(_envelope_around(b"<a>" + b"x" * (5 * 1024 * 1024) + b"</a>"))
    assert status == 413


def test_the_server_still_answers_after_hostile_requests(client, mock, no_tracebacks):
    for body in list(HOSTILE.values()) + list(MALFORMED.values()):
        client.raw(body)
    assert len(client.enumerate(process_uri(), optimize=True, max_elements=100)) == \
        len(mock.EnumerateInstanceNames("Win32_Process", namespace=CIMV2))


# -- `wbemconform serve` ------------------------------------------------------------------

def test_cimxml_stays_everywhere_else(server):
    import pywbem
    conn = pywbem.WBEMConnection(server.url, default_namespace=INTEROP, timeout=10)
    assert conn.EnumerateInstanceNames("CIM_RegisteredProfile")
    assert server.mounted == ["/wsman"]


def test_wbemconform_serve_answers_ws_management_at_wsman():
    assert set(default_apps()) == {"/wsman"}
    proc = subprocess.Popen([sys.executable, "-m", "wbemconform.cli", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(https?://[0-9.]+:\d+)", line)
        assert match and "/wsman" in line, line
        url = match.group(1)

        class Srv:
            pass
        srv = Srv()
        srv.url = url
        client = Client(srv)
        items = client.enumerate(WINRM_WMI_BASE + "root/interop/*", mode=MODE_EPR,
                                 filter=AssociatedInstancesFilter(
                                     PROFILE, result_class="Win32_Process"))
        assert items and {i.path.namespace for i in items} == {CIMV2}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def test_odd_but_well_formed_requests_are_faults_never_tracebacks(client, no_tracebacks):
    uri = process_uri()
    cases = [
        build_get(client.to, uri, selectors={"Handle": "4"}).replace(b'Name="Handle"',
                                                                     b'Name=""'),
        build_get(client.to, uri, selectors={"Handle": "4", "handle": "5", "x y": "z"}),
        build_get(client.to, uri, selectors={"Handle": Epr("http://x/y", {})}),
        build_enumerate(client.to, ALL_CLASSES_URI, namespace=CIMV2,
                        filter=AssociatedInstancesFilter(Epr("http://x/y", {}))),
        build_enumerate(client.to, ALL_CLASSES_URI, namespace=CIMV2, filter=WqlFilter("")),
        build_enumerate(client.to, ALL_CLASSES_URI, namespace=CIMV2,
                        filter=WqlFilter("SELECT * FROM A WHERE " + " OR ".join(
                            ["x=1"] * 3000))),
        build_invoke(client.to, uri, "Foo", {"x": [1, 2]}, selectors={"Handle": "4"}),
        build_get(client.to, uri),
        build_get(client.to, ALL_CLASSES_URI, namespace=CIMV2),
        build_get(client.to, CLASS_RETRIEVAL_URI, namespace=CIMV2),
        build_pull(client.to, uri, "uuid:unknown"),
    ]
    for body in cases:
        status, _, data = client.raw(body)
        assert status == 500, data[:400]
        assert pytest.raises(WsmanFault, parse_get_response, data, check_action=False).value
