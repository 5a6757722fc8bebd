"""The embedded WMI-style interop mock.

``connect()`` returns a pywbem ``WBEMConnection``-compatible object backed by
pywbem_mock, loaded with the interop schema, the WMI system classes and
either the example profiles or MOF files of your own, in the WMI dialect the
spec shows. See :mod:`wbemconform.mock.broker` for what it adds to
pywbem_mock.

The schema is the built-in subset in ``profiles/schema`` unless a DMTF CIM
schema release is given (``connect(schema=PATH)``, see
:mod:`wbemconform.mock.dmtf`): then every namespace gets the classes the
loaded MOF needs from that schema, with their dependencies, and the subset
steps aside.

A compiled load is kept in a cache (:mod:`wbemconform.mock.cache`:
``$XDG_CACHE_HOME/wbemconform/mock-cache``, ``WBEMCONFORM_CACHE`` to move
it, ``WBEMCONFORM_CACHE=off`` to turn it off), so that loading the same MOF
again -- the same files, the same files they include, the same schema, the
same options and versions -- costs a file read instead of a compilation.
"""

from __future__ import annotations

import os
import warnings
from importlib import resources
from copy import deepcopy
from functools import lru_cache
from pathlib import Path

from pywbem import (CIM_ERR_INVALID_CLASS, CIM_ERR_NOT_FOUND, CIMError, CIMInstance,
                    CIMInstanceName, ModelError, ToleratedSchemaIssueWarning, WBEMServer)
from pywbem_mock import FakedWBEMConnection, InstanceWriteProvider, ProviderDispatcher

from .. import mof as _mof
from ..mof import DEFAULT_NAMESPACE, MofLoadError, MofLoadWarning, WmiMofCompiler
from .broker import Registration, WmiBroker
from .cache import gc_paused, open_cache
from .checks import check_declarations
from .dmtf import DmtfSchema, SchemaError, load_schema
from .providers import (BINDING_CLASS, ConformsToProfileProvider, InstanceProvider,
                        ProviderServices)

__all__ = ["connect", "WmiMockConnection", "MofLoadError", "MofLoadWarning", "SchemaError",
           "DmtfSchema", "load_schema",
           "profiles_dir", "default_profile_files", "InstanceProvider",
           "ConformsToProfileProvider", "ProviderServices", "Registration", "BINDING_CLASS",
           "INTEROP_NAMESPACE", "CIMV2_NAMESPACE", "INTEROP_SCHEMA_CLASSES"]

INTEROP_NAMESPACE = "root/interop"
CIMV2_NAMESPACE = "root/cimv2"

#: What the mock's interop namespace holds from a DMTF schema, when one is
#: given: the profile registration classes and the object manager pywbem's
#: WBEMServer (and the CIM_Namespace provider) look for.
INTEROP_SCHEMA_CLASSES = ("CIM_RegisteredProfile", "CIM_ReferencedProfile",
                          "CIM_ElementConformsToProfile", "CIM_ObjectManager",
                          "CIM_Namespace")


class _MultiNamespaceWriter(InstanceWriteProvider):
    """pywbem_mock's default instance writer, with its multi-namespace
    ModifyInstance mended.

    pywbem_mock 1.9.1 stores one instance object in every namespace an
    association instance spans, then moves that object's path to the next
    namespace: every copy ends with the path of the last one, e.g. the
    root/interop copy of a cross-namespace ElementConformsToProfile holding
    a root/cimv2 path. Here each namespace gets its own copy, with its own
    path. (tests/test_mock_multins.py holds the reproduction.)"""

    def modify_multi_namespace_instance(self, modified_instance, assoc_namespaces):
        spaces = list(assoc_namespaces) + [modified_instance.path.namespace]
        for ns in spaces:
            self.get_required_class(modified_instance, ns)
        paths = {}
        for ns in spaces:
            path = modified_instance.path.copy()
            path.namespace = ns
            if not self.cimrepository.get_instance_store(ns).object_exists(path):
                raise CIMError(CIM_ERR_NOT_FOUND,
                               f"modified instance {path} does not exist in namespace {ns}")
            paths[ns] = path
        for ns, path in paths.items():
            inst = modified_instance.copy()
            inst.path = path
            self.cimrepository.get_instance_store(ns).update(path, inst)


