"""One association class, one provider, several profiles (WBEMConform_ProfileBinding)."""

from pathlib import Path

import pytest
from pywbem import CIM_ERR_NOT_FOUND, CIMError, CIMInstance, CIMInstanceName, Uint16

from wbemconform.mock import connect

ZOO = Path(__file__).resolve().parent / "defects"
MOF = ZOO / "good-wmi-one-provider-many-profiles" / "defect.mof"
ASSOC = "Contoso_Storage_ElementConformsToProfile_v1"


def profile(name):
    return CIMInstanceName("Contoso_RegisteredProfile", {"InstanceID": f"Contoso:{name}:1.0"},
                           namespace="root/interop")


ARRAY, DISK, POOL = profile("Array"), profile("DiskDrive"), profile("StoragePool")


def element(classname, key, value):
    return CIMInstanceName(classname, {key: value}, namespace="root/contoso")


DISK0 = element("Contoso_DiskDrive", "DeviceID", "disk-0")
ARRAY01 = CIMInstanceName("Contoso_StorageSystem", {"CreationClassName": "Contoso_StorageSystem",
                                                    "Name": "array-01"}, namespace="root/contoso")


def pairs(instances):
    return sorted((i["ConformantStandard"]["InstanceID"], i["ManagedElement"].classname,
                   tuple(sorted(i["ManagedElement"].keybindings.values()))) for i in instances)


@pytest.fixture
def conn():
    return connect([MOF])


EXPECTED = sorted([
    ("Contoso:Array:1.0", "Contoso_StorageSystem", ("Contoso_StorageSystem", "array-01")),
    ("Contoso:DiskDrive:1.0", "Contoso_DiskDrive", ("disk-0",)),
    ("Contoso:DiskDrive:1.0", "Contoso_DiskDrive", ("disk-1",)),
    ("Contoso:DiskDrive:1.0", "Contoso_DiskDrive", ("disk-2",)),
    ("Contoso:StoragePool:1.0", "Contoso_StoragePool", ("Contoso:Pool:Gold",)),
    ("Contoso:StoragePool:1.0", "Contoso_StoragePool", ("Contoso:Pool:Primordial",)),
])


@pytest.mark.parametrize("namespace", ["root/interop", "root/contoso"])
def test_the_class_serves_every_bound_pair_in_both_namespaces(conn, namespace):
    insts = conn.EnumerateInstances(ASSOC, namespace=namespace)
    assert pairs(insts) == EXPECTED
    for inst in insts:
        assert conn.GetInstance(inst.path)["ManagedElement"] == inst["ManagedElement"]


def test_each_profile_reaches_only_its_own_elements(conn):
    disks = conn.AssociatorNames(DISK, AssocClass=ASSOC)
    assert sorted(d["DeviceID"] for d in disks) == ["disk-0", "disk-1", "disk-2"]
    assert [a["Name"] for a in conn.AssociatorNames(ARRAY, AssocClass=ASSOC)] == ["array-01"]
    assert conn.AssociatorNames(DISK, ResultClass="Contoso_StoragePool") == []
    assert len(conn.ReferenceNames(POOL, ResultClass=ASSOC)) == 2


def test_each_element_reaches_only_its_profile(conn):
    back = conn.AssociatorNames(DISK0, ResultClass="CIM_RegisteredProfile")
    assert [b["InstanceID"] for b in back] == ["Contoso:DiskDrive:1.0"]
    back = conn.AssociatorNames(ARRAY01, ResultClass="CIM_RegisteredProfile")
    assert [b["InstanceID"] for b in back] == ["Contoso:Array:1.0"]


def test_get_instance_of_an_unbound_pair_is_not_found(conn):
    path = CIMInstanceName(ASSOC, {"ConformantStandard": ARRAY, "ManagedElement": DISK0},
                           namespace="root/interop")
    with pytest.raises(CIMError) as excinfo:
        conn.GetInstance(path)
    assert excinfo.value.status_code == CIM_ERR_NOT_FOUND


def test_a_binding_added_at_run_time_is_served(conn):
    conn.CreateInstance(CIMInstance("Contoso_DiskDrive", {"DeviceID": "disk-9"}),
                        namespace="root/contoso")
    spare = conn.CreateInstance(CIMInstance("Contoso_RegisteredProfile", {
        "InstanceID": "Contoso:Spare:1.0", "RegisteredName": "Spare", "RegisteredVersion": "1.0",
        "RegisteredOrganization": Uint16(1), "OtherRegisteredOrganization": "Microsoft"}),
        namespace="root/interop")
    conn.CreateInstance(CIMInstance("WBEMConform_ProfileBinding", {
        "Provider": "ContosoStorageAssociation", "Profile": spare,
        "ElementClasses": ["Contoso_DiskDrive"]}), namespace="root/interop")
    disk9 = element("Contoso_DiskDrive", "DeviceID", "disk-9")
    profiles = conn.AssociatorNames(disk9, ResultClass="CIM_RegisteredProfile")
    assert sorted(p["InstanceID"] for p in profiles) == ["Contoso:DiskDrive:1.0",
                                                         "Contoso:Spare:1.0"]
    assert len(conn.AssociatorNames(spare, AssocClass=ASSOC)) == 4


def test_without_bindings_the_class_default_is_the_one_profile(spec_mof):
    conn = connect([spec_mof()])
    names = conn.EnumerateInstanceNames("Microsoft_Process_ElementConformsToProfile_v1",
                                        namespace="root/interop")
    assert {n["ConformantStandard"]["InstanceID"] for n in names} == {"Process"}


def test_a_binding_to_a_class_that_exists_nowhere_is_a_load_warning(tmp_path):
    typo = tmp_path / "typo.mof"
    typo.write_text(f'#pragma include("{MOF}")\n#pragma namespace("root/interop")\n'
                    "instance of WBEMConform_ProfileBinding\n{\n"
                    '    Provider = "ContosoStorageAssociation"; Profile = $POOL;\n'
                    '    ElementClasses = {"Contoso_StoragePol"};\n};\n')
    conn = connect([typo])
    warnings = [str(w) for w in conn.load_warnings]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{typo}:3: warning: WBEMConform_ProfileBinding for provider "
                                  "'ContosoStorageAssociation' names element class "
                                  "'Contoso_StoragePol'")
    assert "did you mean 'Contoso_StoragePool'?" in warnings[0]

