"""The embedded mock against the spec: its MOF, verbatim, and WMI's broker rules."""

import pytest
from pywbem import CIMError, CIMInstance, CIMInstanceName, WBEMConnection
from pywbem._cim_constants import (CIM_ERR_FAILED, CIM_ERR_INVALID_PARAMETER,
                                   CIM_ERR_INVALID_QUERY, CIM_ERR_NOT_FOUND,
                                   CIM_ERR_NOT_SUPPORTED,
                                   CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED)

from wbemconform.mock import ConformsToProfileProvider, MofLoadError, connect

ASSOC = "Microsoft_Process_ElementConformsToProfile_v1"
PROFILE = CIMInstanceName("ProcessProfile", {"InstanceID": "Process"}, namespace="root/interop")
INTEROP_QUALIFIER = '[MSFT_TargetNamespace("root\\\\cimv2")]'
CIMV2_QUALIFIER = '[MSFT_TargetNamespace("root\\\\interop")]'


def process(handle):
    """A process's path as WMI names it: Win32_Process.Handle="4"."""
    return CIMInstanceName("Win32_Process", namespace="root/cimv2",
                           keybindings={"Handle": handle})


def handles(paths):
    return sorted(p["Handle"] for p in paths)


def status(excinfo):
    return excinfo.value.status_code


@pytest.fixture
def spec_conn(spec_mof):
    return connect([spec_mof()])


# -- the spec's MOF, verbatim ---------------------------------------------------

def test_connect_returns_a_wbem_connection(spec_conn):
    assert isinstance(spec_conn, WBEMConnection)
    assert {"root/interop", "root/cimv2"} <= {n.lower() for n in spec_conn.namespaces}


def test_spec_mof_forward_resultclass_reaches_processes_in_cimv2(spec_conn):
    names = spec_conn.AssociatorNames(PROFILE, ResultClass="Win32_Process")
    assert handles(names) == ["100", "200", "300"]
    assert {n.namespace for n in names} == {"root/cimv2"}
    assert {n.classname for n in names} == {"Win32_Process"}


def test_spec_mof_reverse_resultclass_reaches_profile_in_interop(spec_conn):
    names = spec_conn.AssociatorNames(process("200"), ResultClass="CIM_RegisteredProfile")
    assert len(names) == 1
    assert names[0].classname == "ProcessProfile"
    assert names[0].namespace == "root/interop"
    assert names[0]["InstanceID"] == "Process"


def test_spec_mof_associators_return_full_instances(spec_conn):
    procs = spec_conn.Associators(PROFILE, ResultClass="Win32_Process")
    assert sorted(p["Name"] for p in procs) == ["p100.exe", "p200.exe", "p300.exe"]
    assert all(p.path.namespace == "root/cimv2" for p in procs)
    profiles = spec_conn.Associators(process("100"), ResultClass="CIM_RegisteredProfile")
    assert [(p["RegisteredName"], p["RegisteredVersion"], p["OtherRegisteredOrganization"])
            for p in profiles] == [("Process", "1.0", "Microsoft")]
    assert profiles[0]["RegisteredOrganization"] == 1
    assert profiles[0].path.namespace == "root/interop"


def test_spec_mof_superclass_and_non_matching_resultclass(spec_conn):
    assert handles(spec_conn.AssociatorNames(PROFILE, ResultClass="CIM_ManagedElement")) == \
        ["100", "200", "300"]
    assert handles(spec_conn.AssociatorNames(PROFILE, ResultClass="CIM_Process")) == \
        ["100", "200", "300"]
    assert spec_conn.AssociatorNames(PROFILE, ResultClass="CIM_SoftwareIdentity") == []
    assert spec_conn.AssociatorNames(process("100"), ResultClass="CIM_Process") == []


