"""The private pywbem / pywbem_mock interfaces the project relies on, each used
in one module (see its docstring). Each test fails loudly, naming what
changed, if a pywbem release changes one -- instead of the suites failing
strangely."""

import inspect

pytest_plugins = ["pytester"]

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
    from wbemconform.targets.mock import mock_target
    target = mock_target(connect(), "mock", allow_writes=False)
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


# -- pytest internals (wbemconform._pytest_adapter) ------------------------------------

def test_pytest_junitxml_keeps_its_writer_under_xml_key(pytester, tmp_path):
    """_pytest_adapter.junit_xml: _pytest.junitxml.xml_key, LogXML.logfile and
    LogXML.add_global_property."""
    from _pytest.junitxml import LogXML, xml_key
    config = pytester.parseconfigure(f"--junitxml={tmp_path / 'j.xml'}")
    xml = config.stash.get(xml_key, None)
    assert isinstance(xml, LogXML) and xml.logfile == str(tmp_path / "j.xml")
    assert callable(xml.add_global_property)


def test_capture_manager_lets_output_through(pytester):
    """_pytest_adapter.uncaptured: the capturemanager plugin's
    global_and_fixture_disabled(), a context manager."""
    import inspect as _inspect
    from _pytest.capture import CaptureManager
    from wbemconform import _pytest_adapter
    config = pytester.parseconfigure()
    disabled = _pytest_adapter.uncaptured(config)
    assert disabled is not None, "the capture manager has no global_and_fixture_disabled"
    assert "contextmanager" in _inspect.getsource(CaptureManager.global_and_fixture_disabled)


def test_pluggy_tracer_keeps_its_writer(pytester, tmp_path):
    """_pytest_adapter.scrub_debug_log: pluggy's TagTracer._writer is the
    --debug log file's write method."""
    config = pytester.parseconfigure(f"--debug={tmp_path / 'debug.log'}")
    writer = config.trace.root._writer
    assert writer is not None and hasattr(writer.__self__, "seek")


# -- wbemconform.targets.pywbem_adapter: the URL targets' transport ---------------------

def test_wbemconnection_posts_every_operation_through_its_session():
    """targets.pywbem_adapter.install_session replaces WBEMConnection.session."""
    import requests
    from pywbem import _cim_http
    conn = pywbem.WBEMConnection("http://127.0.0.1:1")
    assert isinstance(getattr(conn, "session", None), requests.Session), \
        "WBEMConnection no longer keeps a requests.Session in .session"
    source = inspect.getsource(_cim_http.wbem_request)
    assert "conn.session.post(" in source, "wbem_request no longer posts with conn.session.post"


def test_tupletree_parses_with_the_module_global_content_handler():
    """targets.pywbem_adapter.install_linear_text_handler replaces
    pywbem._tupletree.CIMContentHandler (a SAX handler class)."""
    from pywbem import _tupletree
    from wbemconform.targets.pywbem_adapter import _ORIGINAL_HANDLER
    for name in ("characters", "startElement", "endElement"):
        assert name in vars(_ORIGINAL_HANDLER), f"CIMContentHandler no longer defines {name}"
    assert callable(getattr(_tupletree, "xml_to_tupletree_sax", None)), \
        "pywbem._tupletree has no xml_to_tupletree_sax any more"
    source = inspect.getsource(_tupletree.xml_to_tupletree_sax)
    assert "CIMContentHandler()" in source, \
        "xml_to_tupletree_sax no longer instantiates the module's CIMContentHandler"


def test_requests_takes_cookies_from_raw_original_response():
    """targets.pywbem_adapter.BodyAlreadyRead keeps raw._original_response (requests)."""
    import requests.cookies
    source = inspect.getsource(requests.cookies.extract_cookies_to_jar)
    assert "_original_response" in source, \
        "requests no longer reads cookies from response._original_response"


# -- wbemconform.mof.grammar: pywbem's MOF compiler (PLY) ---------------------------

