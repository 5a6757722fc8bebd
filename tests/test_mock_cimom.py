"""The mock as a CIMOM (issue 21, item 1): one answer to an extrinsic method
in process, served and served read-only -- GetCentralInstances implemented
from the profile's CIM_ElementConformsToProfile links, CIM_ERR_NOT_SUPPORTED
for a declared method without a provider -- and the interop namespace the MOF
names, DSP1033 1.1's "interop" included.

Third-party-shaped MOF (tests/thirdparty/, written for these tests) on DMTF's
CIM schema 2.41, whose CIM_RegisteredProfile declares GetCentralInstances:
CI-4 never fails, and is the same verdict in every setting."""

import os
from pathlib import Path

import pytest
import pywbem
from pywbem import (CIM_ERR_ACCESS_DENIED, CIM_ERR_METHOD_NOT_FOUND, CIM_ERR_NOT_SUPPORTED,
                    CIMError, CIMInstance)

import serve_cli
from wbemconform.mock import connect
from wbemconform.options import TargetOptions
from wbemconform.runner import run_session
from wbemconform.server import default_apps, serve

HERE = Path(__file__).resolve().parent
THIRDPARTY = HERE / "thirdparty"
SHARED = Path(os.environ.get("WBEMCONFORM_SHARED", HERE.parents[1] / "shared"))
SCHEMA = SHARED / "schemas" / "cim_schema_2.41.0Final-MOFs.zip"
MOFS = ["cmpi_interop.mof", "omi_fan.mof", "libvirt_static.mof"]
#: what each MOF's profiles' GetCentralInstances returns: {RegisteredName: element Names}
CENTRAL = {
    "cmpi_interop.mof": {"Profile Registration": set(), "Computer System": {"host1.acme.example"}},
    "omi_fan.mof": {"Profile Registration": set(), "Computer System": {"host1.acme.example"},
                    "Fan": {"fan0", "fan1"}},
    "libvirt_static.mof": {"Profile Registration": set(),
                           "System Virtualization": {"hypervisor.acme.example"},
                           "Virtual System": {"guest-1"}},
}
GCI = "GetCentralInstances"


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA.is_file():
        pytest.skip(f"needs DMTF's CIM schema release {SCHEMA.name} in {SCHEMA.parent} "
                    "(the user's download; only CI clones have it beside them)")
    return str(SCHEMA)


def _mock(schema, mof, **kwargs):
    return connect([str(THIRDPARTY / mof)], schema=schema, dialect="wmi", **kwargs)


def _profiles(conn):
    interop = "interop" if "interop" in [n.lower() for n in conn.namespaces] else "root/interop"
    return {p["RegisteredName"]: p.path for p in
            conn.EnumerateInstances("CIM_RegisteredProfile", namespace=interop)}


def _names(paths):
    return {p.keybindings.get("Name") or p.keybindings.get("DeviceID") for p in paths}


def _ci4(session):
    return {subject: rec.verdict for subject, rec in session.results.records["CI-4"].items()}


@pytest.mark.parametrize("mof", MOFS)
def test_third_party_mof_ci4_is_one_verdict_and_never_fails(schema, mof):
    opts = TargetOptions(mock_mof=[str(THIRDPARTY / mof)], mock_schema=schema, flavor="dmtf")
    local = run_session(opts, only=["CI-4"])
    assert local.results.setup_error is None, local.results.setup_error
    want = _ci4(local)
    assert {s.rsplit(" ", 1)[0] for s in want} == set(CENTRAL[mof]), want
    assert set(want.values()) == {"pass"}, {s: r.message for s, r in
                                            local.results.records["CI-4"].items()}
    for read_only in (False, True):
        with serve(_mock(schema, mof), read_only=read_only, apps=default_apps()) as server:
            for url in (server.url, server.url + "/wsman"):
                got = run_session(TargetOptions(url=url, timeout=20, flavor="dmtf"),
                                  only=["CI-4"])
                assert _ci4(got) == want, (url, read_only, {
                    s: r.message for s, r in got.results.records["CI-4"].items()})


@pytest.mark.parametrize("mof", MOFS)
def test_get_central_instances_returns_the_linked_elements(schema, mof):
    conn = _mock(schema, mof)
    for name, path in _profiles(conn).items():
        ret, out = conn.InvokeMethod(GCI, path)
        assert ret == 0
        assert _names(out["CentralInstances"]) == CENTRAL[mof][name], name
        assert all(p.namespace for p in out["CentralInstances"])