class _Dispatcher(ProviderDispatcher):
    """pywbem_mock's provider dispatcher with the mended default writer, and
    a CreateInstance that does not copy the creation class.

    pywbem_mock 1.9.1's CreateInstance deep-copies the instance's class out
    of the repository to validate the instance's properties against it --
    only reads -- which for a CIM_SoftwareIdentity subclass is 2 ms, 70% of
    loading a MOF file of 10,000 instances. Here the same checks read the
    stored class in place. (PRIVATE USE of pywbem_mock 1.9.1: the
    dispatcher's ``_validate_property``; tests/test_mock_cache.py fails
    loudly if it changes.)"""

    @property
    def default_instance_write_provider(self):
        writer = getattr(self, "_wbemconform_writer", None)
        if writer is None:
            writer = self._wbemconform_writer = _MultiNamespaceWriter(self.cimrepository)
        return writer

    def CreateInstance(self, namespace, NewInstance):
        self.validate_namespace(namespace)
        class_store = self.cimrepository.get_class_store(namespace)
        if not class_store.object_exists(NewInstance.classname):
            raise CIMError(CIM_ERR_INVALID_CLASS,
                           f"creation class {NewInstance.classname!r} of the new instance "
                           f"does not exist in namespace {namespace!r}")
        creation_class = class_store.get(NewInstance.classname, copy=False)
        if creation_class.qualifiers.get("Abstract", False):
            # a warning a cached load would not repeat: this load is not cached
            self.warned = True
            warnings.warn(f"Tolerating instance creation of abstract class "
                          f"{NewInstance.classname} in namespace {namespace}, which DMTF "
                          "DSP0004 forbids", ToleratedSchemaIssueWarning, 1)
        for name in NewInstance.properties:
            self._validate_property(name, NewInstance, creation_class, namespace, class_store)
        # the provider may change what it is given: a copy, with the property
        # names spelt as the class spells them. A registered provider gets a
        # deep copy (pywbem_mock's promise); the default writer stores a deep
        # copy of what it gets, so a shallow one (renamed properties copied)
        # keeps the caller's instance apart at half the cost.
        provider = self.provider_registry.get_registered_provider(
            namespace, "instance-write", NewInstance.classname)
        new_instance = deepcopy(NewInstance) if provider else NewInstance.copy()
        for name, prop in new_instance.properties.items():
            declared = creation_class.properties[name].name
            if prop.name != declared:
                if not provider:
                    prop = new_instance.properties[name] = prop.copy()
                prop.name = declared
        return (provider or self.default_instance_write_provider).CreateInstance(
            namespace, new_instance)


def profiles_dir() -> Path:
    """The mock's MOF folder (``profiles/`` in the repository, installed as the
    data package ``wbemconform.profiles``); ``WBEMCONFORM_PROFILES`` overrides."""
    env = os.environ.get("WBEMCONFORM_PROFILES")
    candidates = [Path(env)] if env else []
    candidates.append(Path(str(resources.files("wbemconform.profiles"))))
    for cand in candidates:
        if (cand / "schema" / "interop.mof").is_file():
            return cand
    raise FileNotFoundError(
        "cannot find the mock's MOF (schema/interop.mof) in "
        + ", ".join(str(c) for c in candidates)
        + "; the wbemconform installation is incomplete (reinstall it), or "
          "WBEMCONFORM_PROFILES names the wrong folder")


def default_profile_files():
    return sorted((profiles_dir() / "examples").glob("*.mof"))


