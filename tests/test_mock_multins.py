"""A cross-namespace association instance declared in both namespaces.

DSP0004 servers store an association instance whose references point into
two namespaces in both (pywbem_mock does, on CreateInstance). A MOF that
declares the same instance in each namespace -- as a DMTF-flavor project
writes it -- creates it with the first declaration and *modifies* it with
the second (mofcomp's create-or-update). pywbem_mock 1.9.1's multi-namespace
ModifyInstance then stores one object in both namespaces and leaves it with
the last namespace's path: the root/interop copy names root/cimv2. The mock
mends that (wbemconform.mock.dispatcher.MultiNamespaceWriter): the repository ends as
if the instance had been declared once.
"""

import pywbem
import pytest
import pywbem_mock

from wbemconform.mock import connect

SCHEMA = """
Qualifier Association : boolean = false, Scope(association), Flavor(DisableOverride, ToSubclass);
Qualifier Key : boolean = false, Scope(property, reference), Flavor(DisableOverride, ToSubclass);
class A { [Key] string Id; };
[Association] class L { [Key] A REF X; [Key] A REF Y; };
"""


def stored_paths(conn, classname):
    return {ns: [str(i.path) for i in conn.cimrepository.get_instance_store(ns).iter_values()
                 if i.classname.lower() == classname.lower()]
            for ns in ("root/interop", "root/cimv2")}


def test_plain_pywbem_mock_still_corrupts_a_multi_namespace_modify():
    """The upstream defect, reproduced on plain pywbem_mock. When this fails,
    pywbem_mock has fixed it and wbemconform.mock.dispatcher.MultiNamespaceWriter can go."""
    conn = pywbem_mock.FakedWBEMConnection(default_namespace="root/interop")
    conn.add_namespace("root/cimv2")
    for ns in ("root/interop", "root/cimv2"):
        conn.compile_mof_string(SCHEMA, namespace=ns)
    a1 = conn.CreateInstance(pywbem.CIMInstance("A", {"Id": "1"}), namespace="root/interop")
    a2 = conn.CreateInstance(pywbem.CIMInstance("A", {"Id": "2"}), namespace="root/cimv2")
    path = conn.CreateInstance(pywbem.CIMInstance("L", {"X": a1, "Y": a2}),
                               namespace="root/cimv2")
    before = stored_paths(conn, "L")
    assert before["root/interop"][0].startswith("root/interop:")
    conn.ModifyInstance(pywbem.CIMInstance("L", {"X": a1, "Y": a2}, path=path))
    after = stored_paths(conn, "L")
    assert after["root/interop"][0].startswith("root/cimv2:"), \
        "pywbem_mock no longer corrupts a multi-namespace ModifyInstance"


TWICE = r"""
#pragma namespace("\\\\.\\root\\interop")
instance of CIM_RegisteredProfile as $SI
{
    InstanceID = "Acme:SoftwareInventory"; RegisteredName = "Software Inventory";
    RegisteredOrganization = 2; RegisteredVersion = "1.0.1";
};

[Association]
class Acme_ElementConformsToProfile : CIM_ElementConformsToProfile
{
    [Key, Override("ConformantStandard")] CIM_RegisteredProfile REF ConformantStandard;
    [Key, Override("ManagedElement")] CIM_SoftwareIdentity REF ManagedElement;
};

#pragma namespace("\\\\.\\root\\cimv2")
instance of CIM_SoftwareIdentity as $SW
{
    InstanceID = "Acme:Agent"; VersionString = "1.0";
};

[Association]
class Acme_ElementConformsToProfile : CIM_ElementConformsToProfile
{
    [Key, Override("ConformantStandard")] CIM_RegisteredProfile REF ConformantStandard;
    [Key, Override("ManagedElement")] CIM_SoftwareIdentity REF ManagedElement;
};

instance of Acme_ElementConformsToProfile      // creates it in both namespaces
{
    ConformantStandard = $SI;
    ManagedElement = $SW;
};

#pragma namespace("\\\\.\\root\\interop")
instance of Acme_ElementConformsToProfile      // the same instance again: an update
{
    ConformantStandard = $SI;
    ManagedElement = $SW;
};
"""


@pytest.fixture
def twice(tmp_path):
    path = tmp_path / "twice.mof"
    path.write_text(TWICE)
    return connect([path])


def test_each_namespace_keeps_its_own_copy_with_its_own_path(twice):
    paths = stored_paths(twice, "Acme_ElementConformsToProfile")
    assert len(paths["root/interop"]) == len(paths["root/cimv2"]) == 1
    assert paths["root/interop"][0].startswith("root/interop:Acme_ElementConformsToProfile.")
    assert paths["root/cimv2"][0].startswith("root/cimv2:Acme_ElementConformsToProfile.")


@pytest.mark.parametrize("namespace", ["root/interop", "root/cimv2"])
def test_the_instance_is_served_correctly_in_both_namespaces(twice, namespace):
    names = twice.EnumerateInstanceNames("Acme_ElementConformsToProfile", namespace=namespace)
    assert [n.namespace for n in names] == [namespace]
    inst = twice.GetInstance(names[0])
    assert inst["ConformantStandard"].namespace == "root/interop"
    assert inst["ManagedElement"].namespace == "root/cimv2"


def test_traversal_from_either_end_finds_the_other(twice):
    profile = pywbem.CIMInstanceName("CIM_RegisteredProfile",
                                     {"InstanceID": "Acme:SoftwareInventory"},
                                     namespace="root/interop")
    element = pywbem.CIMInstanceName("CIM_SoftwareIdentity", {"InstanceID": "Acme:Agent"},
                                     namespace="root/cimv2")
    forward = twice.AssociatorNames(profile, ResultClass="CIM_SoftwareIdentity")
    assert [(p.namespace, p["InstanceID"]) for p in forward] == [("root/cimv2", "Acme:Agent")]
    back = twice.AssociatorNames(element, ResultClass="CIM_RegisteredProfile")
    assert [(p.namespace, p["InstanceID"]) for p in back] == \
        [("root/interop", "Acme:SoftwareInventory")]
    refs = twice.ReferenceNames(profile)
    assert [r.namespace for r in refs] == ["root/interop"]
    assert [r.namespace for r in twice.ReferenceNames(element)] == ["root/cimv2"]
