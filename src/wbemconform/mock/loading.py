"""``connect()``: a mock loaded with the schema and the MOF given, taken from
the cache of compiled loads (:mod:`wbemconform.mock.cache`) when the same
load was compiled before."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..mof import default_include_roots
from ..mof import limits as mof_limits
from .cache import gc_paused, open_cache
from .connection import WmiMockConnection
from .dmtf import load_schema
from .layout import (CIMV2_NAMESPACE, INTEROP_NAMESPACE, INTEROP_SCHEMA_CLASSES,
                     default_profile_files, interop_namespace_of, profiles_dir)

__all__ = ["connect"]


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
        include_roots = default_include_roots()
    # the interop namespace the MOF names (DSP1033 1.1's "interop", say);
    # MOF before any namespace pragma goes there too
    interop = interop_namespace_of(files, include_roots, allow_include_outside)
    kwargs.setdefault("default_namespace", interop)
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
        conn = WmiMockConnection(base=_schema_connection(str(profiles_dir()), dmtf, interop),
                                 **options)
        for path in files:
            conn.load_mof(path, namespace=interop)
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
    out["limits"] = [mof_limits.MAX_INCLUDE_DEPTH, mof_limits.MAX_MOF_BYTES,
                     mof_limits.MAX_NAMESPACES]
    return out


@lru_cache(maxsize=4)
def _schema_connection(profiles, dmtf=None, interop=INTEROP_NAMESPACE):
    """A connection with the schema only, its interop namespace named
    ``interop``, built once per process (per schema and interop name) and
    copied by every connect(): compiling the schema is most of a connect's
    cost."""
    conn = WmiMockConnection(schema=dmtf, default_namespace=interop)
    schema = Path(profiles) / "schema"
    conn.ensure_namespace(interop)
    if dmtf is None:
        conn.load_mof(schema / "interop.mof", namespace=interop)
    else:
        conn.compile_schema_classes(list(INTEROP_SCHEMA_CLASSES), namespace=interop)
    conn.load_mof(schema / "wbemconform.mof", namespace=interop)
    # pywbem_mock's CIM_Namespace provider: namespaces become CIM_Namespace
    # instances, so pywbem's WBEMServer discovers them as on a real server.
    conn.install_namespace_provider(interop)
    conn.load_mof(schema / "object_manager.mof", namespace=interop)
    conn.ensure_namespace(CIMV2_NAMESPACE)
    if dmtf is None:
        conn.load_mof(schema / "interop.mof", namespace=CIMV2_NAMESPACE)
        conn.load_mof(schema / "cimv2.mof", namespace=CIMV2_NAMESPACE)
    return conn