def test_spec_mof_dialect_classes_as_created(spec_conn):
    for ns in ("root/interop", "root/cimv2"):
        cls = spec_conn.GetClass(ASSOC, namespace=ns, LocalOnly=False, IncludeQualifiers=True)
        assert cls.qualifiers["Association"].value is True  # inherited, not repeated
        assert cls.qualifiers["Dynamic"].value is True
        assert cls.qualifiers["Provider"].value == "ProcessAssociation"
        assert cls.superclass == "CIM_ElementConformsToProfile"
        assert cls.properties["ConformantStandard"].value == PROFILE  # the $PP alias
    interop = spec_conn.GetClass(ASSOC, namespace="root/interop", IncludeQualifiers=True,
                                 LocalOnly=False)
    assert interop.properties["ManagedElement"].qualifiers["MSFT_TargetNamespace"].value == \
        "root\\cimv2"
    assert interop.properties["ManagedElement"].reference_class.lower() == "win32_process"
    reg = spec_conn.GetClass("__ProviderRegistration", namespace="root/interop", LocalOnly=False)
    assert reg.properties["Provider"].type == "reference"  # a reference in an ordinary class


def test_spec_mof_enumeration_and_get_in_both_namespaces(spec_conn):
    for ns in ("root/interop", "root/cimv2"):
        insts = spec_conn.EnumerateInstances(ASSOC, namespace=ns)
        names = spec_conn.EnumerateInstanceNames(ASSOC, namespace=ns)
        assert len(insts) == len(names) == 3
        for inst in insts:
            assert inst.path.namespace == ns
            got = spec_conn.GetInstance(inst.path)
            assert dict(got.items()) == dict(inst.items())
            assert got["ConformantStandard"] == PROFILE
            assert got["ManagedElement"].namespace == "root/cimv2"
        # enumerating the DMTF base class sees the dynamic subclass' instances
        assert len(spec_conn.EnumerateInstanceNames("CIM_ElementConformsToProfile",
                                                    namespace=ns)) == 3


def test_spec_mof_references_and_referencenames(spec_conn):
    refs = spec_conn.References(PROFILE, ResultClass=ASSOC)
    assert len(refs) == 3
    assert {r.path.namespace for r in refs} == {"root/interop"}
    assert spec_conn.ReferenceNames(PROFILE, Role="ManagedElement") == []
    assert len(spec_conn.ReferenceNames(PROFILE, Role="ConformantStandard")) == 3
    back = spec_conn.ReferenceNames(process("300"), ResultClass="CIM_ElementConformsToProfile")
    assert len(back) == 1 and back[0].namespace == "root/cimv2"
    assert back[0]["ManagedElement"]["Handle"] == "300"
    assert spec_conn.ReferenceNames(process("300"), ResultClass="CIM_ReferencedProfile") == []


def test_spec_mof_role_and_resultrole_filters(spec_conn):
    assert len(spec_conn.AssociatorNames(PROFILE, Role="ConformantStandard",
                                         ResultRole="ManagedElement")) == 3
    assert spec_conn.AssociatorNames(PROFILE, Role="ManagedElement") == []
    assert spec_conn.AssociatorNames(PROFILE, ResultRole="ConformantStandard") == []
    assert len(spec_conn.AssociatorNames(PROFILE, AssocClass="CIM_ElementConformsToProfile")) == 3
    assert spec_conn.AssociatorNames(PROFILE, AssocClass="CIM_ReferencedProfile") == []


def test_spec_mof_pull_operations_see_dynamic_instances(spec_conn):
    res = spec_conn.OpenEnumerateInstances(ASSOC, namespace="root/cimv2", MaxObjectCount=2)
    got = list(res.instances)
    while not res.eos:
        res = spec_conn.PullInstancesWithPath(res.context, MaxObjectCount=2)
        got.extend(res.instances)
    assert len(got) == 3
    res = spec_conn.OpenAssociatorInstancePaths(PROFILE, ResultClass="Win32_Process",
                                                MaxObjectCount=10)
    assert res.eos and handles(res.paths) == ["100", "200", "300"]
    res = spec_conn.OpenReferenceInstances(process("100"), MaxObjectCount=10)
    assert res.eos and len(res.instances) == 1