class WmiMockConnection(FakedWBEMConnection):
    """FakedWBEMConnection whose server side is a :class:`WmiBroker`."""

    def __init__(self, providers=None, accept_remote_target_namespaces=False, base=None,
                 quirks=(), schema=None, dialect="wmi", snapshot=None, include_roots=None,
                 allow_include_outside=False, **kwargs):
        kwargs.setdefault("default_namespace", INTEROP_NAMESPACE)
        super().__init__(**kwargs)
        repo, registry = self._cimrepository, self._provider_registry
        if base is not None:
            # start from a copy of an already loaded schema: repository and
            # provider registry copied together, so the CIM_Namespace
            # provider in the copy serves the copied repository
            repo, registry = deepcopy((base._cimrepository, base._provider_registry))
        elif snapshot is not None:
            # a load taken from the cache (see snapshot()): the same pair
            repo, registry = snapshot["repository"], snapshot["registry"]
        self._cimrepository = repo
        self._provider_registry = registry
        #: whether this connection's load was taken from the cache
        self.from_cache = snapshot is not None
        self._providerdispatcher = _Dispatcher(repo, registry)
        self._mainprovider = WmiBroker(
            self.host, self.disable_pull_operations, self.cimrepository,
            self._providerdispatcher, providers,
            accept_remote_target_namespaces=accept_remote_target_namespaces, quirks=quirks,
            dialect=dialect)
        subset = profiles_dir() / "schema"
        self._schema_dir = subset
        #: the DMTF CIM schema given to connect(schema=...), or None (built-in subset)
        self.dmtf_schema = load_schema(schema) if schema is not None else None
        self._provisioned = set()
        include = [subset] if self.dmtf_schema is None else [self.dmtf_schema.mof_dir, subset]
        self._compiler = WmiMofCompiler(self, include_paths=include,
                                        ensure_namespace=self.ensure_namespace,
                                        dialect=dialect, schema=self.dmtf_schema,
                                        builtin_dirs=[subset], include_roots=include_roots,
                                        allow_include_outside=allow_include_outside)
        self._compiler.watch.add(BINDING_CLASS.lower())
        if base is not None:
            self._provisioned = set(base._provisioned)
            self._compiler.copy_state(base._compiler)
        elif snapshot is not None:
            self._provisioned = set(snapshot["provisioned"])
            self._compiler.restore(snapshot["compiler"])

    def snapshot(self):
        """Everything a load produced, as one picklable object: a
        WmiMockConnection(snapshot=...) built from it (with the same options)
        is this connection as it stands, with no Python provider created yet."""
        return {"repository": self._cimrepository, "registry": self._provider_registry,
                "compiler": self._compiler.state(), "provisioned": sorted(self._provisioned)}

    def sources(self):
        """{absolute path: SHA-256, or None for a file looked for and not
        there} of every file the loads so far read."""
        out = dict(self._compiler.sources)
        if self.dmtf_schema is not None:
            out.update(self.dmtf_schema.reads)
        return out

    @property
    def cacheable(self):
        """Whether a snapshot says all the load did: not when the load made
        Python providers (a dynamic instance in the MOF) or warned."""
        return not self.broker._provider_objects and \
            not getattr(self._providerdispatcher, "warned", False)

    @property
    def broker(self) -> WmiBroker:
        return self._mainprovider

    @property
    def dialect(self):
        return self._compiler.dialect

    @property
    def load_findings(self):
        """Conformance problems accepted while loading so that the target can be
        observed further (a remote MSFT_TargetNamespace, when the connection
        was opened with accept_remote_target_namespaces): MofLoadError each."""
        return list(self._compiler.findings)

    @property
    def load_warnings(self):
        """What the loaded MOF does that WMI accepts but is most likely a
        mistake (MofLoadWarning, ``file:line: warning: message``)."""
        return list(self._compiler.warnings)

    def check_load(self):
        """Checks only the whole load can make (a reference's class may be
        declared in a later file): adds load warnings, or raises
        MofLoadError in the DMTF dialect. connect() calls it."""
        check_declarations(self, self._compiler)

    # -- namespaces and MOF ------------------------------------------------

    def add_namespace(self, namespace, verbose=False):
        """pywbem_mock's add_namespace, at a cost that does not grow with the
        namespaces already there.

        pywbem_mock 1.9.1 creates each namespace through a fresh pywbem
        WBEMServer, which enumerates every CIM_Namespace instance (deep
        copies, twice) before and after creating one: a MOF that switches to
        N new namespaces cost O(N^2) (2,000 namespaces: minutes). Here what
        that WBEMServer finds -- the interop namespace, the namespace class,
        the object manager's keys -- is found once per connection, and each
        namespace is the same CreateInstance of the namespace class in the
        interop namespace that WBEMServer.create_namespace issues (its
        approach 2), with pywbem_mock's fallback when that fails."""
        template = self._namespace_template()
        if template is None:
            return super().add_namespace(namespace, verbose=verbose)
        interop, inst = template
        new = inst.copy()
        new["Name"] = namespace.strip("/")
        try:
            self.CreateInstance(new, namespace=interop)
        except CIMError:
            # as pywbem_mock does when its WBEMServer cannot create it
            self._mainprovider.add_namespace(namespace, verbose=verbose)
        return None

    def _namespace_template(self):
        """(interop namespace, CIM_Namespace instance without its Name) for
        add_namespace, or None where pywbem_mock's own way must be taken (no
        interop namespace, no namespace class instances to copy)."""
        interop = self.find_interop_namespace()
        if not interop:
            return None
        cached = getattr(self, "_ns_template", None)
        if cached is not None and cached[0] == interop:
            return cached[1:]
        try:
            server = WBEMServer(self)
            classname = server.namespace_classname
            if server.brand == "OpenPegasus" and classname == "CIM_Namespace":
                classname = "PG_Namespace"
            cimom = server.cimom_inst
        except (CIMError, ModelError):
            return None
        inst = CIMInstance(classname)
        if server.brand == "OpenPegasus":
            inst["SchemaUpdatesAllowed"] = True
        inst["Name"] = ""
        inst["CreationClassName"] = classname
        inst["ObjectManagerName"] = cimom["Name"]
        inst["ObjectManagerCreationClassName"] = cimom["CreationClassName"]
        inst["SystemName"] = cimom["SystemName"]
        inst["SystemCreationClassName"] = cimom["SystemCreationClassName"]
        self._ns_template = (interop, server.interop_ns, inst)
        return self._ns_template[1:]

    def ensure_namespace(self, namespace):
        """Create a namespace with WMI's system classes, as every WMI namespace has."""
        ns = namespace.strip("/")
        if ns.lower() in self._provisioned:
            return
        self._provisioned.add(ns.lower())
        if ns.lower() not in (n.lower() for n in self.namespaces):
            self.add_namespace(ns)
        for name in ("qualifiers.mof", "wmi_system.mof"):
            self._compiler.load_file(self._schema_dir / name, namespace=ns)
        self.broker.changed(ns)

    def class_exists_in(self, namespace, classname):
        """Whether a namespace has a class (a look, not a copy)."""
        try:
            return self.broker.class_exists(namespace, classname)
        except CIMError:
            return False

    def load_mof(self, path, namespace=None):
        """Compile a WMI-dialect MOF file; MofLoadError names file and line."""
        self._compiler.load_file(path, namespace=namespace)

    def load_mof_string(self, text, namespace=None, filename="<string>"):
        self._compiler.load_string(text, namespace=namespace, filename=filename)

    def compile_mof_file(self, mof_file, namespace=None, search_paths=None, verbose=None):
        self.load_mof(mof_file, namespace)

    def compile_mof_string(self, mof_str, namespace=None, search_paths=None, verbose=None):
        self.load_mof_string(mof_str, namespace)

    def add_cimobjects(self, objects, namespace=None):
        super().add_cimobjects(objects, namespace)
        self.broker.changed(namespace)

    def compile_schema_classes(self, class_names, schema_pragma_files=None, namespace=None,
                               verbose=False):
        """pywbem_mock's compile_schema_classes, through this mock's compiler;
        the pragma file defaults to the DMTF schema given to connect()."""
        if schema_pragma_files is None:
            if self.dmtf_schema is None:
                raise ValueError("no DMTF schema: give schema_pragma_files, or "
                                 "connect(schema=PATH)")
            schema_pragma_files = str(self.dmtf_schema.pragma_file)
        super().compile_schema_classes(class_names, schema_pragma_files,
                                       namespace=namespace, verbose=verbose)

    # -- writes: dynamic classes go to their provider ------------------------

    def _imeth_CreateInstance(self, namespace, **params):
        inst = params["NewInstance"]
        if self.broker.is_dynamic(namespace, inst.classname):
            path = self.broker.dynamic_write(namespace, "put", inst)
            if not isinstance(path, CIMInstanceName):
                path = inst.path
            return self._make_tuple([path])
        try:
            return super()._imeth_CreateInstance(namespace, **params)
        finally:
            self.broker.instance_written(namespace, inst.classname)

    def _imeth_ModifyInstance(self, namespace, **params):
        inst = params["ModifiedInstance"]
        if self.broker.is_dynamic(namespace, inst.classname):
            inst.path.namespace = namespace
            self.broker.dynamic_write(namespace, "put", inst)
            return None
        try:
            return super()._imeth_ModifyInstance(namespace, **params)
        finally:
            self.broker.instance_written(namespace, inst.classname)

    def _imeth_DeleteInstance(self, namespace, **params):
        path = params["InstanceName"]
        if self.broker.is_dynamic(namespace, path.classname):
            path.namespace = namespace
            self.broker.dynamic_write(namespace, "delete", path)
            return None
        try:
            return super()._imeth_DeleteInstance(namespace, **params)
        finally:
            self.broker.instance_written(namespace, path.classname)

    def _imeth_ExecQuery(self, namespace, **params):
        instances = self._mainprovider.ExecQuery(
            namespace=namespace, QueryLanguage=params["QueryLanguage"],
            Query=params["Query"])
        # pywbem's client reads (element name, attributes, object) triples here
        return self._make_tuple([("VALUE.OBJECTWITHPATH", {}, inst) for inst in instances])