#: The rules of every PLY grammar action wbemconform.mof.grammar replaces or
#: wraps, as pywbem 1.9.1 binds them (the actions were written for these).
_MOF_ACTION_RULES = {
    "p_compilerDirective": ["compilerDirective -> # PRAGMA pragmaName ( pragmaParameter )"],
    "p_mp_createClass": ["mp_createClass -> classDeclaration"],
    "p_stringValueList": ["stringValueList -> stringValue",
                          "stringValueList -> stringValueList stringValue"],
    "p_constantValue": [f"constantValue -> {v}" for v in (
        "integerValue", "floatValue", "charValue", "stringValueList", "booleanValue",
        "nullValue")],
    "p_constantValueList": ["constantValueList -> constantValue",
                            "constantValueList -> constantValueList , constantValue"],
    "p_pragmaParameter": ["pragmaParameter -> stringValue"],
    "p_mp_createInstance": ["mp_createInstance -> instanceDeclaration"],
    "p_classDeclaration": [
        f"classDeclaration -> {q}CLASS className {a}{s}{{ classFeatureList }} ;"
        for q in ("", "qualifierList ") for a in ("", "alias ") for s in ("", "superClass ")],
    "p_instanceDeclaration": [
        f"instanceDeclaration -> {q}INSTANCE OF className {a}{{ valueInitializerList }} ;"
        for q in ("", "qualifierList ") for a in ("", "alias ")],
    "p_qualifier": ["qualifier -> qualifierName", "qualifier -> qualifierName : flavorList",
                    "qualifier -> qualifierName qualifierParameter",
                    "qualifier -> qualifierName qualifierParameter : flavorList"],
}


def test_mof_grammar_rebinds_exactly_the_pinned_actions():
    """Every action wbemconform.mof.grammar replaces or wraps is pinned here."""
    from wbemconform.mof import grammar
    assert set(grammar._ACTION_OVERRIDES) | set(grammar._ACTION_WRAPPERS) == \
        set(_MOF_ACTION_RULES)


@pytest.mark.parametrize("action", sorted(_MOF_ACTION_RULES))
def test_mof_grammar_action_is_bound_to_the_same_rules(action):
    """pywbem._mof_compiler.<action> exists and PLY binds it to the rules the
    replacement (or wrapper) was written for; a wrapped action that vanished
    would otherwise go unwrapped without a word."""
    assert callable(getattr(mof_compiler, action, None)), \
        f"pywbem's MOF compiler has no {action} any more"
    compiler = pywbem.MOFCompiler(handle=None, search_paths=[], verbose=False)
    rules = sorted(prod.str for prod in compiler.parser.productions if prod.func == action)
    assert rules == sorted(_MOF_ACTION_RULES[action]), \
        f"pywbem's grammar binds {action} to other rules now: {rules}"


@pytest.mark.parametrize("action", sorted(_MOF_ACTION_RULES))
def test_mof_compiler_runs_the_rebound_action(action):
    """A WmiMofCompiler's parser calls the replacement for an overridden
    action, and pywbem's own action inside the wrapper for a wrapped one."""
    from wbemconform.mock import connect
    from wbemconform.mof import grammar
    compiler = connect(cache=False)._compiler
    for prod in compiler.parser.productions:
        if prod.func != action:
            continue
        innermost = inspect.unwrap(prod.callable)
        if action in grammar._ACTION_OVERRIDES:
            assert innermost is grammar._ACTION_OVERRIDES[action]
        else:
            assert innermost is getattr(mof_compiler, action)
            assert prod.callable.__wrapped__ is not innermost  # annotating(wrapper(...))


def test_mof_compiler_lexer_names_the_grammar_relies_on():
    """wbemconform.mof.grammar reads utf8Char, stringvalue_re, identifier_re,
    calls t_error (which leaves its message in lexer.last_msg) and
    _build_flavors, and sets the PLY lexer's error hook (lexerrorf)."""
    for name in ("utf8Char", "stringvalue_re", "identifier_re"):
        assert isinstance(getattr(mof_compiler, name, None), str), \
            f"pywbem's MOF compiler has no pattern {name} any more"
    assert list(inspect.signature(mof_compiler.t_error).parameters) == ["t"]
    assert "t.lexer.last_msg" in inspect.getsource(mof_compiler.t_error), \
        "pywbem's t_error no longer leaves its message in lexer.last_msg"
    assert list(inspect.signature(mof_compiler._build_flavors).parameters) == \
        ["p", "flist", "qualdecl", "qualname"], "pywbem's _build_flavors changed"
    compiler = pywbem.MOFCompiler(handle=None, search_paths=[], verbose=False)
    assert compiler.lexer.lexerrorf is mof_compiler.t_error, \
        "PLY no longer keeps the lexer's error function in lexerrorf"
    assert "INITIAL" in compiler.lexer.lexstatere and hasattr(compiler.lexer, "lexre")


def test_mof_compiler_parser_state_the_loader_uses():
    """The compiler keeps its state on the parser (qualcache, classnames,
    aliases, target_namespace, handle, mofcomp), compile_string sets
    parser.file and parser.mof, and PLY's parse takes tracking=True."""
    compiler = pywbem.MOFCompiler(handle=None, search_paths=[], verbose=False)
    for name in ("qualcache", "classnames", "aliases", "target_namespace", "handle",
                 "mofcomp"):
        assert hasattr(compiler.parser, name), f"pywbem's MOF parser has no {name} any more"
    source = inspect.getsource(pywbem.MOFCompiler.compile_string)
    assert "self.parser.file = " in source and "self.parser.mof = " in source
    assert "tracking" in inspect.signature(compiler.parser.parse).parameters


