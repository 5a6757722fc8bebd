"""The compiled-repository cache (wbemconform.mock.cache): a load taken from
the cache is the load compiled afresh, and a changed input is never served
from it."""

import gc
import inspect
import os
import threading
import zipfile

import pytest
from pywbem import CIMError, CIMInstance, CIMInstanceName
from pywbem_mock import ProviderDispatcher

import zoo
from conftest import SHARED
from wbemconform.mock import (InstanceProvider, WmiMockConnection, cache as cache_module, connect,
                              profiles_dir)
from wbemconform.mock import dmtf as dmtf_module
from wbemconform.mock import loading as mock_loading
from wbemconform.mock.cache import MockCache, cache_folder
from wbemconform.runner import run_session
from wbemconform.topology import bench_topology, render_mof

ZIP = SHARED / "schemas" / "cim_schema_2.41.0Final-MOFs.zip"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A cache folder of this test (never the user's)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("WBEMCONFORM_CACHE", str(path))
    monkeypatch.delenv("WBEMCONFORM_CACHE_MAX_MB", raising=False)
    return path


def entries(path):
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


def state(conn):
    """What a load produced, as comparable data: every namespace's qualifier
    declarations, classes and static instances (in store order), the
    compiler's knowledge, the load warnings and findings, and the options."""
    repo = conn.cimrepository
    spaces = {}
    for ns in sorted(conn.namespaces):
        spaces[ns] = (
            [q.tomof() for q in repo.get_qualifier_store(ns).iter_values(copy=False)],
            [c.tomof() for c in repo.get_class_store(ns).iter_values(copy=False)],
            [(str(i.path), i.tomof()) for i in repo.get_instance_store(ns).iter_values(copy=False)],
        )
    compiler = conn._compiler.state()
    return {"namespaces": spaces, "compiler": compiler,
            "warnings": [str(w) for w in conn.load_warnings],
            "findings": [str(f) for f in conn.load_findings],
            "dialect": conn.dialect, "quirks": conn.broker.quirks,
            "accept_remote": conn.broker.accept_remote_target_namespaces,
            "reject_remote": conn.broker.reject_remote_classes,
            "provisioned": conn._provisioned,
            "schema": conn.dmtf_schema and str(conn.dmtf_schema.pragma_file)}


def cold_then_warm(*args, **kwargs):
    cold = connect(*args, **kwargs)
    warm = connect(*args, **kwargs)
    assert not cold.from_cache, "the first load compiles"
    assert warm.from_cache, "the second load of the same input comes from the cache"
    return cold, warm


# ---------------------------------------------------------------------------
# warm == cold
# ---------------------------------------------------------------------------

def _topology(tmp_path):
    """Two files, one including a third: profiles, elements, an own namespace."""
    main = tmp_path / "topology.mof"
    main.write_text(render_mof(bench_topology(3, 4)) +
                    '#pragma namespace("root/extra")\n#pragma include("extra.mof")\n')
    (tmp_path / "extra.mof").write_text(
        '#pragma include("interop.mof")\n#pragma include("cimv2.mof")\n'
        "class Extra_Element : CIM_SoftwareIdentity\n{\n};\n"
        'instance of Extra_Element\n{\n    InstanceID = "extra:1";\n};\n')
    return [main]


LOADS = {
    "examples": lambda tmp_path: (None, {}),
    "topology with an include": lambda tmp_path: (_topology(tmp_path), {}),
    "load findings (remote target namespace)": lambda tmp_path: (
        [zoo.ZOO / "target-ns-remote" / "defect.mof"], {"accept_remote_target_namespaces": True}),
    "load warnings": lambda tmp_path: ([zoo.ZOO / "target-ns-wrong" / "defect.mof"], {}),
    "quirks": lambda tmp_path: (
        [zoo.ZOO / "good-spec-process" / "defect.mof"],
        {"quirks": ["role-ignored", "result-class-ignored"]}),
    "dmtf dialect": lambda tmp_path: (_topology(tmp_path), {"dialect": "dmtf"}),
}


@pytest.mark.parametrize("load", LOADS)
def test_a_cached_load_is_the_compiled_load(folder, tmp_path, load):
    files, kwargs = LOADS[load](tmp_path)
    cold, warm = cold_then_warm(files, **kwargs)
    assert state(warm) == state(cold)
    if load.startswith("load findings"):
        assert warm.load_findings and \
            [type(f) for f in warm.load_findings] == [type(f) for f in cold.load_findings]
    if load == "load warnings":
        assert warm.load_warnings


def test_a_cached_load_compiles_nothing_and_carries_on_like_a_compiled_one(folder, tmp_path,
                                                                           monkeypatch):
    files = _topology(tmp_path)
    cold = connect(files)
    compiled = []
    real = WmiMockConnection.load_mof
    monkeypatch.setattr(WmiMockConnection, "load_mof",
                        lambda self, *a, **k: (compiled.append(a), real(self, *a, **k))[1])
    warm = connect(files)
    assert warm.from_cache and compiled == []
    # both go on loading MOF the same way: includes compiled once, classes known
    more = ('#pragma namespace("root/extra")\n#pragma include("extra.mof")\n'
            "class Later_Element : Extra_Element\n{\n};\n")
    for conn in (cold, warm):
        conn.load_mof_string(more, filename=str(tmp_path / "later.mof"))
    assert state(warm) == state(cold)


ZOO_ENTRIES = ["good-spec-process", "target-ns-remote", "target-ns-wrong", "accepts-delete",
               "cimom-ignores-role"]


@pytest.mark.parametrize("name", ZOO_ENTRIES)
def test_zoo_verdicts_are_the_same_warm_and_cold(folder, name):
    def document():
        session = run_session(zoo.options(name))
        doc = session.document()
        # verdicts, messages and problems; not the evidence: the property-based
        # checks draw their examples afresh on every run
        return session.target.conn.from_cache, {
            "requirements": {rid: (r["verdict"], {s: (v["verdict"], v["message"],
                                                      v.get("problems"))
                                                  for s, v in r["subjects"].items()})
                             for rid, r in doc["requirements"].items()},
            "load_failures": doc["load_failures"], "load_warnings": doc["load_warnings"],
            "setup_error": doc["setup_error"]}

    hit_cold, cold = document()
    hit_warm, warm = document()
    assert (hit_cold, hit_warm) == (False, True)
    assert warm == cold


# ---------------------------------------------------------------------------
# providers: never cached
# ---------------------------------------------------------------------------

class CountingProvider(InstanceProvider):
    made = 0

    def __init__(self):
        type(self).made += 1
        self.notes = {}

    def enumerate_instances(self, namespace, classname):
        return list(self.notes.values())

    def put_instance(self, namespace, instance):
        path = CIMInstanceName(instance.classname, {"Id": instance["Id"]}, namespace=namespace)
        stored = CIMInstance(instance.classname, properties=instance.properties, path=path)
        self.notes[instance["Id"]] = stored
        return path


NOTES = """
#pragma namespace("root/cimv2")
[Dynamic, Provider("Notes")]
class Test_Note
{
    [Key] string Id;
    string Text;
};
instance of __Win32Provider as $P
{
    Name = "Notes"; ClsId = "{00000000-0000-4000-8000-00000000abcd}";
};
instance of __InstanceProviderRegistration
{
    Provider = $P; SupportsPut = TRUE; SupportsGet = TRUE;
    SupportsEnumeration = TRUE; SupportsDelete = FALSE;
};
"""


def test_python_providers_are_made_afresh_for_a_cached_load(folder, tmp_path):
    mof = tmp_path / "notes.mof"
    mof.write_text(NOTES)
    CountingProvider.made = 0
    cold, warm = cold_then_warm([mof], providers={"Notes": CountingProvider})
    assert CountingProvider.made == 0, "no provider is made by loading this MOF"
    for conn in (cold, warm):
        conn.CreateInstance(CIMInstance("Test_Note", properties={"Id": "a", "Text": "x"}),
                            namespace="root/cimv2")
    assert CountingProvider.made == 2, "each connection has its own provider object"
    assert [i["Text"] for i in warm.EnumerateInstances("Test_Note", namespace="root/cimv2")] \
        == ["x"]
    third = connect([mof], providers={"Notes": CountingProvider})
    assert third.from_cache and \
        third.EnumerateInstances("Test_Note", namespace="root/cimv2") == []


def test_a_load_that_feeds_a_python_provider_is_not_cached(folder, tmp_path):
    mof = tmp_path / "notes.mof"
    mof.write_text(NOTES + 'instance of Test_Note\n{\n    Id = "n1"; Text = "from MOF";\n};\n')
    for _ in range(2):
        conn = connect([mof], providers={"Notes": CountingProvider})
        assert not conn.from_cache
        assert [i["Text"] for i in conn.EnumerateInstances("Test_Note", namespace="root/cimv2")] \
            == ["from MOF"]
    assert entries(folder) == []


# ---------------------------------------------------------------------------
# invalidation
# ---------------------------------------------------------------------------

def test_a_changed_mof_file_is_compiled_again(folder, tmp_path):
    mof = tmp_path / "t.mof"
    mof.write_text(render_mof(bench_topology(1, 2)))
    cold_then_warm([mof])
    mof.write_text(render_mof(bench_topology(1, 3)))
    again = connect([mof])
    assert not again.from_cache
    assert len(again.EnumerateInstanceNames("Bench_Element0", namespace="root/cimv2")) == 3


def test_a_changed_included_file_is_compiled_again(folder, tmp_path):
    files = _topology(tmp_path)
    cold_then_warm(files)
    extra = tmp_path / "extra.mof"
    extra.write_text(extra.read_text().replace('"extra:1"', '"extra:2"'))
    again = connect(files)
    assert not again.from_cache
    names = again.EnumerateInstanceNames("Extra_Element", namespace="root/extra")
    assert [n["InstanceID"] for n in names] == ["extra:2"]


def test_a_file_appearing_where_an_include_looks_first_is_compiled_again(folder, tmp_path):
    files = _topology(tmp_path)
    cold_then_warm(files)
    # extra.mof includes interop.mof, found in the mock's schema folder; a
    # file of that name beside it now comes first
    builtin = profiles_dir() / "schema" / "interop.mof"
    (tmp_path / "interop.mof").write_text(builtin.read_text() +
                                          "\nclass Shadow_Class\n{\n};\n")
    again = connect(files)
    assert not again.from_cache
    assert "Shadow_Class" in again.EnumerateClassNames(namespace="root/extra")


def test_a_changed_project_version_is_a_miss(folder, tmp_path, monkeypatch):
    files = _topology(tmp_path)
    cold_then_warm(files)
    versions = cache_module.project_versions()
    monkeypatch.setattr(cache_module, "project_versions",
                        lambda: dict(versions, wbemconform=versions["wbemconform"] + ".post1"))
    assert not connect(files).from_cache
    monkeypatch.setattr(cache_module, "project_versions",
                        lambda: dict(versions, pywbem="0.0.1"))
    assert not connect(files).from_cache
    monkeypatch.undo()
    monkeypatch.setenv("WBEMCONFORM_CACHE", str(folder))
    assert connect(files).from_cache


def test_other_options_are_other_entries(folder, tmp_path):
    files = _topology(tmp_path)
    connect(files)
    assert not connect(files, quirks=["role-ignored"]).from_cache
    assert not connect(files, accept_remote_target_namespaces=True).from_cache
    assert not connect(files, dialect="dmtf").from_cache
    assert connect(files, quirks=["role-ignored"]).from_cache


@pytest.mark.skipif(not ZIP.is_file(), reason=f"needs DMTF's CIM schema 2.41 zip at {ZIP} "
                                              "(../shared is only beside CI clones)")
def test_a_changed_schema_file_is_compiled_again(folder, tmp_path):
    schema = tmp_path / "schema"
    with zipfile.ZipFile(ZIP) as zf:
        zf.extractall(schema)
    mof = zoo.ZOO / "good-dmtf-schema-include" / "defect.mof"
    cold, warm = cold_then_warm([mof], schema=schema)
    assert state(warm) == state(cold)
    registered = next(schema.rglob("CIM_RegisteredProfile.mof"))
    text = registered.read_text()
    assert 'Version ( "2.39.0" )' in text
    registered.write_text(text.replace('Version ( "2.39.0" )', 'Version ( "2.39.1" )'))
    # what a new process sees: this one keeps the schema it read in memory
    mock_loading._schema_connection.cache_clear()
    dmtf_module._load.cache_clear()
    again = connect([mof], schema=schema)
    assert not again.from_cache
    cls = again.GetClass("CIM_RegisteredProfile", namespace="interop", LocalOnly=False)
    assert cls.qualifiers["Version"].value == "2.39.1"


# ---------------------------------------------------------------------------
# broken entries, concurrency, bounds, switching off
# ---------------------------------------------------------------------------

def _corrupt(kind, path):
    data = path.read_bytes()
    if kind == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "flipped payload byte":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "a folder":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("kind", ["garbage", "truncated", "flipped payload byte", "empty",
                                  "a folder"])
def test_a_corrupt_entry_is_a_miss_not_a_crash(folder, tmp_path, kind):
    files = _topology(tmp_path)
    cold = connect(files)
    [entry] = [folder / n for n in entries(folder)]
    _corrupt(kind, entry)
    again = connect(files)
    assert not again.from_cache
    assert state(again) == state(cold)
    if kind != "a folder":
        assert connect(files).from_cache, "the broken entry was replaced"


def test_an_entry_in_a_folder_others_can_write_is_not_used(folder, tmp_path):
    files = _topology(tmp_path)
    cold_then_warm(files)
    folder.chmod(0o777)
    assert not connect(files).from_cache
    folder.chmod(0o700)
    assert connect(files).from_cache


def test_concurrent_loads_share_one_entry_safely(folder, tmp_path):
    files = _topology(tmp_path)
    results, errors = [], []

    def load():
        try:
            results.append(state(connect(files)))
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(results) == 4
    assert all(r == results[0] for r in results)
    assert [n for n in entries(folder) if n.endswith(".tmp")] == []
    assert len(entries(folder)) == 1
    assert connect(files).from_cache


def test_entries_are_written_whole_then_renamed(folder, tmp_path, monkeypatch):
    renames = []
    real = os.replace
    monkeypatch.setattr(cache_module.os, "replace",
                        lambda src, dst: (renames.append((src, dst)), real(src, dst))[1])
    connect(_topology(tmp_path))
    [(src, dst)] = renames
    assert src.parent == dst.parent == folder and src.name.endswith(".tmp")


def test_the_cache_is_bounded_least_recently_used_first(tmp_path):
    store = MockCache(tmp_path / "c", max_bytes=10 ** 9)
    for i, name in enumerate("abcd"):
        assert store.store(name * 64, {}, {"blob": os.urandom(9_000)})
        os.utime(store.folder / f"{name * 64}.mockcache", (1000 + i, 1000 + i))
    os.utime(store.folder / f"{'a' * 64}.mockcache", (2000, 2000))  # used last
    stale = store.folder / ".x.1.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (1, 1))
    store.max_bytes = 3 * 10_000
    store.evict()
    left = entries(store.folder)
    assert len(left) == 3 and f"{'b' * 64}.mockcache" not in left
    assert f"{'a' * 64}.mockcache" in left and ".x.1.tmp" not in left


@pytest.mark.parametrize("how", ["env", "argument"])
def test_the_cache_can_be_switched_off(folder, tmp_path, monkeypatch, how):
    kwargs = {}
    if how == "env":
        monkeypatch.setenv("WBEMCONFORM_CACHE", "off")
    else:
        kwargs["cache"] = False
    files = _topology(tmp_path)
    assert not connect(files, **kwargs).from_cache
    assert not connect(files, **kwargs).from_cache
    assert entries(folder) == []


def test_where_the_cache_lives(tmp_path):
    home = os.path.expanduser("~")
    assert cache_folder({}) == cache_module.Path(home) / ".cache" / "wbemconform" / "mock-cache"
    assert cache_folder({"XDG_CACHE_HOME": str(tmp_path)}) == \
        tmp_path / "wbemconform" / "mock-cache"
    assert cache_folder({"WBEMCONFORM_CACHE": str(tmp_path / "x"),
                         "XDG_CACHE_HOME": "/elsewhere"}) == tmp_path / "x"
    for off in ("off", "OFF", "0", "no", "false", "none", "disabled"):
        assert cache_folder({"WBEMCONFORM_CACHE": off}) is None


def test_connect_leaves_the_garbage_collector_as_it_was(folder, tmp_path):
    files = _topology(tmp_path)
    assert gc.isenabled()
    connect(files)
    connect(files)
    assert gc.isenabled()
    gc.disable()
    try:
        connect(files, cache=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---------------------------------------------------------------------------
# the dispatcher's CreateInstance (private use of pywbem_mock)
# ---------------------------------------------------------------------------

def test_pywbem_mock_still_has_the_validation_the_dispatcher_uses():
    """wbemconform.mock.dispatcher.Dispatcher.CreateInstance calls pywbem_mock 1.9.1's
    ProviderDispatcher._validate_property: if this fails, pywbem_mock has
    changed and the dispatcher must follow it."""
    method = getattr(ProviderDispatcher, "_validate_property", None)
    assert method is not None, "pywbem_mock's ProviderDispatcher lost _validate_property"
    assert list(inspect.signature(method).parameters) == \
        ["self", "prop_name", "instance", "creation_class", "namespace", "class_store"]


def test_create_instance_still_validates_against_the_class(folder):
    conn = connect(cache=False)
    bad = [CIMInstance("CIM_RegisteredProfile", properties={"NoSuchProperty": "x",
                                                            "InstanceID": "a"}),
           CIMInstance("CIM_RegisteredProfile", properties={"InstanceID": ["a", "b"]}),
           CIMInstance("No_Such_Class", properties={"InstanceID": "a"})]
    for inst in bad:
        with pytest.raises(CIMError):
            conn.CreateInstance(inst, namespace="root/interop")
    path = conn.CreateInstance(CIMInstance("CIM_RegisteredProfile",
                                           properties={"instanceid": "ok"}),
                               namespace="root/interop")
    # stored with the class' spelling of the property; the caller's instance
    # keeps its own
    stored = conn.cimrepository.get_instance_store("root/interop").get(path, copy=False)
    assert [p.name for p in stored.properties.values()] == ["InstanceID"]
    mine = CIMInstance("CIM_RegisteredProfile", properties={"instanceid": "ok2"})
    conn.CreateInstance(mine, namespace="root/interop")
    assert [p.name for p in mine.properties.values()] == ["instanceid"]
