"""DSP1033 in depth: the profile knowledge base, namespace discovery through
CIM_Namespace / CIM_WBEMServerNamespace / __Namespace, and the positive
controls the defect zoo cannot hold (an interop namespace named ``interop``,
an implemented GetCentralInstances): the embedded mock always names its
interop namespace root/interop, and a zoo entry cannot implement an
extrinsic method."""

import json
from pathlib import Path

import pytest
from pywbem import (CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_NAMESPACE,
                    CIM_ERR_METHOD_NOT_AVAILABLE, CIM_ERR_NOT_SUPPORTED, CIMError,
                    CIMInstanceName, CIMParameter)
from pywbem_mock import FakedWBEMConnection, MethodProvider

from wbemconform.checks.graph import find_cycles
from wbemconform.mock import connect
from wbemconform.profiledefs import (BUILTIN, ProfileDefsError, builtin_definitions,
                                     load_knowledge_base)
from wbemconform.runner import run_catalog
from wbemconform.options import TargetOptions
from wbemconform.targets.mock import mock_target

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "profiles" / "schema"
COMMON = REPO / "tests" / "defects" / "_common"
GCI_ENTRY = REPO / "tests" / "defects" / "gci-declared-not-implemented" / "defect.mof"

pytest_plugins = ["pytester"]


# -- the knowledge base ---------------------------------------------------------------

def test_builtin_knowledge_base_loads_and_finds_profiles():
    kb = load_knowledge_base()
    fan = kb.find("DMTF", "fan", "1.0.0")
    assert (fan.type, fan.central_class, fan.scoping_class) == \
        ("component", "CIM_Fan", "CIM_ComputerSystem")
    assert fan.down_hops == [("CIM_SystemDevice", "CIM_Fan")]
    assert fan.scoping_hops == [("CIM_SystemDevice", "CIM_ComputerSystem")]
    assert fan.direction == "dmtf" and kb.find("SNIA", "Array", "1.1.0").direction == "snia"
    assert kb.find("SNIA", "Fan", "1.0.0") is not fan  # organization matters
    assert kb.find("Contoso", "Fan", "1.0.0") is None
    # what the file leaves out because we are not sure stays out
    assert kb.find("SNIA", "Indication", "1.1.0").central_class is None
    assert kb.find("DMTF", "Profile Registration", "1.1.0").central_class is None
    assert kb.find("SNIA", "Profile Registration", "1.0.0") is None
    seen = set()
    for d in builtin_definitions():
        key = (d.organization.lower(), d.name.lower(), d.versions)
        assert key not in seen, f"two entries for {d.label}"
        seen.add(key)
        assert d.origin.startswith(BUILTIN + ":") and d.source


def test_a_users_file_comes_first_and_adds_profiles(tmp_path):
    defs = tmp_path / "mine.toml"
    defs.write_text('[[profile]]\norganization = "DMTF"\nname = "Fan"\nversions = ["9.0.0"]\n'
                    'type = "component"\ncentral_class = "ACME_Fan"\n\n'
                    '[[profile]]\norganization = "Acme"\nname = "Widget"\n'
                    'type = "autonomous"\ncentral_class = "ACME_Widget"\n')
    kb = load_knowledge_base(defs)
    assert kb.find("DMTF", "Fan", "9.0.0").central_class == "ACME_Fan"
    assert kb.find("DMTF", "Fan", "9.0.0").origin == f"{defs}:1"
    assert kb.find("DMTF", "Fan", "1.0.0").central_class == "CIM_Fan"  # built-in still
    assert kb.find("acme", "widget", "1").origin == f"{defs}:8"


@pytest.mark.parametrize("text, line, phrase", [
    ('[[profile]]\norganization = "DMTF"\nname = "Fan"\n', 1, "'type' is required"),
    ('[[profile]]\norganization = "A"\nname = "B"\ntype = "x"\n', 1, "type 'x' is not one of"),
    ('# c\n\n[[profile]]\norganization = "A"\nname = "B"\ntype = "component"\n'
     'scoping_class = "C_S"\nscoping_path = ["C_A", "C_B"]\n', 3, "odd number"),
    ('[[profile]]\norganization = "A"\nname = "B"\ntype = "autonomous"\n'
     'central_class = "not a class"\n', 1, "is not a CIM class name"),
    ('[[profile]]\norganization = "A"\nname = "B"\ntype = "autonomous"\ncolour = 1\n', 1,
     "unknown key(s) colour"),
    ('[[profile]]\norganization = "A"\nname = "B"\ntype = "component"\n'
     'scoping_path = ["C_A"]\n', 1, "scoping_path needs scoping_class"),
    ('[[profile]]\norganization = "A"\nname = = "B"\n', 3, "Invalid value"),
])
def test_bad_knowledge_base_files_name_file_and_line(tmp_path, text, line, phrase):
    defs = tmp_path / "bad.toml"
    defs.write_text(text)
    with pytest.raises(ProfileDefsError) as err:
        load_knowledge_base(defs)
    message = str(err.value)
    assert message.startswith(f"{defs}:{line}: "), message
    assert phrase in message and "\n" not in message