# -- wbemconform.mock.broker.hooks: pywbem_mock's MainProvider ----------------------

_MAINPROVIDER_PRIVATE = {
    # hooks pywbem_mock calls, which the broker replaces
    "_resolve_class": ["self", "new_class", "namespace", "qualifier_store", "verbose"],
    "_validate_dependencies_exist": ["klass", "class_store", "namespace"],
    "_init_qualifier": ["qualifier", "qualifier_store"],
    # helpers the broker calls
    "_resolve_qualifiers": ["self", "new_quals", "inherited_quals", "new_class", "super_class",
                            "obj_name", "obj_type", "qualifier_store", "propagate"],
    "_resolve_objects": ["self", "new_objects", "superclass_objects", "new_class",
                         "superclass", "classrepo", "qualifier_store", "type_str", "verbose"],
    "_get_instance": ["self", "instance_name", "instance_store", "local_only",
                      "include_class_origin", "include_qualifiers", "property_list"],
    "_validate_pull_operations_enabled": ["self"],
    "_openquery_response": ["self", "namespace", "objects", "pull_type", "OperationTimeout",
                            "MaxObjectCount", "ContinueOnError", "QueryResultClass"],
}


@pytest.mark.parametrize("name", sorted(_MAINPROVIDER_PRIVATE))
def test_mock_mainprovider_private_name_and_signature(name):
    """wbemconform.mock.broker.hooks overrides or calls MainProvider.<name>
    with these parameters."""
    member = getattr(MainProvider, name, None)
    assert callable(member), f"pywbem_mock's MainProvider has no {name} any more"
    assert list(inspect.signature(member).parameters) == _MAINPROVIDER_PRIVATE[name], \
        f"pywbem_mock's MainProvider.{name} changed its parameters"


def test_mock_mainprovider_still_calls_the_hooks_the_broker_replaces():
    """The broker's class rules are reached only through these calls."""
    from pywbem_mock import FakedWBEMConnection as Faked
    create = inspect.getsource(MainProvider.CreateClass)
    modify = inspect.getsource(MainProvider.ModifyClass)
    for source in (create, modify):
        assert "self._resolve_class(" in source
        assert "self._validate_dependencies_exist(" in source
    assert "self._init_qualifier(" in inspect.getsource(MainProvider._resolve_qualifiers)
    assert "_resolve_class(" in inspect.getsource(Faked.add_cimobjects)


