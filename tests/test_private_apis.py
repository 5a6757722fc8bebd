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