def test_spec_mof_execquery(spec_conn):
    rows = spec_conn.ExecQuery("WQL", f"SELECT * FROM {ASSOC}", namespace="root/interop")
    assert len(rows) == 3
    rows = spec_conn.ExecQuery("WQL", "SELECT Name FROM Win32_Process WHERE Handle = '200'",
                               namespace="root/cimv2")
    assert [r["Name"] for r in rows] == ["p200.exe"]
    assert list(rows[0].keys()) == ["Name"]
    with pytest.raises(CIMError) as exc:
        spec_conn.ExecQuery("DMTF:CQL", f"SELECT * FROM {ASSOC}", namespace="root/interop")
    assert status(exc) == CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED
    with pytest.raises(CIMError) as exc:
        spec_conn.ExecQuery("WQL", "SELECT * FROM", namespace="root/interop")
    assert status(exc) == CIM_ERR_INVALID_QUERY


def test_spec_mof_writes_to_the_association_are_refused(spec_conn):
    path = spec_conn.EnumerateInstanceNames(ASSOC, namespace="root/interop")[0]
    with pytest.raises(CIMError) as exc:
        spec_conn.DeleteInstance(path)
    assert status(exc) == CIM_ERR_NOT_SUPPORTED and "SupportsDelete" in str(exc.value)
    inst = spec_conn.GetInstance(path)
    with pytest.raises(CIMError) as exc:
        spec_conn.ModifyInstance(inst)
    assert status(exc) == CIM_ERR_NOT_SUPPORTED and "SupportsPut" in str(exc.value)
    new = CIMInstance(ASSOC, properties={"ConformantStandard": PROFILE,
                                         "ManagedElement": process("999")})
    with pytest.raises(CIMError) as exc:
        spec_conn.CreateInstance(new, namespace="root/cimv2")
    assert status(exc) == CIM_ERR_NOT_SUPPORTED
    assert len(spec_conn.EnumerateInstanceNames(ASSOC, namespace="root/interop")) == 3


def test_spec_mof_error_paths(spec_conn):
    with pytest.raises(CIMError) as exc:
        spec_conn.AssociatorNames(process("404"))
    assert status(exc) == CIM_ERR_NOT_FOUND
    missing = CIMInstanceName("ProcessProfile", {"InstanceID": "Nope"}, namespace="root/interop")
    with pytest.raises(CIMError) as exc:
        spec_conn.References(missing)
    assert status(exc) == CIM_ERR_NOT_FOUND
    with pytest.raises(CIMError) as exc:
        spec_conn.AssociatorNames(PROFILE, AssocClass="No_Such_Class")
    assert status(exc) == CIM_ERR_INVALID_PARAMETER
    with pytest.raises(CIMError) as exc:
        spec_conn.AssociatorNames(PROFILE, ResultClass="No_Such_Class")
    assert status(exc) == CIM_ERR_INVALID_PARAMETER
    bad = CIMInstanceName(ASSOC, namespace="root/interop", keybindings={
        "ConformantStandard": PROFILE, "ManagedElement": process("404")})
    with pytest.raises(CIMError) as exc:
        spec_conn.GetInstance(bad)
    assert status(exc) == CIM_ERR_NOT_FOUND


def test_elements_added_later_are_served(spec_conn):
    inst = CIMInstance("Win32_Process", path=process("400"),
                       properties=dict(process("400").keybindings, Name="late.exe"))
    spec_conn.CreateInstance(inst, namespace="root/cimv2")
    assert handles(spec_conn.AssociatorNames(PROFILE, ResultClass="Win32_Process")) == \
        ["100", "200", "300", "400"]
    spec_conn.DeleteInstance(process("100"))
    assert handles(spec_conn.AssociatorNames(PROFILE)) == ["200", "300", "400"]


