"""The private pywbem / pywbem_mock interfaces the project relies on, each used
in one module (see its docstring). Each test fails loudly, naming what
changed, if a pywbem release changes one -- instead of the suites failing
strangely."""

import inspect

import pywbem
import pywbem._mof_compiler as mof_compiler
import pytest
from pywbem_mock import FakedWBEMConnection, MainProvider


def test_wbemserver_issues_its_operations_through_conn():
    """wbemconform.pywbem_server replaces WBEMServer._conn."""
    source = inspect.getsource(pywbem.WBEMServer)
    assert "self._conn = conn" in source, "WBEMServer no longer keeps its connection in _conn"
    assert "self._conn.AssociatorNames" in source or "self.conn.AssociatorNames" in source, \
        "WBEMServer no longer traverses with AssociatorNames through its connection"


def test_wbemserver_calls_go_through_the_target():
    from wbemconform.mock import connect
    from wbemconform.pywbem_server import logged_wbem_server
    from wbemconform.target import Target
    target = Target(connect(), "mock", is_mock=True, allow_writes=False)
    server = logged_wbem_server(target)
    assert server.interop_ns
    assert target.calls, "WBEMServer's operations did not go through Target.call"


def test_mof_compiler_grammar_actions_the_loader_rebinds():
    """wbemconform.mof rebinds these PLY grammar actions of pywbem's compiler."""
    for name in ("p_compilerDirective", "p_mp_createClass"):
        assert hasattr(mof_compiler, name), f"pywbem's MOF compiler has no {name} any more"
    compiler = pywbem.MOFCompiler(handle=None, search_paths=[], verbose=False)
    funcs = {prod.func for prod in compiler.parser.productions}
    assert {"p_compilerDirective", "p_mp_createClass"} <= funcs


@pytest.mark.parametrize("hook", ["_resolve_class", "_validate_dependencies_exist",
                                  "_get_instance", "_validate_qualifiers",
                                  "_resolve_qualifiers", "_resolve_objects"])
def test_mainprovider_hooks_the_broker_overrides_or_calls(hook):
    """wbemconform.mock.broker (WmiBroker, a MainProvider) overrides or calls these."""
    assert callable(getattr(MainProvider, hook, None)), \
        f"pywbem_mock's MainProvider has no {hook} any more"


def test_faked_connection_hooks_the_mock_overrides():
    """wbemconform.mock.WmiMockConnection replaces its main provider and imethods."""
    for name in ("_imeth_CreateInstance", "_imeth_ModifyInstance", "_imeth_DeleteInstance",
                 "_imeth_ExecQuery", "_mock_imethodcall", "_make_tuple"):
        assert callable(getattr(FakedWBEMConnection, name, None)), \
            f"pywbem_mock's FakedWBEMConnection has no {name} any more"


# -- wbemconform.paths: instance paths read and copied through pywbem's slots ---------

def _sample_paths():
    from pywbem import CIMInstanceName, Uint32
    process = CIMInstanceName("Win32_Process", {"Handle": "4"}, namespace="root/cimv2",
                              host="h.example")
    profile = CIMInstanceName("X_RegisteredProfile", {"InstanceID": "A:b"},
                              namespace="/root/interop/")
    return [
        process,
        profile,
        CIMInstanceName("X_Conforms", {"ConformantStandard": profile,
                                       "ManagedElement": process}),
        CIMInstanceName("Keyless"),
        CIMInstanceName("Mixed", {"N": Uint32(3), "B": True, "S": "x", "i": -2}),
    ]


def _public_key(path, default_namespace=None):
    """path_key as pywbem's public API spells it (the reference)."""
    from pywbem import CIMInstanceName
    ns = (path.namespace or default_namespace or "").strip("/").lower() or None

    def value(v):
        if isinstance(v, CIMInstanceName):
            return _public_key(v, ns)
        if isinstance(v, bool) or isinstance(v, str):
            return v
        return int(v) if isinstance(v, int) else str(v)
    keys = sorted((name.lower(), value(v)) for name, v in path.keybindings.items())
    return (ns, path.classname.lower(), tuple(keys))


