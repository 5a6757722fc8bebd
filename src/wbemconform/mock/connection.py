"""The mock's connection: a pywbem ``WBEMConnection``-compatible object whose
server side is the WMI broker (:mod:`wbemconform.mock.broker`), with the MOF
compiler (:mod:`wbemconform.mof`) that loads it."""

from __future__ import annotations

from copy import deepcopy

from pywbem import CIMError, CIMInstance, CIMInstanceName, ModelError, WBEMServer

from ..mof import WmiMofCompiler
from .broker import WmiBroker
from .checks import check_declarations
from .dispatcher import Dispatcher
from .dmtf import load_schema
from .faked import FakedConnectionAdapter
from .layout import INTEROP_NAMESPACE, profiles_dir
from .providers import BINDING_CLASS

__all__ = ["WmiMockConnection"]


class WmiMockConnection(FakedConnectionAdapter):
    """FakedWBEMConnection whose server side is a :class:`WmiBroker`."""

    def __init__(self, providers=None, accept_remote_target_namespaces=False, base=None,
                 quirks=(), schema=None, dialect="wmi", snapshot=None, include_roots=None,
                 allow_include_outside=False, **kwargs):
        kwargs.setdefault("default_namespace", INTEROP_NAMESPACE)
        super().__init__(**kwargs)
        repo, registry = self.server_side()
        if base is not None:
            # start from a copy of an already loaded schema: repository and
            # provider registry copied together, so the CIM_Namespace
            # provider in the copy serves the copied repository
            repo, registry = deepcopy(base.server_side())
        elif snapshot is not None:
            # a load taken from the cache (see snapshot()): the same pair
            repo, registry = snapshot["repository"], snapshot["registry"]
        #: whether this connection's load was taken from the cache
        self.from_cache = snapshot is not None
        self.install_server_side(repo, registry, Dispatcher, lambda dispatcher: WmiBroker(
            self.host, self.disable_pull_operations, repo, dispatcher, providers,
            accept_remote_target_namespaces=accept_remote_target_namespaces, quirks=quirks,
            dialect=dialect))
        self.provider_dispatcher.broker = self.broker
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
        repo, registry = self.server_side()
        return {"repository": repo, "registry": registry,
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
        return not self.broker.providers_made and \
            not getattr(self.provider_dispatcher, "warned", False)

    @property
    def broker(self) -> WmiBroker:
        return self.main_provider

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
            self.main_provider.add_namespace(namespace, verbose=verbose)
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

    def create_instance(self, namespace, params, default):
        inst = params["NewInstance"]
        if self.broker.is_dynamic(namespace, inst.classname):
            path = self.broker.dynamic_write(namespace, "put", inst)
            if not isinstance(path, CIMInstanceName):
                path = inst.path
            return self.operation_result([path])
        try:
            return default(namespace, **params)
        finally:
            self.broker.instance_written(namespace, inst.classname)

    def modify_instance(self, namespace, params, default):
        inst = params["ModifiedInstance"]
        if self.broker.is_dynamic(namespace, inst.classname):
            inst.path.namespace = namespace
            self.broker.dynamic_write(namespace, "put", inst)
            return None
        try:
            return default(namespace, **params)
        finally:
            self.broker.instance_written(namespace, inst.classname)

    def delete_instance(self, namespace, params, default):
        path = params["InstanceName"]
        if self.broker.is_dynamic(namespace, path.classname):
            path.namespace = namespace
            self.broker.dynamic_write(namespace, "delete", path)
            return None
        try:
            return default(namespace, **params)
        finally:
            self.broker.instance_written(namespace, path.classname)

    def exec_query(self, namespace, params):
        instances = self.broker.ExecQuery(
            namespace=namespace, QueryLanguage=params["QueryLanguage"],
            Query=params["Query"])
        # pywbem's client reads (element name, attributes, object) triples here
        return self.operation_result([("VALUE.OBJECTWITHPATH", {}, inst)
                                      for inst in instances])