def test_provider_table_follows_what_it_was_built_from(spec_conn, monkeypatch):
    """The generic provider rebuilds its table when what it read changed (the
    element classes' instances, a class hierarchy under them, the association
    class's declaration) and only then: writing a profile instance, or a class
    unrelated to the association, leaves it alone."""
    builds = []
    real = ConformsToProfileProvider.bindings
    monkeypatch.setattr(ConformsToProfileProvider, "bindings",
                        lambda self, ns, cls: builds.append(ns) or real(self, ns, cls))
    assert handles(spec_conn.AssociatorNames(PROFILE)) == ["100", "200", "300"]
    built = len(builds)
    assert built >= 1

    # unrelated writes: a second profile instance, a scratch class in interop
    other = CIMInstance("ProcessProfile", path=CIMInstanceName(
        "ProcessProfile", {"InstanceID": "Other"}, namespace="root/interop"),
        properties={"InstanceID": "Other"})
    spec_conn.CreateInstance(other, namespace="root/interop")
    scratch = spec_conn.GetClass("ProcessProfile", namespace="root/interop")
    scratch.classname, scratch.superclass = "Scratch_Profile", "ProcessProfile"
    spec_conn.CreateClass(scratch, namespace="root/interop")
    spec_conn.DeleteClass("Scratch_Profile", namespace="root/interop")
    spec_conn.DeleteInstance(other.path)
    assert handles(spec_conn.AssociatorNames(PROFILE)) == ["100", "200", "300"]
    assert len(builds) == built, "unrelated writes rebuilt the table"

    # an instance of a new subclass of the element class is an element
    sub = spec_conn.GetClass("Win32_Process", namespace="root/cimv2", LocalOnly=False)
    sub.classname, sub.superclass = "Test_ChildProcess", "Win32_Process"
    sub.properties = {}
    spec_conn.CreateClass(sub, namespace="root/cimv2")
    assert len(builds) == built, "a new class without instances rebuilt the table"
    child = CIMInstanceName("Test_ChildProcess", {"Handle": "500"}, namespace="root/cimv2")
    spec_conn.CreateInstance(CIMInstance("Test_ChildProcess", path=child,
                                         properties={"Handle": "500"}), namespace="root/cimv2")
    assert handles(spec_conn.AssociatorNames(PROFILE)) == ["100", "200", "300", "500"]
    # deleting the class takes its instances, and their associations, along
    spec_conn.DeleteClass("Test_ChildProcess", namespace="root/cimv2")
    assert handles(spec_conn.AssociatorNames(PROFILE)) == ["100", "200", "300"]

    # a change of the association class's declaration is seen
    before = len(builds)
    decl = spec_conn.GetClass(ASSOC, namespace="root/interop", LocalOnly=False,
                              IncludeQualifiers=True)
    spec_conn.ModifyClass(decl, namespace="root/interop")
    spec_conn.EnumerateInstanceNames(ASSOC, namespace="root/interop")
    assert len(builds) > before


# -- MSFT_TargetNamespace missing --------------------------------------------------

def test_without_target_namespace_on_interop_side_resultclass_returns_nothing(spec_mof):
    path = spec_mof(edit=lambda m: m.replace(INTEROP_QUALIFIER, "", 1))
    conn = connect([path])
    cls = conn.GetClass(ASSOC, namespace="root/interop", LocalOnly=False, IncludeQualifiers=True)
    assert "MSFT_TargetNamespace" not in cls.properties["ManagedElement"].qualifiers
    # plain traversal still works ...
    assert handles(conn.AssociatorNames(PROFILE)) == ["100", "200", "300"]
    assert len(conn.Associators(PROFILE)) == 3
    # ... but the ResultClass filter of "associators of" returns nothing, as in WMI
    assert conn.AssociatorNames(PROFILE, ResultClass="Win32_Process") == []
    assert conn.Associators(PROFILE, ResultClass="Win32_Process") == []
    # the implementation side still has its qualifier and still works
    assert len(conn.AssociatorNames(process("100"), ResultClass="CIM_RegisteredProfile")) == 1