def test_one_answer_to_a_method_without_a_provider(schema):
    """CloseConformantInstances (declared by CIM_RegisteredProfile, implemented
    by nothing): CIM_ERR_NOT_SUPPORTED in process and served; a read-only
    server refuses it (it may write) with CIM_ERR_ACCESS_DENIED."""
    conn = _mock(schema, "omi_fan.mof")
    path = _profiles(conn)["Fan"]
    with pytest.raises(CIMError) as exc:
        conn.InvokeMethod("CloseConformantInstances", path, EnumerationContext="x")
    assert exc.value.status_code == CIM_ERR_NOT_SUPPORTED
    for read_only, status in ((False, CIM_ERR_NOT_SUPPORTED), (True, CIM_ERR_ACCESS_DENIED)):
        with serve(conn, read_only=read_only) as server:
            client = pywbem.WBEMConnection(server.url, default_namespace="interop", timeout=10)
            with pytest.raises(CIMError) as exc:
                client.InvokeMethod("CloseConformantInstances", path, EnumerationContext="x")
            assert exc.value.status_code == status, (read_only, exc.value)
            if read_only:
                with pytest.raises(CIMError) as exc:
                    client.ModifyInstance(CIMInstance(
                        path.classname, {"InstanceID": path["InstanceID"],
                                         "RegisteredName": "changed"}, path=path))
                assert exc.value.status_code == CIM_ERR_ACCESS_DENIED
                assert client.GetInstance(path)["RegisteredName"] == "Fan"


def test_a_method_the_class_does_not_declare_is_not_found(schema):
    conn = _mock(schema, "omi_fan.mof")
    with pytest.raises(CIMError) as exc:
        conn.InvokeMethod("NoSuchMethod", _profiles(conn)["Fan"])
    assert exc.value.status_code == CIM_ERR_METHOD_NOT_FOUND


def test_method_not_found_quirk_seeds_pywbem_mocks_answer(schema):
    conn = _mock(schema, "omi_fan.mof", quirks=["method-not-found"])
    with pytest.raises(CIMError) as exc:
        conn.InvokeMethod(GCI, _profiles(conn)["Fan"])
    assert exc.value.status_code == CIM_ERR_METHOD_NOT_FOUND


def test_interop_namespace_named_interop_passes_ns1(schema):
    """omi_fan.mof writes #pragma namespace("interop"): the mock's interop
    namespace is "interop", and NS-1 (DSP1033 1.1's preferred name) passes."""
    conn = _mock(schema, "omi_fan.mof")
    assert "interop" in conn.namespaces and "root/interop" not in conn.namespaces
    assert pywbem.WBEMServer(conn).interop_ns == "interop"
    session = run_session(TargetOptions(mock_mof=[str(THIRDPARTY / "omi_fan.mof")],
                                        mock_schema=schema, flavor="dmtf"), only=["NS-1"])
    (verdict, message), = [(r.verdict, r.message)
                           for r in session.results.records["NS-1"].values()]
    assert verdict == "pass", message


def test_interop_namespace_without_the_schema(tmp_path):
    """The built-in schema subset serves "interop" too (no DMTF download needed)."""
    mof = tmp_path / "interop.mof"
    mof.write_text('#pragma namespace("interop")\n'
                   'instance of CIM_RegisteredProfile { InstanceID = "Acme:PR"; '
                   'RegisteredName = "Profile Registration"; RegisteredOrganization = 2; '
                   'RegisteredVersion = "1.0.1"; AdvertiseTypes = {2}; };\n')
    conn = connect([str(mof)], cache=False)
    assert conn.default_namespace == "interop"
    assert [p["InstanceID"] for p in conn.EnumerateInstanceNames(
        "CIM_RegisteredProfile", namespace="interop")] == ["Acme:PR"]


PROFILE_IN_INTEROP = ('#pragma namespace("interop")\n'
                      'instance of CIM_RegisteredProfile { InstanceID = "Acme:PR"; '
                      'RegisteredName = "Profile Registration"; RegisteredOrganization = 2; '
                      'RegisteredVersion = "1.0.1"; AdvertiseTypes = {2}; };\n')


