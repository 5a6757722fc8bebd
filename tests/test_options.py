"""The option table (wbemconform.options) and the targets' layout: one row per
option, read the same way by the plugin, the Reproduce commands and the zoo;
openers chosen in one place."""

import argparse
import ast
import os
from dataclasses import fields
from pathlib import Path

import pytest

from wbemconform import options
from wbemconform.options import TargetOptions
from wbemconform.targets import TargetSetupError, opener_for, validate_options

SRC = Path(options.__file__).resolve().parent


def test_every_target_option_field_has_one_row():
    filled = [row.field for row in options.TABLE if row.field]
    assert sorted(filled) == sorted(f.name for f in fields(TargetOptions))


def test_rows_are_distinct_and_their_kinds_known():
    names = [row.name for row in options.TABLE]
    assert len(names) == len(set(names))
    for row in options.PYTEST_TABLE:  # the plugin's rows; the command's own may differ
        assert row.name.startswith(("--wbem-", "--conformance-")), row.name
        assert set(row.kinds) <= set(options.KINDS), row
        assert row.dest == row.name[2:].replace("-", "_")
        assert options.by_name(row.name) is row
    with pytest.raises(ValueError):
        options.by_kind("paths")


def test_kinds_name_the_options_the_plugin_and_report_treat_apart():
    assert set(options.by_kind("path")) == {
        options.CA_CERTS, options.MOCK_MOF, options.MOCK_SCHEMA, options.OPERATION_LOG,
        options.JSON, options.REPORT, options.WAIVERS, options.PROFILE_DEFS,
        options.MOCK_INCLUDE_ROOT, options.CONFIG, options.RESULTS_DIR}
    assert options.by_kind("secret") == (options.PASSWORD,)
    assert set(options.by_kind("output")) == {options.JSON, options.REPORT, options.WAIVERS,
                                              options.OPERATION_LOG, options.STRICT,
                                              options.RESULTS_DIR}


def test_the_plugin_declares_exactly_the_table(pytestconfig):
    declared = pytestconfig._parser.getgroup("wbemconform").options
    assert [o.names()[0] for o in declared] == [row.name for row in options.PYTEST_TABLE]
    assert {row.scope for row in options.TABLE if row not in options.PYTEST_TABLE} == {"check"}
    for action, row in zip(declared, options.PYTEST_TABLE):
        assert action.attrs()["help"] == row.help
        assert action.default == row.argparse_default


def _parse(args):
    parser = argparse.ArgumentParser()
    options.add_options(parser.add_argument)
    ns = parser.parse_args(args)
    return lambda name: getattr(ns, options.by_name(name).dest)


def test_command_args_give_the_same_target_options(tmp_path):
    opts = TargetOptions(url="https://h.example:5989", user="u", password="pw", no_verify=True,
                         timeout=7.0, max_response_bytes="1M", interop_namespace="interop",
                         mock_include_roots=[str(tmp_path)], workers=2, flavor="dmtf",
                         profiles=["A", "B:1.0"], allow_writes=True,
                         profile_defs=str(tmp_path / "d.toml"))
    args = options.command_args(opts)
    assert "pw" not in args and options.PASSWORD not in args
    back = options.target_options(_parse(args))
    back.timeout = float(back.timeout)
    assert vars(back) == {**vars(opts), "password": None}
    assert options.command_args(TargetOptions()) == []


def test_recorded_options_reproduce_what_is_checked(tmp_path):
    get = _parse(["--wbem-url", "http://bob:pw@h", "--wbem-password", "pw", "--wbem-mock-mof",
                  "a.mof", "--conformance-json", str(tmp_path / "r.json"),
                  "--wbem-allow-writes", "--wbem-workers", "4"])
    recorded = options.recorded(get)
    assert recorded == {options.URL: "http://h", options.MOCK_MOF: [os.path.abspath("a.mof")],
                        options.ALLOW_WRITES: True, options.JSON: str(tmp_path / "r.json")}
    assert options.reproduce_args({**recorded, "--junitxml": "j.xml"}) == [
        options.URL, "http://h", options.MOCK_MOF, os.path.abspath("a.mof"),
        options.ALLOW_WRITES]


@pytest.mark.parametrize("given, url, message", [
    ({"user": "u", "no_verify": True}, None,
     "--wbem-user, --wbem-no-verify: only used with --wbem-url, and no --wbem-url is given"),
    ({"mock_mof": ["a.mof"], "mock_dialect": "dmtf"}, "http://h",
     "--wbem-mock-mof, --wbem-mock-dialect: only used with the embedded mock, and "
     "--wbem-url http://h is given"),
])
def test_an_option_for_another_kind_of_target_is_refused(given, url, message):
    with pytest.raises(TargetSetupError, match="^" + message):
        validate_options(TargetOptions(url=url, **given))


@pytest.mark.parametrize("given, name", [
    ({"mock_include_roots": ["inc"]}, "--wbem-mock-include-root"),
    ({"mock_include_anywhere": True}, "--wbem-mock-include-anywhere"),
])
def test_mock_include_options_are_refused_with_a_url(given, name):
    """Before: accepted with --wbem-url and silently unused."""
    with pytest.raises(TargetSetupError, match=f"^{name}: only used with the embedded mock, and --wbem-url http://h is given"):
        validate_options(TargetOptions(url="http://h", **given))


def test_one_place_picks_the_opener():
    from wbemconform.targets import cimxml, mock
    assert opener_for(TargetOptions()) is mock
    assert opener_for(TargetOptions(url="http://h")) is cimxml


def _imports(path):
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
            out.update("." * node.level + (node.module + "." if node.module else "") + a.name
                       for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_only_the_package_imports_an_opener_and_the_mock_no_target():
    openers = {".cimxml", ".mock"}
    for module in (SRC / "targets").glob("*.py"):
        if module.name != "__init__.py":
            assert not _imports(module) & openers, module.name
    def names_a_target_module(name):
        return bool({"target", "targets"} & set(name.replace(".", " ").split()))
    for module in (SRC / "mock").rglob("*.py"):
        assert not any(map(names_a_target_module, _imports(module))), module.name
    assert not any(map(names_a_target_module, _imports(SRC / "options.py")))