def test_without_target_namespace_on_cimv2_side_reverse_resultclass_returns_nothing(spec_mof):
    conn = connect([spec_mof(edit=lambda m: m.replace(CIMV2_QUALIFIER, "", 1))])
    assert len(conn.AssociatorNames(process("100"))) == 1
    assert conn.AssociatorNames(process("100"), ResultClass="CIM_RegisteredProfile") == []
    assert handles(conn.AssociatorNames(PROFILE, ResultClass="Win32_Process")) == \
        ["100", "200", "300"]


def test_target_namespace_naming_the_wrong_namespace_breaks_resultclass(spec_mof):
    conn = connect([spec_mof(edit=lambda m: m.replace(
        INTEROP_QUALIFIER, '[MSFT_TargetNamespace("root\\\\default")]', 1))])
    assert conn.AssociatorNames(PROFILE, ResultClass="Win32_Process") == []


@pytest.mark.parametrize("remote", [
    "\\\\\\\\RemoteMachine\\\\root\\\\cimv2",
    "//host.example.com/root/cimv2",
    "\\\\\\\\10.1.2.3\\\\root\\\\cimv2",
])
def test_remote_target_namespace_fails_to_load_naming_file_and_line(spec_mof, remote):
    path = spec_mof(edit=lambda m: m.replace(INTEROP_QUALIFIER,
                                             f'[MSFT_TargetNamespace("{remote}")]', 1))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                if "MSFT_TargetNamespace" in text and "ref ManagedElement" in text)
    with pytest.raises(MofLoadError) as exc:
        connect([path])
    message = str(exc.value)
    assert message.startswith(f"{path}:{line}: ")
    assert "remote" in message and "ManagedElement" in message


# -- registrations -------------------------------------------------------------------

def test_supportsget_false_refuses_getinstance(spec_mof):
    def edit(mof):
        return mof.replace("SupportsGet = TRUE;", "SupportsGet = FALSE;", 1)
    conn = connect([spec_mof(edit=edit)])
    paths = conn.EnumerateInstanceNames(ASSOC, namespace="root/interop")
    with pytest.raises(CIMError) as exc:
        conn.GetInstance(paths[0])
    assert status(exc) == CIM_ERR_NOT_SUPPORTED
    assert "SupportsGet = FALSE" in exc.value.status_description
    # the cimv2 registration still says TRUE
    path = conn.EnumerateInstanceNames(ASSOC, namespace="root/cimv2")[0]
    assert conn.GetInstance(path)["ManagedElement"] == path["ManagedElement"]


def test_supportsenumeration_false_refuses_enumeration(spec_mof):
    conn = connect([spec_mof(edit=lambda m: m.replace(
        "SupportsEnumeration = TRUE;", "SupportsEnumeration = FALSE;", 1))])
    with pytest.raises(CIMError) as exc:
        conn.EnumerateInstances(ASSOC, namespace="root/interop")
    assert status(exc) == CIM_ERR_NOT_SUPPORTED
    assert len(conn.EnumerateInstances(ASSOC, namespace="root/cimv2")) == 3


def cut_cimv2_registration(mof):
    start = mof.index("instance of __Win32Provider as $R")
    end = mof.index("};", mof.index("instance of __InstanceProviderRegistration", start)) + 2
    return mof[:start] + mof[end:]


def test_provider_registered_only_in_interop_fails_on_cimv2_side(spec_mof):
    conn = connect([spec_mof(edit=cut_cimv2_registration)])
    # the interop side works
    assert handles(conn.AssociatorNames(PROFILE, ResultClass="Win32_Process")) == \
        ["100", "200", "300"]
    for operation in (
            lambda: conn.EnumerateInstanceNames(ASSOC, namespace="root/cimv2"),
            lambda: conn.EnumerateInstances(ASSOC, namespace="root/cimv2"),
            lambda: conn.AssociatorNames(process("100"))):
        with pytest.raises(CIMError) as exc:
            operation()
        assert status(exc) == CIM_ERR_FAILED
        assert "'ProcessAssociation'" in exc.value.status_description
        assert "not registered in namespace root/cimv2" in exc.value.status_description


