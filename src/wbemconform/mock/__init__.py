"""The embedded WMI-style interop mock.

``connect()`` returns a pywbem ``WBEMConnection``-compatible object backed by
pywbem_mock, loaded with the interop schema, the WMI system classes and
either the example profiles or MOF files of your own, in the WMI dialect the
spec shows. See :mod:`wbemconform.mock.broker` for what it adds to
pywbem_mock.
"""

from __future__ import annotations

import os
from copy import deepcopy
from functools import lru_cache
from pathlib import Path

from pywbem import CIMInstanceName
from pywbem_mock import FakedWBEMConnection
from pywbem_mock._providerdispatcher import ProviderDispatcher

from ..mof import DEFAULT_NAMESPACE, MofLoadError, WmiMofCompiler
from .broker import Registration, WmiBroker
from .providers import ConformsToProfileProvider, InstanceProvider, ProviderServices

__all__ = ["connect", "WmiMockConnection", "MofLoadError", "profiles_dir",
           "default_profile_files", "InstanceProvider", "ConformsToProfileProvider",
           "ProviderServices", "Registration", "INTEROP_NAMESPACE", "CIMV2_NAMESPACE"]

INTEROP_NAMESPACE = "root/interop"
CIMV2_NAMESPACE = "root/cimv2"


def profiles_dir() -> Path:
    """The project's ``profiles/`` folder (``WBEMCONFORM_PROFILES`` overrides)."""
    env = os.environ.get("WBEMCONFORM_PROFILES")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "profiles")
    for cand in candidates:
        if (cand / "schema" / "interop.mof").is_file():
            return cand
    raise FileNotFoundError(
        "cannot find the profiles folder (schema/interop.mof) in "
        + ", ".join(str(c) for c in candidates)
        + "; install wbemconform from its source tree (pip install -e .) "
          "or set WBEMCONFORM_PROFILES")


def default_profile_files():
    return sorted((profiles_dir() / "examples").glob("*.mof"))


class WmiMockConnection(FakedWBEMConnection):
    """FakedWBEMConnection whose server side is a :class:`WmiBroker`."""

    def __init__(self, providers=None, accept_remote_target_namespaces=False, base=None,
                 quirks=(), **kwargs):
        kwargs.setdefault("default_namespace", INTEROP_NAMESPACE)
        super().__init__(**kwargs)
        if base is not None:
            # start from a copy of an already loaded schema: repository and
            # provider registry copied together, so the CIM_Namespace
            # provider in the copy serves the copied repository
            repo, registry = deepcopy((base._cimrepository, base._provider_registry))
            self._cimrepository = repo
            self._provider_registry = registry
            self._providerdispatcher = ProviderDispatcher(repo, registry)
        self._mainprovider = WmiBroker(
            self.host, self.disable_pull_operations, self.cimrepository,
            self._providerdispatcher, providers,
            accept_remote_target_namespaces=accept_remote_target_namespaces, quirks=quirks)
        schema = profiles_dir() / "schema"
        self._schema_dir = schema
        self._provisioned = set()
        self._compiler = WmiMofCompiler(self, include_paths=[schema],
                                        ensure_namespace=self.ensure_namespace)
        if base is not None:
            self._provisioned = set(base._provisioned)
            self._compiler._compiled = set(base._compiler._compiled)

    @property
    def broker(self) -> WmiBroker:
        return self._mainprovider

    # -- namespaces and MOF ------------------------------------------------

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
            self.broker.changed(namespace, classes=False)

    def _imeth_ModifyInstance(self, namespace, **params):
        inst = params["ModifiedInstance"]
        if self.broker.is_dynamic(namespace, inst.classname):
            inst.path.namespace = namespace
            self.broker.dynamic_write(namespace, "put", inst)
            return None
        try:
            return super()._imeth_ModifyInstance(namespace, **params)
        finally:
            self.broker.changed(namespace, classes=False)

    def _imeth_DeleteInstance(self, namespace, **params):
        path = params["InstanceName"]
        if self.broker.is_dynamic(namespace, path.classname):
            path.namespace = namespace
            self.broker.dynamic_write(namespace, "delete", path)
            return None
        try:
            return super()._imeth_DeleteInstance(namespace, **params)
        finally:
            self.broker.changed(namespace, classes=False)

    def _imeth_ExecQuery(self, namespace, **params):
        instances = self._mainprovider.ExecQuery(
            namespace=namespace, QueryLanguage=params["QueryLanguage"],
            Query=params["Query"])
        # pywbem's client reads (element name, attributes, object) triples here
        return self._make_tuple([("VALUE.OBJECTWITHPATH", {}, inst) for inst in instances])


def connect(mof_files=None, providers=None, accept_remote_target_namespaces=False,
            quirks=(), **kwargs) -> WmiMockConnection:
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
      kwargs: passed to FakedWBEMConnection (e.g. ``timeout``).

    Raises MofLoadError (``file:line: message``) when a MOF file is wrong.
    """
    conn = WmiMockConnection(providers=providers,
                             accept_remote_target_namespaces=accept_remote_target_namespaces,
                             base=_schema_connection(str(profiles_dir())), quirks=quirks,
                             **kwargs)
    files = default_profile_files() if mof_files is None else [Path(f) for f in mof_files]
    for path in files:
        conn.load_mof(path, namespace=DEFAULT_NAMESPACE)
    return conn


@lru_cache(maxsize=2)
def _schema_connection(profiles):
    """A connection with the schema only, built once per process and copied
    by every connect(): compiling the schema is most of a connect's cost."""
    conn = WmiMockConnection()
    schema = Path(profiles) / "schema"
    conn.ensure_namespace(INTEROP_NAMESPACE)
    conn.load_mof(schema / "interop.mof", namespace=INTEROP_NAMESPACE)
    # pywbem_mock's CIM_Namespace provider: namespaces become CIM_Namespace
    # instances, so pywbem's WBEMServer discovers them as on a real server.
    conn.install_namespace_provider(INTEROP_NAMESPACE)
    conn.load_mof(schema / "object_manager.mof", namespace=INTEROP_NAMESPACE)
    conn.ensure_namespace(CIMV2_NAMESPACE)
    conn.load_mof(schema / "interop.mof", namespace=CIMV2_NAMESPACE)
    conn.load_mof(schema / "cimv2.mof", namespace=CIMV2_NAMESPACE)
    return conn
