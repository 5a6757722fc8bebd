"""The WMI classes the mock ships, against Microsoft's published class pages
(profiles/README.md records what was checked, class by class)."""

import pytest
from pywbem import CIMInstanceName

from wbemconform.catalog import catalog
from wbemconform.mock import connect
from wbemconform.runner import run_catalog
from wbemconform.options import TargetOptions


@pytest.fixture(scope="module")
def conn():
    return connect()


def cls(conn, name, namespace="root/cimv2"):
    return conn.GetClass(name, namespace=namespace, LocalOnly=False, IncludeQualifiers=True)


def keys(c):
    return sorted(n for n, p in c.properties.items()
                  if "Key" in p.qualifiers and p.qualifiers["Key"].value)


def test_win32_process_is_keyed_by_handle_alone(conn):
    win32 = cls(conn, "Win32_Process")
    assert keys(win32) == ["Handle"]
    dmtf_keys = ["CSCreationClassName", "CSName", "CreationClassName", "OSCreationClassName",
                 "OSName"]
    for name in dmtf_keys:  # DMTF's keys, CIM_Key in WMI
        assert win32.properties[name].qualifiers["CIM_Key"].value is True
    assert win32.properties["Handle"].type == "string"


def test_process_hierarchy_is_wmis(conn):
    assert cls(conn, "Win32_Process").superclass == "CIM_Process"
    process = cls(conn, "CIM_Process")
    assert process.superclass == "CIM_LogicalElement"
    assert process.qualifiers["Abstract"].value is True


# from Microsoft's Win32_Process page (the properties it lists, with their types)
WIN32_PROCESS = {
    "Caption": "string", "CommandLine": "string", "CreationClassName": "string",
    "CreationDate": "datetime", "CSCreationClassName": "string", "CSName": "string",
    "Description": "string", "ExecutablePath": "string", "ExecutionState": "uint16",
    "Handle": "string", "HandleCount": "uint32", "InstallDate": "datetime",
    "KernelModeTime": "uint64", "MaximumWorkingSetSize": "uint32",
    "MinimumWorkingSetSize": "uint32", "Name": "string", "OSCreationClassName": "string",
    "OSName": "string", "OtherOperationCount": "uint64", "OtherTransferCount": "uint64",
    "PageFaults": "uint32", "PageFileUsage": "uint32", "ParentProcessId": "uint32",
    "PeakPageFileUsage": "uint32", "PeakVirtualSize": "uint64", "PeakWorkingSetSize": "uint32",
    "Priority": "uint32", "PrivatePageCount": "uint64", "ProcessId": "uint32",
    "QuotaNonPagedPoolUsage": "uint32", "QuotaPagedPoolUsage": "uint32",
    "QuotaPeakNonPagedPoolUsage": "uint32", "QuotaPeakPagedPoolUsage": "uint32",
    "ReadOperationCount": "uint64", "ReadTransferCount": "uint64", "SessionId": "uint32",
    "Status": "string", "TerminationDate": "datetime", "ThreadCount": "uint32",
    "UserModeTime": "uint64", "VirtualSize": "uint64", "WindowsVersion": "string",
    "WorkingSetSize": "uint64", "WriteOperationCount": "uint64", "WriteTransferCount": "uint64",
}


def test_win32_process_has_the_properties_microsoft_lists(conn):
    props = cls(conn, "Win32_Process").properties
    got = {name: props[name].type for name in WIN32_PROCESS if name in props}
    assert got == WIN32_PROCESS


def test_both_instance_forms_load_and_name_the_process_by_handle(tmp_path):
    path = tmp_path / "procs.mof"
    path.write_text('#pragma namespace("\\\\\\\\.\\\\root\\\\cimv2")\n'
                    'instance of Win32_Process { Handle = "4"; Name = "System"; };\n'
                    'instance of Win32_Process\n{\n'
                    '    CSCreationClassName = "Win32_ComputerSystem"; CSName = "HOST";\n'
                    '    OSCreationClassName = "Win32_OperatingSystem"; OSName = "Windows";\n'
                    '    CreationClassName = "Win32_Process"; Handle = "388"; Name = "smss.exe";\n'
                    '};\n')
    conn = connect([path])
    names = conn.EnumerateInstanceNames("Win32_Process", namespace="root/cimv2")
    assert sorted(str(n) for n in names) == ['root/cimv2:Win32_Process.Handle="388"',
                                             'root/cimv2:Win32_Process.Handle="4"']
    smss = conn.GetInstance(CIMInstanceName("Win32_Process", {"Handle": "388"},
                                            namespace="root/cimv2"))
    assert smss["CSName"] == "HOST"


def test_the_spec_with_handle_only_processes_passes_the_catalog(spec_mof):
    """The acceptance case: the spec's MOF, processes written as a WMI author does."""
    path = spec_mof(handles=())
    path.write_text(path.read_text() + "".join(
        f'instance of Win32_Process {{ Handle = "{h}"; Name = "p{h}.exe"; }};\n'
        for h in ("4", "388", "2816")))
    results, _ = run_catalog(TargetOptions(mock_mof=[str(path)]))
    bad = {rid: results.overall(rid) for rid in catalog()
           if results.overall(rid) in ("fail", "error")}
    assert not bad, bad
    assert results.overall("TR-1") == "pass"


def test_wmi_provider_registration_classes(conn):
    provider = cls(conn, "__Win32Provider", "root/interop")
    assert provider.superclass == "__Provider"
    assert keys(provider) == ["Name"]
    reg = cls(conn, "__InstanceProviderRegistration", "root/interop")
    assert reg.superclass == "__ObjectProviderRegistration"
    assert keys(reg) == ["provider"]
    assert reg.properties["provider"].reference_class == "__Provider"
    defaults = {name: reg.properties[name].value for name in
                ("SupportsGet", "SupportsPut", "SupportsDelete", "SupportsEnumeration",
                 "InteractionType")}
    assert defaults == {"SupportsGet": False, "SupportsPut": False, "SupportsDelete": False,
                        "SupportsEnumeration": True, "InteractionType": 0}