def test_dynamic_class_whose_provider_has_no_implementation(tmp_path):
    mof = tmp_path / "odd.mof"
    mof.write_text("""
#pragma namespace("\\\\\\\\.\\\\root\\\\cimv2")
[Dynamic, Provider("NoSuchCode")]
class Odd_Thing : CIM_ManagedElement { [key] string Id; };
instance of __Win32Provider as $P { Name = "NoSuchCode"; ClsId = "{0}"; };
instance of __InstanceProviderRegistration { Provider = $P; SupportsEnumeration = TRUE; };
""")
    conn = connect([mof])
    with pytest.raises(CIMError) as exc:
        conn.EnumerateInstances("Odd_Thing", namespace="root/cimv2")
    assert status(exc) == CIM_ERR_FAILED and "no implementation" in str(exc.value)


# -- providers ---------------------------------------------------------------------

class RecordingProvider(ConformsToProfileProvider):
    created = []

    def __init__(self):
        super().__init__("ProcessAssociation")
        RecordingProvider.created.append(self)


def test_one_provider_object_initialised_once_per_namespace(spec_mof):
    RecordingProvider.created = []
    conn = connect([spec_mof()], providers={"ProcessAssociation": RecordingProvider})
    for _ in range(2):
        conn.EnumerateInstanceNames(ASSOC, namespace="root/interop")
        conn.EnumerateInstanceNames(ASSOC, namespace="root/cimv2")
        conn.AssociatorNames(process("100"))
    assert len(RecordingProvider.created) == 1
    assert sorted(RecordingProvider.created[0].namespaces) == ["root/cimv2", "root/interop"]


class NamespaceDependentProvider(ConformsToProfileProvider):
    """A defect: serves only even handles when asked from root/cimv2."""

    def elements(self, binding):
        return super().elements(binding)

    def enumerate_instances(self, namespace, classname):
        rows = super().enumerate_instances(namespace, classname)
        if namespace == "root/cimv2":
            rows = [r for r in rows if int(r["ManagedElement"]["Handle"]) % 200 == 0]
        return rows


def test_custom_provider_replaces_the_generic_one(spec_mof):
    conn = connect([spec_mof()], providers={"processassociation": NamespaceDependentProvider})
    assert len(conn.EnumerateInstanceNames(ASSOC, namespace="root/interop")) == 3
    assert handles(p["ManagedElement"] for p in
                   conn.EnumerateInstanceNames(ASSOC, namespace="root/cimv2")) == ["200"]


def test_default_profiles_include_a_second_profile_with_class_hierarchy():
    conn = connect()
    sip = CIMInstanceName("Contoso_SoftwareInventoryProfile",
                          {"InstanceID": "Contoso:SoftwareInventory"}, namespace="root/interop")
    everything = conn.AssociatorNames(sip)
    assert len(everything) >= 3
    assert {p.namespace for p in everything} == {"root/software"}
    classes = {p.classname for p in everything}
    assert len(classes) >= 3
    firmware = conn.AssociatorNames(sip, ResultClass="Contoso_FirmwareIdentity")
    assert firmware and {p.classname for p in firmware} == {"Contoso_FirmwareIdentity"}
    software = conn.AssociatorNames(sip, ResultClass="Contoso_SoftwareIdentity")
    assert {p.classname for p in software} <= {"Contoso_SoftwareIdentity",
                                               "Contoso_FirmwareIdentity"}
    assert len(software) > len(firmware)
    assert len(conn.AssociatorNames(sip, ResultClass="CIM_SoftwareIdentity")) == len(everything)
    for element in everything:
        back = conn.AssociatorNames(element, ResultClass="CIM_RegisteredProfile")
        assert [b["InstanceID"] for b in back] == ["Contoso:SoftwareInventory"]