def test_a_bad_profile_defs_option_is_one_setup_error(tmp_path):
    results, _ = run_catalog(TargetOptions(profile_defs=str(tmp_path / "missing.toml")),
                             only=["RP-1"])
    assert results.setup_error == f"--wbem-profile-defs {tmp_path / 'missing.toml'}: no such file"


def test_find_cycles_reports_each_cycle_once():
    assert find_cycles({"a": {"b"}, "b": {"c"}}) == []
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    two = find_cycles({"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}})
    assert sorted(map(tuple, two)) == [("a", "b"), ("c", "d")]


# -- an interop namespace named "interop", namespaces by CIM_WBEMServerNamespace -------

def dsp1092_server(wbem_server_namespaces=("interop", "root/cimv2")):
    """A plain pywbem_mock server whose interop namespace is "interop" (DSP1033
    1.1's preferred name) and which lists its namespaces the DSP1092 way:
    CIM_WBEMServerNamespace instances, no CIM_Namespace instances."""
    conn = FakedWBEMConnection(default_namespace="interop")
    for mof in (SCHEMA / "qualifiers.mof", SCHEMA / "interop.mof",
                COMMON / "dmtf_registration.mof"):
        conn.compile_mof_file(str(mof), namespace="interop")
    names = "".join(f'instance of CIM_WBEMServerNamespace {{ InstanceID = "Zoo:{n}"; '
                    f'Name = "{n}"; }};\n' for n in wbem_server_namespaces)
    conn.compile_mof_string(
        'instance of CIM_RegisteredProfile { InstanceID = "Zoo:PR"; RegisteredName = '
        '"Profile Registration"; RegisteredOrganization = 2; RegisteredVersion = "1.1.0"; '
        'AdvertiseTypes = {2}; };\n' + names, namespace="interop")
    return conn


def _run(conn, only, *, flavor="dmtf", allow_writes=True, description="a pywbem_mock server"):
    target = mock_target(conn, description, allow_writes=allow_writes,
                         options=TargetOptions(flavor=flavor))
    return run_catalog(target=target, only=only)


def _verdicts(results, rid):
    return {s: (r.verdict, r.message) for s, r in results.records[rid].items()}


def test_interop_namespace_named_interop_passes():
    """NS-1's positive control (no zoo baseline can have it: pywbem_mock
    refuses a namespace named interop beside root/interop)."""
    results, obs = _run(dsp1092_server(), ["NS-1", "NS-2", "RP-1"])
    assert obs.interop_ns == "interop"
    (verdict, message), = _verdicts(results, "NS-1").values()
    assert verdict == "pass" and "preferred" in message
    (verdict, message), = _verdicts(results, "NS-2").values()
    assert verdict == "pass", message
    assert "CIM_WBEMServerNamespace in interop" in message
    assert obs.namespace_discovery.method == "CIM_WBEMServerNamespace"
    assert obs.server_info["namespace_discovery"].startswith("CIM_WBEMServerNamespace")
    assert [c.operation for c in obs.namespace_discovery.calls] == ["EnumerateInstances"] * 2


def test_an_interop_namespace_missing_from_cim_wbemservernamespace_fails_ns2():
    results, _ = _run(dsp1092_server(("root/cimv2",)), ["NS-2"])
    (verdict, message), = _verdicts(results, "NS-2").values()
    assert verdict == "fail" and "not the interop namespace interop" in message


class _NamespaceTree:
    """A server that lists its namespaces only WMI's way: __Namespace, in
    each namespace, names its children (CIM_Namespace and
    CIM_WBEMServerNamespace do not exist). Everything else is the wrapped
    server's."""

    def __init__(self, conn, tree):
        self._conn, self._tree = conn, tree

    def EnumerateInstanceNames(self, ClassName, namespace=None, **kw):  # noqa: N802,N803
        if ClassName == "__Namespace":
            if namespace not in self._tree:
                raise CIMError(CIM_ERR_INVALID_NAMESPACE, namespace)
            return [CIMInstanceName("__NAMESPACE", {"Name": child}, namespace=namespace)
                    for child in self._tree[namespace]]
        return self._conn.EnumerateInstanceNames(ClassName, namespace=namespace, **kw)

    def EnumerateInstances(self, ClassName, namespace=None, **kw):  # noqa: N802,N803
        if ClassName in ("CIM_Namespace", "CIM_WBEMServerNamespace"):
            raise CIMError(CIM_ERR_INVALID_CLASS, ClassName)
        return self._conn.EnumerateInstances(ClassName, namespace=namespace, **kw)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_namespaces_found_by_walking_namespace_from_root():
    conn = _NamespaceTree(dsp1092_server(), {
        "root": ["cimv2", "interop"], "root/cimv2": ["sub"], "root/interop": [],
        "root/cimv2/sub": []})
    results, obs = _run(conn, ["NS-2"], description="a WMI-like server")
    found = obs.namespace_discovery
    assert found.method == "__Namespace"
    assert found.names == ["root", "root/cimv2", "root/interop", "root/cimv2/sub"]
    assert {"root/cimv2", "root/cimv2/sub"} <= set(obs.namespaces)
    # the interop namespace of this server is "interop", which is not under root
    (verdict, message), = _verdicts(results, "NS-2").values()
    assert verdict == "fail" and "__Namespace from root" in message


def test_a_server_that_lists_no_namespaces_is_not_applicable_for_ns2():
    conn = _NamespaceTree(dsp1092_server(), {})
    results, obs = _run(conn, ["NS-2"])
    assert obs.namespace_discovery.method is None
    (verdict, message), = _verdicts(results, "NS-2").values()
    assert verdict == "not-applicable" and "lists no namespaces" in message


# -- GetCentralInstances (CI-4) ----------------------------------------------------------

class _CentralInstances(MethodProvider):
    """GetCentralInstances of Contoso_RegisteredProfile: ``answer`` is a list
    of paths to return, or a CIM status code to fail with."""

    provider_classnames = "Contoso_RegisteredProfile"

    def __init__(self, cimrepository, answer):
        super().__init__(cimrepository)
        self.answer = answer

    def InvokeMethod(self, methodname, localobject, params):  # noqa: N802
        if isinstance(self.answer, int):
            raise CIMError(self.answer, "GetCentralInstances is not implemented")
        return 0, [CIMParameter("CentralInstances", "reference", value=list(self.answer),
                                reference_class="CIM_ManagedElement")]


HOST = CIMInstanceName("CIM_ComputerSystem", namespace="root/cimv2",
                       keybindings={"CreationClassName": "CIM_ComputerSystem", "Name": "zoo-host"})


def _gci_run(answer, allow_writes=True):
    conn = connect([str(GCI_ENTRY)])
    conn.register_provider(_CentralInstances(conn.cimrepository, answer),
                           namespaces=["root/interop"])
    results, _ = _run(conn, ["CI-4"], flavor="auto", allow_writes=allow_writes)
    return _verdicts(results, "CI-4")["Computer System 1.0.0"]


def test_get_central_instances_implemented_passes():
    """CI-4's positive control: the method returns what CIM_ElementConformsToProfile
    reaches (a zoo entry cannot implement an extrinsic method)."""
    verdict, message = _gci_run([HOST])
    assert verdict == "pass", message
    assert "the central class methodology" in message


@pytest.mark.parametrize("status", [CIM_ERR_NOT_SUPPORTED, CIM_ERR_METHOD_NOT_AVAILABLE])
def test_get_central_instances_not_implemented_is_not_applicable(status):
    verdict, message = _gci_run(status)
    assert verdict == "not-applicable" and "not implemented" in message


def test_get_central_instances_that_disagree_fail():
    other = HOST.copy()
    other.keybindings["Name"] = "another-host"
    verdict, message = _gci_run([other])
    assert verdict == "fail"
    assert "misses" in message and "zoo-host" in message and "another-host" in message


def test_get_central_instances_is_invoked_where_writes_are_not_allowed():
    """GetCentralInstances only reads (DSP1033 1.1): no write permission needed."""
    verdict, message = _gci_run([HOST], allow_writes=False)
    assert verdict == "pass", message


# -- the option, through pytest ----------------------------------------------------------

UNLINKED = REPO / "tests" / "defects" / "autonomous-central-instances-unlinked"


def _suites(pytester, *args):
    return pytester.runpytest_subprocess(
        str(REPO / "suites" / "test_registration.py"), "-p", "no:cacheprovider",
        "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
        "--wbem-mock-mof", str(UNLINKED / "defect.mof"), "-k", "central_class_methodology",
        "-rfs", *map(str, args), timeout=120)


def test_profile_defs_option_teaches_the_suites_a_profile(pytester, tmp_path):
    out = tmp_path / "out.json"
    result = _suites(pytester, "--wbem-profile-defs", UNLINKED / "profiles.toml",
                     "--conformance-json", out)
    result.stdout.fnmatch_lines(["*CI-2 [[]MUST[]]: AssociatorNames(Contoso Appliance 1.0.0*",
                                 "Contoso Appliance 1.0.0: *returns nothing*"])
    doc = json.loads(out.read_text())
    assert doc["options"]["--wbem-profile-defs"] == str(UNLINKED / "profiles.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[profile]]\norganization = "Contoso"\n')
    result = _suites(pytester, "--wbem-profile-defs", bad)
    text = result.stdout.str() + result.stderr.str()
    errors = {line for line in text.splitlines() if line.startswith("wbemconform: ERROR:")}
    assert errors == {f"wbemconform: ERROR: {bad}:1: 'name' is required and must be a "
                      "non-empty string"}, text
    assert "Traceback" not in text and result.ret == 2  # aborted
