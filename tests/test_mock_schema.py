"""connect(schema=PATH): a DMTF CIM schema release instead of the built-in subset.

Needs DMTF's CIM schema 2.41 zip in ../shared/schemas (skips without it).
"""

import time
import zipfile

import pytest
from pywbem import CIMInstanceName

from conftest import SHARED
from wbemconform.mock import MofLoadError, SchemaError, connect
from wbemconform.mock.dmtf import load_schema

ZIP = SHARED / "schemas" / "cim_schema_2.41.0Final-MOFs.zip"

pytestmark = pytest.mark.skipif(
    not ZIP.is_file(), reason=f"needs DMTF's CIM schema 2.41 zip at {ZIP} (../shared is only "
                              "beside CI clones)")


@pytest.fixture(autouse=True)
def schema_cache(tmp_path_factory, monkeypatch):
    """Unpack into a folder of this test session, never into the user's cache."""
    monkeypatch.setenv("WBEMCONFORM_SCHEMA_CACHE",
                       str(tmp_path_factory.getbasetemp() / "schema-cache"))


@pytest.fixture(scope="session")
def unpacked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cim_schema_2.41.0")
    with zipfile.ZipFile(ZIP) as zf:
        zf.extractall(folder)
    return folder


HARDWARE = r"""
// a CMPI-style project: its own namespace, DMTF classes, no WMI qualifiers
#pragma namespace("root/hardware")
class Acme_ComputerSystem : CIM_ComputerSystem
{
};

class Acme_Fan : CIM_Fan
{
};

instance of Acme_ComputerSystem
{
    CreationClassName = "Acme_ComputerSystem"; Name = "host1";
};

instance of Acme_Fan
{
    SystemCreationClassName = "Acme_ComputerSystem"; SystemName = "host1";
    CreationClassName = "Acme_Fan"; DeviceID = "fan0";
};

#pragma namespace("root/interop")
instance of CIM_RegisteredSubProfile as $FAN
{
    InstanceID = "Acme:Fan:1.0.1"; RegisteredName = "Fan";
    RegisteredOrganization = 2; RegisteredVersion = "1.0.1";
};
"""


def write(tmp_path, text, name="hw.mof"):
    path = tmp_path / name
    path.write_text(text)
    return path


def classes(conn, namespace):
    return set(conn.EnumerateClassNames(namespace=namespace, DeepInheritance=True))


@pytest.mark.parametrize("source", ["zip", "folder"])
def test_a_mof_using_dmtf_classes_loads_with_only_the_classes_it_needs(tmp_path, unpacked,
                                                                      source):
    schema = ZIP if source == "zip" else unpacked
    start = time.perf_counter()
    conn = connect([write(tmp_path, HARDWARE)], schema=schema)
    seconds = time.perf_counter() - start
    hw = classes(conn, "root/hardware")
    assert {"CIM_ComputerSystem", "CIM_System", "CIM_Fan", "CIM_CoolingDevice",
            "CIM_LogicalDevice", "CIM_ManagedElement"} <= hw
    assert len(hw) < 40, sorted(hw)  # the needed classes, not the schema's 1,400
    interop = classes(conn, "root/interop")
    assert {"CIM_RegisteredSubProfile", "CIM_RegisteredProfile",
            "CIM_RegisteredSpecification"} <= interop
    assert conn.GetClass("CIM_RegisteredProfile", namespace="root/interop").superclass == \
        "CIM_RegisteredSpecification"  # DMTF 2.41's, not the subset's
    fan = conn.EnumerateInstances("CIM_Fan", namespace="root/hardware")
    assert [f["DeviceID"] for f in fan] == ["fan0"]
    assert conn.load_warnings == []
    assert seconds < 20, f"loading took {seconds:.1f} s"


def test_the_built_in_subset_steps_aside(tmp_path):
    conn = connect([write(tmp_path, HARDWARE)], schema=ZIP)
    # no Win32_Process/CIM_Process subset in root/cimv2: only the WMI system classes
    assert not {c for c in classes(conn, "root/cimv2") if not c.startswith("__")}
    profile = conn.GetClass("CIM_RegisteredProfile", namespace="root/interop", LocalOnly=False)
    assert profile.superclass == "CIM_RegisteredSpecification"  # DMTF 2.41's, not the subset's
    assert "AdvertiseTypes" in profile.properties


def test_the_standard_dmtf_include_list_loads_over_the_mock(tmp_path):
    """Before: 'class CIM_ManagedElement already exists ... cannot be modified
    because it has subclasses'."""
    mof = write(tmp_path, '#pragma namespace("root/cimv2")\n'
                          '#pragma include("cim_schema_2.41.0.mof")\n', "all.mof")
    conn = connect([mof], schema=ZIP)
    assert len(classes(conn, "root/cimv2")) > 1400