def test_mock_broker_names_no_other_private_member_of_pywbem_mock():
    """Only wbemconform.mock.broker.hooks names MainProvider's private members."""
    import ast
    import pathlib
    import wbemconform.mock.broker as broker_pkg
    private = {n for n in dir(MainProvider) if n.startswith("_") and not n.startswith("__")}
    for path in pathlib.Path(broker_pkg.__file__).parent.glob("*.py"):
        if path.name == "hooks.py":
            continue
        tree = ast.parse(path.read_text())
        named = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} | \
            {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert not named & private, f"{path.name} names {sorted(named & private)}"


# -- wbemconform.mock.faked and .dispatcher: FakedWBEMConnection, ProviderDispatcher ---

def test_mock_faked_connection_keeps_its_server_side_in_private_attributes():
    """wbemconform.mock.faked reads and replaces these attributes."""
    from pywbem_mock import FakedWBEMConnection as Faked
    from pywbem_mock import ProviderDispatcher
    conn = Faked(default_namespace="root/x")
    assert conn._cimrepository is conn.cimrepository
    assert conn._provider_registry is not None
    assert isinstance(conn._providerdispatcher, ProviderDispatcher)
    assert isinstance(conn._mainprovider, MainProvider)
    assert conn._mainprovider.cimrepository is conn.cimrepository
    for name in ("_imeth_CreateInstance", "_imeth_ModifyInstance", "_imeth_DeleteInstance",
                 "_imeth_ExecQuery"):
        assert list(inspect.signature(getattr(Faked, name)).parameters) == \
            ["self", "namespace", "params"], f"FakedWBEMConnection.{name} changed"
    assert "'_imeth_' + methodname" in inspect.getsource(Faked._mock_imethodcall), \
        "FakedWBEMConnection no longer serves an operation with _imeth_<Operation>"
    assert Faked._make_tuple([1]) == [("IRETURNVALUE", {}, [1])], \
        "FakedWBEMConnection._make_tuple builds another result now"


def test_mock_dispatcher_validate_property():
    """wbemconform.mock.dispatcher.Dispatcher.CreateInstance calls
    ProviderDispatcher._validate_property."""
    from pywbem_mock import ProviderDispatcher
    method = getattr(ProviderDispatcher, "_validate_property", None)
    assert callable(method), "pywbem_mock's ProviderDispatcher lost _validate_property"
    assert list(inspect.signature(method).parameters) == \
        ["self", "prop_name", "instance", "creation_class", "namespace", "class_store"]
    assert isinstance(inspect.getattr_static(ProviderDispatcher,
                                             "default_instance_write_provider"), property)


# -- wbemconform.server.pywbem_xml: what the served mock uses of pywbem's private API ------
# (tests/test_server_pywbem_adapter.py checks the formats: the tuple tree, TupleParser's
# results, the _cim_xml writers, and that no other module of the package uses a private
# name)

def test_server_reads_requests_and_writes_answers_with_pywbems_private_modules():
    """wbemconform.server.pywbem_xml reads CIM-XML requests with
    pywbem._tupleparse.TupleParser and writes answers with pywbem._cim_xml."""
    import re
    from pathlib import Path

    from pywbem import _cim_xml
    from pywbem._tupleparse import TupleParser

    from wbemconform.server import pywbem_xml
    assert callable(getattr(TupleParser(), "parse_cim", None)), \
        "pywbem's TupleParser has no parse_cim any more"
    source = Path(pywbem_xml.__file__).read_text(encoding="utf-8")
    writers = set(re.findall(r"_cim_xml\.([A-Z_]+)\b", source))
    assert {"CIM", "MESSAGE", "SIMPLERSP", "IMETHODRESPONSE", "ERROR"} <= writers
    for name in sorted(writers):
        assert callable(getattr(_cim_xml, name, None)), f"pywbem._cim_xml.{name} is gone"


def test_server_calls_the_mocks_intrinsic_methods_through_mock_imethodcall():
    """wbemconform.server.pywbem_xml.mock_imethodcall calls
    FakedWBEMConnection._mock_imethodcall(methodname, namespace, **params)."""
    from wbemconform.mock import connect
    from wbemconform.server.pywbem_xml import mock_imethodcall
    params = list(inspect.signature(FakedWBEMConnection._mock_imethodcall).parameters)
    assert params[:3] == ["self", "methodname", "namespace"], params
    result = mock_imethodcall(connect(), "EnumerateInstanceNames", "root/interop",
                              {"ClassName": pywbem.CIMClassName("CIM_RegisteredProfile")})
    assert result[0][0] == "IRETURNVALUE" and len(result[0][2]) == 2


def test_server_expires_pull_contexts_in_the_mocks_main_provider_table():
    """wbemconform.server.pywbem_xml.enumeration_contexts is pywbem_mock's
    FakedWBEMConnection._mainprovider.enumeration_contexts ({context id:
    state}); the server closes an idle context by deleting its entry, after
    which a Pull on it is CIM_ERR_INVALID_ENUMERATION_CONTEXT."""
    from wbemconform.mock import connect
    from wbemconform.server.pywbem_xml import enumeration_contexts
    conn = connect()
    provider = getattr(conn, "_mainprovider", None)
    assert provider is not None, "pywbem_mock's FakedWBEMConnection has no _mainprovider"
    table = getattr(provider, "enumeration_contexts", None)
    assert isinstance(table, dict), \
        "pywbem_mock's MainProvider no longer keeps pull contexts in enumeration_contexts"
    assert enumeration_contexts(conn) is table
    result = conn.OpenEnumerateInstancePaths("CIM_RegisteredProfile", namespace="root/interop",
                                             MaxObjectCount=0)
    assert not result.eos and list(table) == [result.context[0]], \
        "an Open's context is not keyed by its id in enumeration_contexts"
    del table[result.context[0]]  # what the server does to close it
    with pytest.raises(pywbem.CIMError) as err:
        conn.PullInstancePaths(result.context, MaxObjectCount=1)
    assert err.value.status_code == pywbem.CIM_ERR_INVALID_ENUMERATION_CONTEXT


def test_pywbem_reads_a_class_element_for_the_wsman_client():
    """targets/pywbem_adapter.parse_class_xml: pywbem's _tupletree
    .xml_to_tupletree_sax and _tupleparse.TupleParser.parse_class read the
    <CLASS> a WS-Management server's class retrieval answers."""
    from pywbem import CIMClass, CIMProperty
    from wbemconform.targets.pywbem_adapter import parse_class_xml
    cls = CIMClass("X_Fan", superclass="CIM_Fan",
                   properties=[CIMProperty("DeviceID", None, type="string", propagated=False)])
    assert parse_class_xml(cls.tocimxmlstr().encode()) == cls