def connect(mof_files=None, providers=None, accept_remote_target_namespaces=False,
            quirks=(), schema=None, dialect="wmi", cache=None, include_roots=None,
            allow_include_outside=False, **kwargs) -> WmiMockConnection:
    """A mock WBEM server loaded with the schema and profiles.

    Parameters:
      mof_files: None for the example profiles in ``profiles/examples``;
        otherwise the WMI-dialect MOF files to load (after the schema).
      providers: {provider Name: factory} for custom Python providers; any
        other provider Name bound to a CIM_ElementConformsToProfile subclass
        is served by the generic :class:`ConformsToProfileProvider`.
      accept_remote_target_namespaces: load a remote MSFT_TargetNamespace
        (using its namespace part) instead of failing; WMI rejects it, so
        this is only for observing a defective MOF further.
      quirks: names from ``wbemconform.mock.broker.QUIRKS``: deliberate
        CIMOM defects for negative controls (never for a real check).
      schema: a DMTF CIM schema release -- its zip
        (``cim_schema_2.41.0Final-MOFs.zip``) or the folder it unpacks to --
        to take classes from instead of the built-in subset: each namespace
        gets the classes the MOF needs, with their dependencies.
      dialect: ``"wmi"`` (default): undeclared qualifiers are accepted and a
        reference to a class that exists nowhere is a load warning, as WMI
        has it; ``"dmtf"``: both are errors (DSP0004).
      cache: where compiled loads are kept (:mod:`wbemconform.mock.cache`):
        None -- the environment decides (``WBEMCONFORM_CACHE``: a folder, or
        ``off``; by default ``$XDG_CACHE_HOME/wbemconform/mock-cache``);
        False -- no cache; a path -- that folder. A cached load is the same
        connection as a compiled one (classes, instances, load warnings and
        findings, options), its Python providers created afresh.
      include_roots: folders (and what is under them) ``#pragma include``
        may read, besides the including top-level file's folder tree and the
        schema folders; None: the current directory, unless it is ``/`` or
        the home directory or above it (:func:`wbemconform.mof.default_include_roots`).
        An include resolving elsewhere (``/etc/passwd``, ``../../x``, a
        symbolic link out) is a MofLoadError naming the line.
      allow_include_outside: True lets ``#pragma include`` read any file
        (as mofcomp does); an error in such a file never quotes its text.
      kwargs: passed to FakedWBEMConnection (e.g. ``timeout``).

    Raises MofLoadError (``file:line: message``) when a MOF file is wrong,
    SchemaError (a MofLoadError naming PATH) when ``schema`` is not a DMTF
    schema. ``conn.load_warnings`` lists what loaded but looks wrong.
    """
    dmtf = load_schema(schema) if schema is not None else None
    files = default_profile_files() if mof_files is None else [Path(f) for f in mof_files]
    if include_roots is None:
        include_roots = _mof.default_include_roots()
    options = dict(providers=providers,
                   accept_remote_target_namespaces=accept_remote_target_namespaces,
                   quirks=quirks, schema=dmtf, dialect=dialect,
                   include_roots=[os.path.realpath(d) for d in include_roots],
                   allow_include_outside=bool(allow_include_outside), **kwargs)
    store = open_cache(cache)
    keyed = store.key(files, profiles_dir(), dmtf, _cache_options(options)) \
        if store is not None else None
    if keyed is not None:
        snapshot = store.load(*keyed)
        if snapshot is not None:
            return WmiMockConnection(snapshot=snapshot, **options)
    with gc_paused():
        conn = WmiMockConnection(base=_schema_connection(str(profiles_dir()), dmtf), **options)
        for path in files:
            conn.load_mof(path, namespace=DEFAULT_NAMESPACE)
        conn.check_load()
    if keyed is not None and conn.cacheable:
        store.store(keyed[0], conn.sources(), conn.snapshot())
    return conn


