"""The private pywbem API wbemconform.server relies on (all of it in
wbemconform/server/pywbem_xml.py), checked so that a pywbem release that
changes it fails here, loudly, rather than in a served request: the
tuple-tree format pywbem's TupleParser reads (which the server builds itself,
in linear time), TupleParser's result shapes, the _cim_xml element writers,
and the mock's _mock_imethodcall entry point."""

import ast
import inspect
import re
from pathlib import Path

import pytest
import pywbem
import pywbem_mock
from pywbem import _cim_xml
from pywbem._tupleparse import TupleParser
from pywbem._tupletree import xml_to_tupletree_sax
from test_fuzz_server import _capture as capture_requests

import wbemconform.server as server_module
from wbemconform.mock import connect
from wbemconform.server import _request_tree, parse_request, pywbem_xml, serve

SERVER_SOURCES = {path.name: path.read_text(encoding="utf-8")
                  for path in sorted(Path(server_module.__file__).parent.glob("*.py"))}
ADAPTER = Path(pywbem_xml.__file__).name  # the one module that may use private names
ADAPTER_SOURCE = SERVER_SOURCES[ADAPTER]
OWN_PRIVATE = {"_shutdown"}  # the package's own private attributes used across its classes


@pytest.fixture(scope="module")
def pywbem_requests():
    """Request bodies exactly as pywbem's client writes them (the fuzz tests'
    capture: intrinsic operations of every kind, and an InvokeMethod)."""
    with serve(connect()) as srv:
        return [body for _, _, body in capture_requests(srv.url)]


ODD_DOCUMENTS = [
    b'<?xml version="1.0" encoding="utf-8"?>\n<CIM A="1">\n  <X>text &amp; more &#10;'
    b' <![CDATA[<raw>]]> tail<!-- comment -->after</X>\n\n<Y/>\r\n</CIM>',
    b'<CIM><V>line1\nline2\r\nline3\n\n\n</V><V></V><V> </V></CIM>',
    '<?xml version="1.0" encoding="utf-16"?><CIM N="\u00e9"><V>\u20ac\U0001F600</V></CIM>'
    .encode("utf-16"),
    b'<?xml version="1.0" encoding="iso-8859-1"?><CIM><V>caf\xe9</V></CIM>',
    b'<CIM>' + b'\n' * 5000 + b'<V a="x&#9;y"  b=\'z\'>' + b' ' * 3000 + b'</V></CIM>',
]


def test_tree_format_is_pywbems(pywbem_requests):
    """The server's tree builder and pywbem's SAX one give the same tree: the
    format TupleParser reads has not changed."""
    for body in pywbem_requests + ODD_DOCUMENTS:
        assert _request_tree(body) == xml_to_tupletree_sax(body, "test"), body[:200]


def test_tupleparser_result_shapes(pywbem_requests):
    """What the server takes from TupleParser's result: (ID, IMETHODCALL or
    METHODCALL tuple with NAME, namespace or path, and (name, value) params)."""
    seen = set()
    for body in pywbem_requests:
        msgid, call = parse_request(body)
        assert isinstance(msgid, str) and msgid
        kind = call[0]
        seen.add(kind)
        assert isinstance(call[1], dict) and call[1]["NAME"]
        if kind == "IMETHODCALL":
            assert call[2] in ("root/interop", "root/cimv2")
            assert all(isinstance(name, str) for name, _ in call[3])
        else:
            assert kind == "METHODCALL"
            assert isinstance(call[2], pywbem.CIMInstanceName)
    assert seen == {"IMETHODCALL", "METHODCALL"}
    tree = _request_tree(pywbem_requests[0])
    cim = TupleParser().parse_cim(tree)
    assert cim[0] == "CIM" and cim[2][0] == "MESSAGE" and cim[2][2][0] == "SIMPLEREQ"


def test_cim_xml_writers_exist():
    names = re.findall(r"_cim_xml\.([A-Z_]+)\b", ADAPTER_SOURCE)
    assert names, "the adapter writes no element with _cim_xml: update this test"
    for name in names:
        assert callable(getattr(_cim_xml, name, None)), f"pywbem._cim_xml.{name} is gone"
    response = _cim_xml.CIM(_cim_xml.MESSAGE(_cim_xml.SIMPLERSP(_cim_xml.IMETHODRESPONSE(
        "GetClass", [_cim_xml.IRETURNVALUE([])])), "1", "1.0"), "2.0", "2.0")
    assert response.toxml().startswith('<CIM CIMVERSION="2.0" DTDVERSION="2.0">')


def test_mock_entry_point():
    params = list(inspect.signature(
        pywbem_mock.FakedWBEMConnection._mock_imethodcall).parameters)
    assert params[:3] == ["self", "methodname", "namespace"], params
    names = pywbem_xml.mock_imethodcall(connect(), "EnumerateInstanceNames",
                                        "root/interop",
                                        {"ClassName": pywbem.CIMClassName(
                                            "CIM_RegisteredProfile")})
    assert names[0][0] == "IRETURNVALUE" and len(names[0][2]) == 2


def _private_uses(source):
    """Line numbers where ``source`` uses something private of another
    module (imports of pywbem's private modules or names, attribute access)."""
    used = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith(("pywbem._", "pywbem_mock._"))
                or (node.module in ("pywbem", "pywbem_mock")
                    and any(a.name.startswith("_") for a in node.names))):
            used.append(node.lineno)
        elif isinstance(node, ast.Import) and any(
                a.name.startswith(("pywbem._", "pywbem_mock._")) for a in node.names):
            used.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and \
                not node.attr.startswith("__") and \
                not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")) \
                and node.attr not in OWN_PRIVATE:
            used.append(node.lineno)  # a private attribute of another object
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1 and \
                isinstance(node.args[1], ast.Constant) and \
                str(node.args[1].value).startswith("_"):
            used.append(node.lineno)  # the same, spelled getattr(obj, "_name")
    return used


def test_private_use_is_in_one_place():
    """pywbem's private modules and the mock's private members are used (in
    code: imports, attribute access) only in the adapter module of the
    server package, wbemconform/server/pywbem_xml.py."""
    assert _private_uses(ADAPTER_SOURCE), \
        "the adapter module uses nothing private: update this test"
    elsewhere = {name: _private_uses(source) for name, source in SERVER_SOURCES.items()
                 if name != ADAPTER}
    assert len(elsewhere) > 5, sorted(SERVER_SOURCES)  # the package's modules were found
    assert not any(elsewhere.values()), {k: v for k, v in elsewhere.items() if v}
