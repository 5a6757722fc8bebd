"""Real shapes of interop MOF, at the level of the mock (the zoo runs the whole
catalog on the same entries: tests/defects/good-windows-pair-differently-named,
good-dmtf-schema-include, good-profile-conforms-to-profile)."""

from pathlib import Path

import pytest
from pywbem import CIMInstanceName

from conftest import SHARED
from wbemconform.mock import connect

HERE = Path(__file__).resolve().parent
ZOO = HERE / "defects"
ZIP = SHARED / "schemas" / "cim_schema_2.41.0Final-MOFs.zip"


def keys(paths):
    return sorted((p.namespace, p.classname, tuple(sorted(p.keybindings.items())))
                  for p in paths)


# -- Windows' pair of differently named classes ------------------------------------------

INTEROP_CLASS = "Contoso_iSCSITarget_ElementConformsToProfile_v1"
IMPL_CLASS = "Contoso_iSCSITarget_ElementConformsToProfileEx_v1"
IMPL_NS = "root/contoso/target"
TARGET_PROFILE = CIMInstanceName("CIM_RegisteredProfile", {"InstanceID": "Contoso:iSCSITarget:1.0"},
                                 namespace="root/interop")


@pytest.fixture(scope="module")
def pair():
    return connect([ZOO / "good-windows-pair-differently-named" / "defect.mof"])


def portal(address):
    return CIMInstanceName("Contoso_TargetPortal",
                           {"InstanceID": f"Contoso:Portal:{address}:3260"}, namespace=IMPL_NS)


def test_pair_each_class_lives_in_its_own_namespace(pair):
    assert pair.GetClass(INTEROP_CLASS, namespace="root/interop")
    assert pair.GetClass(IMPL_CLASS, namespace=IMPL_NS)
    for cls, ns in ((INTEROP_CLASS, "root/interop"), (IMPL_CLASS, IMPL_NS)):
        names = pair.EnumerateInstanceNames(cls, namespace=ns)
        assert len(names) == 2 and {n.namespace for n in names} == {ns}
        for name in names:
            assert pair.GetInstance(name)["ConformantStandard"] == TARGET_PROFILE


def test_pair_traversal_works_from_both_sides(pair):
    forward = pair.AssociatorNames(TARGET_PROFILE, ResultClass="Contoso_TargetPortal")
    assert keys(forward) == keys([portal("10.0.0.5"), portal("10.0.1.5")])
    refs = pair.ReferenceNames(TARGET_PROFILE)
    assert {r.classname for r in refs} == {INTEROP_CLASS}
    for address in ("10.0.0.5", "10.0.1.5"):
        back = pair.AssociatorNames(portal(address), ResultClass="CIM_RegisteredProfile")
        assert keys(back) == keys([TARGET_PROFILE])
        assert {r.classname for r in pair.ReferenceNames(portal(address))} == {IMPL_CLASS}


def test_pair_has_no_load_warnings(pair):
    assert pair.load_warnings == []


# -- an ECTP whose ManagedElement is a registered profile (self link included) ----------

def test_profile_to_profile_links_both_ways_including_a_self_link(tmp_path):
    base = ZOO / "good-profile-conforms-to-profile" / "defect.mof"
    extra = tmp_path / "self.mof"
    extra.write_text(f'#pragma include("{base}")\n#pragma namespace("interop")\n'
                     "instance of Acme_ProfileRegistration_ElementConformsToProfile_v1\n"
                     "{ ConformantStandard = $PR; ManagedElement = $PR; };\n")
    conn = connect([extra])

    def profile(name):
        return CIMInstanceName("CIM_RegisteredProfile", {"InstanceID": f"Acme:DMTF:{name}"},
                               namespace="interop")  # the zoo entry's interop namespace

    pr, si = profile("ProfileRegistration:1.0.1"), profile("SoftwareInventory:1.0.1")
    assoc = "Acme_ProfileRegistration_ElementConformsToProfile_v1"
    assert keys(conn.AssociatorNames(pr, AssocClass=assoc)) == keys([pr, si])
    assert keys(conn.AssociatorNames(pr, AssocClass=assoc, ResultRole="ManagedElement")) == \
        keys([pr, si])
    assert keys(conn.AssociatorNames(si, AssocClass=assoc)) == keys([pr])
    assert keys(conn.AssociatorNames(si, AssocClass=assoc, Role="ConformantStandard")) == []
    assert len(conn.ReferenceNames(pr, ResultClass=assoc)) == 2
    assert len(conn.ReferenceNames(si, ResultClass=assoc)) == 1


# -- a CMPI-style project on the DMTF schema ---------------------------------------------

needs_schema = pytest.mark.skipif(
    not ZIP.is_file(), reason=f"needs DMTF's CIM schema 2.41 release zip, which only CI clones "
                              f"have beside them (expected at {ZIP})")


@needs_schema
def test_dmtf_schema_include_shape_loads_and_traverses(tmp_path, monkeypatch):
    monkeypatch.setenv("WBEMCONFORM_SCHEMA_CACHE", str(tmp_path / "cache"))
    conn = connect([ZOO / "good-dmtf-schema-include" / "defect.mof"], schema=ZIP)
    assert conn.load_warnings == []
    fan = CIMInstanceName("CIM_RegisteredSubProfile", {"InstanceID": "Acme:DMTF:Fan:1.0.1"},
                          namespace="interop")
    fans = conn.AssociatorNames(fan, ResultClass="CIM_Fan")
    assert sorted(f["DeviceID"] for f in fans) == ["fan0", "fan1"]