def _cache_options(options):
    """The connect() options in a cache key: what can change a load."""
    out = {}
    for name, value in options.items():
        if name == "schema":
            continue  # keyed by its files
        if name == "providers":
            value = sorted((str(k).lower(), f"{getattr(v, '__module__', '')}."
                                             f"{getattr(v, '__qualname__', type(v).__name__)}")
                           for k, v in (value or {}).items())
        elif name == "quirks":
            value = sorted(value or ())
        else:
            value = repr(value)
        out[name] = value
    out["limits"] = [_mof.MAX_INCLUDE_DEPTH, _mof.MAX_MOF_BYTES, _mof.MAX_NAMESPACES]
    return out


@lru_cache(maxsize=4)
def _schema_connection(profiles, dmtf=None):
    """A connection with the schema only, built once per process (per schema)
    and copied by every connect(): compiling the schema is most of a
    connect's cost."""
    conn = WmiMockConnection(schema=dmtf)
    schema = Path(profiles) / "schema"
    conn.ensure_namespace(INTEROP_NAMESPACE)
    if dmtf is None:
        conn.load_mof(schema / "interop.mof", namespace=INTEROP_NAMESPACE)
    else:
        conn.compile_schema_classes(list(INTEROP_SCHEMA_CLASSES), namespace=INTEROP_NAMESPACE)
    conn.load_mof(schema / "wbemconform.mof", namespace=INTEROP_NAMESPACE)
    # pywbem_mock's CIM_Namespace provider: namespaces become CIM_Namespace
    # instances, so pywbem's WBEMServer discovers them as on a real server.
    conn.install_namespace_provider(INTEROP_NAMESPACE)
    conn.load_mof(schema / "object_manager.mof", namespace=INTEROP_NAMESPACE)
    conn.ensure_namespace(CIMV2_NAMESPACE)
    if dmtf is None:
        conn.load_mof(schema / "interop.mof", namespace=CIMV2_NAMESPACE)
        conn.load_mof(schema / "cimv2.mof", namespace=CIMV2_NAMESPACE)
    return conn