def test_paths_pywbem_slots_the_module_reads():
    """wbemconform.paths reads CIMInstanceName's slots and NocaseDict._data."""
    from pywbem import CIMInstance, CIMInstanceName
    assert {"_classname", "_keybindings", "_host", "_namespace"} <= \
        set(CIMInstanceName.__slots__), "CIMInstanceName's slots changed"
    assert {"_classname", "_properties", "_qualifiers", "_path"} <= \
        set(CIMInstance.__slots__), "CIMInstance's slots changed"
    path = CIMInstanceName("C", {"KeyName": "v"})
    data = path.keybindings._data
    assert isinstance(data, dict) and list(data.items()) == [("keyname", ("KeyName", "v"))], \
        "NocaseDict._data is no longer {folded key: (key, value)}"


@pytest.mark.parametrize("index", range(5))
def test_paths_path_key_equals_the_public_spelling(index):
    from wbemconform.paths import path_key
    path = _sample_paths()[index]
    for default in (None, "Root/Other"):
        assert path_key(path, default) == _public_key(path, default)


@pytest.mark.parametrize("index", range(5))
def test_paths_copy_path_equals_copy_then_set(index):
    from wbemconform.paths import copy_path
    path = _sample_paths()[index]
    for namespace, host in ((None, None), ("/root/x/", "other:5989"), ("", None)):
        want = path.copy()
        want.namespace = namespace
        want.host = host
        got = copy_path(path, namespace, host)
        assert got == want and repr(got) == repr(want) and got.namespace == want.namespace
        # the copy's keybindings are its own (values shared, as pywbem's copy shares them)
        got["Extra"] = "1"
        assert "Extra" not in path.keybindings
        assert type(got.keybindings) is type(path.keybindings)
        assert got.keybindings.allow_unnamed_keys == path.keybindings.allow_unnamed_keys


def test_paths_copy_instance_equals_copy_then_set_path():
    from pywbem import CIMInstance, CIMQualifier
    from wbemconform.paths import copy_instance, copy_path
    path = _sample_paths()[2]
    inst = CIMInstance("X_Conforms", properties={
        "ConformantStandard": path["ConformantStandard"],
        "ManagedElement": path["ManagedElement"], "Note": "n"},
        qualifiers=[CIMQualifier("Q", True)], path=path)
    new_path = copy_path(path, "root/y")
    want = inst.copy()
    want.path = new_path
    got = copy_instance(inst, new_path)
    assert got == want and repr(got) == repr(want)
    assert got.path is new_path
    del got["Note"]  # the property dictionary is the copy's own
    assert "Note" in inst
    bare = copy_instance(CIMInstance("Bare"), None)
    assert bare == CIMInstance("Bare") and bare.path is None


def test_paths_exact_key_keeps_what_the_request_keeps():
    from pywbem import CIMInstanceName, Uint32
    from wbemconform.paths import exact_key
    base = CIMInstanceName("C", {"A": "1", "B": Uint32(2)}, namespace="root/x")
    same = CIMInstanceName("C", {"B": Uint32(2), "A": "1"}, namespace="root/x")
    assert exact_key(base) == exact_key(same)
    for other in (CIMInstanceName("c", {"A": "1", "B": Uint32(2)}, namespace="root/x"),
                  CIMInstanceName("C", {"a": "1", "B": Uint32(2)}, namespace="root/x"),
                  CIMInstanceName("C", {"A": "1", "B": "2"}, namespace="root/x"),
                  CIMInstanceName("C", {"A": "1", "B": Uint32(2)}, namespace="root/X"),
                  CIMInstanceName("C", {"A": "1", "B": Uint32(2)}, namespace="root/x",
                                  host="h")):
        assert exact_key(other) != exact_key(base), other
        assert str(other) != str(base)  # what the key replaces made the same distinction