def test_dmtf_schema_files_included_one_by_one_load_in_the_mocks_namespaces(tmp_path, unpacked):
    """A project that includes the DMTF files it needs (its own copy of them)."""
    mof = write(tmp_path, f"""
        #pragma namespace("root/cimv2")
        #pragma include("{unpacked}/Core/CIM_ManagedElement.mof")
        #pragma include("{unpacked}/Core/CIM_ManagedSystemElement.mof")
        #pragma include("{unpacked}/Core/CIM_LogicalElement.mof")
        #pragma include("{unpacked}/System/CIM_Process.mof")
        class Acme_Process : CIM_Process
        {{
        }};
        """.replace("\n        ", "\n"), "some.mof")
    conn = connect([mof], schema=ZIP, include_roots=[unpacked])
    keys = [n for n, p in conn.GetClass("Acme_Process", namespace="root/cimv2", LocalOnly=False,
                                        IncludeQualifiers=True).properties.items()
            if "Key" in p.qualifiers]
    assert len(keys) == 6  # DMTF's CIM_Process, six keys


def test_without_the_schema_option_the_include_list_says_what_to_do(tmp_path, unpacked):
    mof = write(tmp_path, f'#pragma namespace("root/cimv2")\n'
                          f'#pragma include("{unpacked}/cim_schema_2.41.0.mof")\n', "all.mof")
    with pytest.raises(MofLoadError) as excinfo:
        connect([mof], include_roots=[unpacked])
    message = str(excinfo.value)
    assert message.startswith(f"{unpacked}/Core/CIM_ManagedElement.mof:"), message
    assert "built-in schema subset" in message and "--wbem-mock-schema" in message


def test_in_a_new_namespace_the_include_list_loads_without_the_option(tmp_path, unpacked):
    mof = write(tmp_path, f'#pragma namespace("root/acme")\n'
                          f'#pragma include("{unpacked}/Core/CIM_ManagedElement.mof")\n'
                          f'#pragma include("{unpacked}/Interop/CIM_RegisteredSpecification.mof")\n'
                          f'#pragma include("{unpacked}/Interop/CIM_RegisteredProfile.mof")\n',
                "acme.mof")
    conn = connect([mof], include_roots=[unpacked])
    assert conn.GetClass("CIM_RegisteredProfile", namespace="root/acme").superclass == \
        "CIM_RegisteredSpecification"


def test_including_the_mocks_interop_mof_takes_the_dmtf_classes(tmp_path):
    mof = write(tmp_path, '#pragma namespace("root/acme")\n#pragma include("interop.mof")\n'
                          'class Acme_ECTP : CIM_ElementConformsToProfile\n{\n};\n', "acme.mof")
    conn = connect([mof], schema=ZIP)
    assert conn.GetClass("CIM_RegisteredProfile", namespace="root/acme").superclass == \
        "CIM_RegisteredSpecification"


def test_no_download_is_attempted(tmp_path, monkeypatch):
    import pywbem_mock._dmtf_cim_schema as dmtf_module

    def refuse(*args, **kwargs):
        raise AssertionError("the schema must not be downloaded")

    monkeypatch.setattr(dmtf_module, "urlopen", refuse)
    monkeypatch.setenv("WBEMCONFORM_SCHEMA_CACHE", str(tmp_path / "fresh-cache"))
    from wbemconform.mock import dmtf
    dmtf._load.cache_clear()  # a fresh unpack, not the one an earlier test made
    schema = load_schema(ZIP)
    assert schema.version == "2.41.0" and len(schema) > 1400
    assert (tmp_path / "fresh-cache").is_dir()


@pytest.mark.parametrize("make, phrase", [
    (lambda d: d / "missing.zip", "no such file or folder"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "no cim_schema_X.Y.Z.mof in it"),
    (lambda d: (d / "bad.zip").write_text("not a zip") and d / "bad.zip", "not a readable zip"),
])
def test_a_path_that_is_not_a_schema_is_a_one_line_error(tmp_path, make, phrase):
    path = make(tmp_path)
    with pytest.raises(SchemaError) as excinfo:
        connect([], schema=path)
    assert str(excinfo.value).startswith(f"{path}: ")
    assert phrase in str(excinfo.value)
    assert isinstance(excinfo.value, MofLoadError)


def test_dmtf_dialect_with_the_schema(tmp_path):
    conn = connect([write(tmp_path, HARDWARE)], schema=ZIP, dialect="dmtf")
    assert "Acme_Fan" in classes(conn, "root/hardware")


def test_profile_is_discoverable_from_the_interop_namespace(tmp_path):
    conn = connect([write(tmp_path, HARDWARE)], schema=ZIP)
    fan = CIMInstanceName("CIM_RegisteredSubProfile", {"InstanceID": "Acme:Fan:1.0.1"},
                          namespace="root/interop")
    assert conn.GetInstance(fan)["RegisteredName"] == "Fan"
    names = conn.EnumerateInstanceNames("CIM_Namespace", namespace="root/interop")
    assert "root/hardware" in {n["Name"].lower() for n in names}