def test_interop_namespace_named_in_an_included_file(tmp_path):
    """Before: a top-level file that only includes the file naming
    "interop" failed to load (CIM_ERR_ALREADY_EXISTS: pywbem_mock had made
    root/interop its interop namespace already)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "registration.mof").write_text(PROFILE_IN_INTEROP)
    top = tmp_path / "top.mof"
    top.write_text('#pragma include("sub/registration.mof")\n')
    conn = connect([str(top)], cache=False)
    assert conn.default_namespace == "interop" and "root/interop" not in conn.namespaces
    assert [p["InstanceID"] for p in conn.EnumerateInstanceNames(
        "CIM_RegisteredProfile", namespace="interop")] == ["Acme:PR"]


def test_the_search_for_the_interop_name_reads_only_what_the_load_may(tmp_path):
    """An include outside the folders the load may read is not read for the
    name either (the load refuses it, naming the line); a cycle ends."""
    from wbemconform.mock.layout import interop_namespace_of
    outside, project = tmp_path / "outside", tmp_path / "project"
    outside.mkdir()
    project.mkdir()
    (outside / "registration.mof").write_text(PROFILE_IN_INTEROP)
    top = project / "top.mof"
    top.write_text('#pragma include("../outside/registration.mof")\n')
    assert interop_namespace_of([top]) == "root/interop"
    assert interop_namespace_of([top], include_roots=[str(outside)]) == "interop"
    assert interop_namespace_of([top], include_anywhere=True) == "interop"
    (project / "a.mof").write_text('#pragma include("b.mof")\n')
    (project / "b.mof").write_text('#pragma include("a.mof")\n#pragma namespace("interop")\n')
    assert interop_namespace_of([project / "a.mof"]) == "interop"


# -- pywbem's get_central_instances against `wbemconform serve --read-only` ---------------

def test_pywbem_get_central_instances_against_read_only_serve(schema):
    with serve_cli.served("--read-only", "--schema", schema,
                          "--mof", str(THIRDPARTY / "omi_fan.mof")) as (_, url):
        conn = pywbem.WBEMConnection(url, default_namespace="interop", timeout=20)
        server = pywbem.WBEMServer(conn)
        assert server.interop_ns == "interop"
        profiles = {p["RegisteredName"]: p.path for p in server.profiles}
        for name, elements in CENTRAL["omi_fan.mof"].items():
            found = server.get_central_instances(profiles[name], try_gci_method=True)
            assert _names(found) == elements, name
        with pytest.raises(CIMError) as exc:  # a write is still refused
            conn.DeleteInstance(profiles["Fan"])
        assert exc.value.status_code == CIM_ERR_ACCESS_DENIED


DYNAMIC_PROFILE_MOF = r'''
#pragma namespace("\\\\.\\root\\interop")
[Provider("ZooProfileProvider"), Dynamic]
class Zoo_DynamicProfile : CIM_RegisteredProfile
{
    uint8 GetCentralInstances([Out] CIM_ManagedElement REF CentralInstances[]);
};
instance of __Win32Provider as $P
{
    Name = "ZooProfileProvider";
    ClsId = "{8D3F5E4C-2B6A-4C7D-9E0F-3A4B5C6D7E8F}";
};
instance of __InstanceProviderRegistration
{
    Provider = $P; SupportsGet = TRUE; SupportsEnumeration = TRUE;
    SupportsPut = FALSE; SupportsDelete = FALSE;
};
'''


def _dynamic_profile_provider():
    from wbemconform.mock import InstanceProvider

    class DynamicProfile(InstanceProvider):
        """One registered profile, served by a provider (not in the repository)."""

        def enumerate_instances(self, namespace, classname):
            if classname.lower() != "zoo_dynamicprofile":
                return []
            path = pywbem.CIMInstanceName("Zoo_DynamicProfile", {"InstanceID": "Zoo:Dynamic"},
                                          namespace=namespace)
            inst = CIMInstance("Zoo_DynamicProfile", path=path)
            inst["InstanceID"] = "Zoo:Dynamic"
            inst["RegisteredName"] = "Dynamic"
            inst["RegisteredOrganization"] = pywbem.Uint16(1)
            inst["OtherRegisteredOrganization"] = "Zoo"
            inst["RegisteredVersion"] = "1.0"
            return [inst]
    return DynamicProfile()


def test_get_central_instances_of_a_profile_a_provider_serves(tmp_path):
    """pywbem_mock looks for a method's target instance in its repository
    only; the mock's dispatcher also asks the provider, so a profile a
    provider serves answers GetCentralInstances (not CIM_ERR_NOT_FOUND)."""
    mof = tmp_path / "dynamic.mof"
    mof.write_text(DYNAMIC_PROFILE_MOF)
    conn = connect([str(mof)], providers={"ZooProfileProvider": _dynamic_profile_provider},
                   cache=False)
    (profile,) = conn.EnumerateInstanceNames("Zoo_DynamicProfile", namespace="root/interop")
    # (pywbem_mock takes no static association to an instance it does not
    # store, so no link names this profile: its central instances are none)
    ret, out = conn.InvokeMethod(GCI, profile)
    assert ret == 0 and list(out["CentralInstances"]) == []
    with pytest.raises(CIMError) as info:  # a profile nobody serves is still not found
        conn.InvokeMethod(GCI, pywbem.CIMInstanceName(
            "Zoo_DynamicProfile", {"InstanceID": "Zoo:Other"}, namespace="root/interop"))
    assert info.value.status_code == pywbem.CIM_ERR_NOT_FOUND
